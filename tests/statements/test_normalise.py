import string

from hypothesis import given
from hypothesis import strategies as st

from statements.normalise import clean_text, email_key, has_forbidden_characters, name_key

local_chars = st.text(
    alphabet=string.ascii_lowercase + string.digits + "._", min_size=1, max_size=20
)
domains = st.sampled_from(["example.org", "gmail.com", "mail.ru", "yandex.ru", "proton.me"])


@given(local=local_chars, domain=domains, tag=st.text(alphabet=string.ascii_letters, max_size=10))
def test_case_and_tag_never_change_the_key(local, domain, tag):
    base = email_key(f"{local}@{domain}")
    assert email_key(f"{local.upper()}+{tag}@{domain.upper()}") == base
    assert email_key(f"  {local}@{domain} ") == base


@given(local=st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=15), data=st.data())
def test_gmail_dots_and_alias_domain_are_ignored(local, data):
    position = data.draw(st.integers(min_value=1, max_value=len(local) - 1))
    dotted = local[:position] + "." + local[position:]
    assert email_key(f"{dotted}@googlemail.com") == email_key(f"{local}@gmail.com")


@given(local=local_chars, domain=st.sampled_from(["example.org", "outlook.com"]))
def test_dots_matter_elsewhere(local, domain):
    if "." not in local.strip("."):
        return
    assert email_key(f"{local}@{domain}") != email_key(f"{local.replace('.', '')}@{domain}")


def test_key_is_idempotent():
    for address in ["A.B+x@GMail.com", "Иван@пример.рф", "x@ya.ru", "weird@@example.org"]:
        assert email_key(email_key(address)) == email_key(address)


def test_yandex_domains_share_one_mailbox():
    assert email_key("ivan.petrov@ya.ru") == email_key("Ivan-Petrov@yandex.kz")


@given(st.text())
def test_clean_text_is_stable(value):
    assert clean_text(clean_text(value)) == clean_text(value)


def test_any_script_is_accepted_but_not_control_characters():
    for name in ["Жанна Сейтқали", "Ерлан Қасымов", "محمد", "李雷", "Zoë O'Brien-Núñez"]:
        assert not has_forbidden_characters(name)
    assert has_forbidden_characters("Bad\x00name")
    assert has_forbidden_characters("Bad\x1bname")
    assert has_forbidden_characters("evil\u202enoitcerid")
    assert has_forbidden_characters("two\nlines")
    assert not has_forbidden_characters("two\nlines", multiline=True)


def test_organisation_names_compare_loosely():
    assert name_key("  Sindicato  de Trabajadores, S.A. ") == name_key(
        "sindicato de trabajadores sa"
    )
    assert name_key("Профсоюз «Единство»") == name_key("профсоюз единство")


def test_search_text_drops_what_a_database_refuses():
    from statements.normalise import search_text

    assert search_text("  Union\x00 of\tminers ") == "Union of miners"
    assert search_text("\x00" * 5) == ""
    assert len(search_text("x" * 500)) == 100
