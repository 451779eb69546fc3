"""The sign form says what it needs and what becomes public, before anyone submits: each field
marked required or optional, no colon after a label, the comment's limit said (and counted,
not cut by the browser), what "Show my name on the public list" shows, which is what the list
then shows. A submit with a problem comes back at the form, summarised, with everything kept.
Country names are those people use, and the public list orders countries by their names in
the page's language. The privacy notice names the data controller and a contact."""

import re
from html import unescape

import pytest
from django.core import mail
from django_countries import countries

from statements import selectors
from tests.factories import OrganisationFactory
from tests.statements.test_signing import INDIVIDUAL, links, path_of, sign

LABEL = re.compile(r'<label for="([^"]+)">(.*?)</label>', re.S)


def _labels(body: str) -> dict[str, str]:
    """Each field's label text, by the id of its input (the hidden honeypot left out)."""
    form = body.split('<form method="post"', 1)[1].split("</form>", 1)[0]
    found = {
        field: unescape(re.sub(r"<[^>]+>", "", text)).strip() for field, text in LABEL.findall(form)
    }
    return {field: text for field, text in found.items() if not field.endswith("nickname")}


def _input(body: str, field: str) -> str:
    return re.search(rf'<(?:input|select|textarea)[^>]*id="{field}"[^>]*>', body).group(0)


@pytest.mark.parametrize("path", ["/en/", "/en/?as=organisation"])
def test_every_field_is_marked_required_or_optional_and_no_label_ends_in_a_colon(
    client, statement, path
):
    body = client.get(path).content.decode()
    labels = _labels(body)
    assert len(labels) >= 8
    for field, text in labels.items():
        required = " required" in _input(body, field)
        assert text.endswith("(required)" if required else "(optional)"), (field, text)
        assert (
            not text.removesuffix("(required)").removesuffix("(optional)").strip().endswith(":")
        ), text
    assert "Fields marked “(optional)” may be left empty" in body


def test_the_checkbox_labels_carry_no_colon(client, statement):
    labels = _labels(client.get("/en/").content.decode())
    assert labels["id_individual-show_publicly"] == (
        "Show my name on the public list of signatories (optional)"
    )
    assert labels["id_individual-wants_updates"] == (
        "Send me news about this campaign by email (optional)"
    )
    assert labels["id_individual-consent"].endswith("as it says. (required)")


def test_the_comments_limit_is_said_before_it_bites_and_the_browser_cuts_nothing(client, statement):
    body = client.get("/en/").content.decode()
    comment = _input(body, "id_individual-comment")
    assert "maxlength" not in comment
    assert (
        'aria-describedby="id_individual-comment_helptext id_individual-comment_counter"' in comment
    )
    assert "Up to 500 characters." in body
    # The live counter, filled in by static/js/signing.js, hidden without it.
    counter = re.search(r'<p class="counter"[^>]*>', body).group(0)
    assert 'data-counter-for="id_individual-comment"' in counter
    assert 'data-limit="500"' in counter and counter.endswith(" hidden>")


def test_a_comment_too_long_is_refused_and_kept_whole(client, statement):
    long = ("Solidarity with the workers of Zhanaozen! " * 15).strip()  # 629 characters
    response = sign(client, {**INDIVIDUAL, "individual-comment": long})
    assert response.status_code == 400
    body = unescape(response.content.decode())
    assert "Ensure this value has at most 500 characters (it has 629)." in body
    assert long in body


def test_a_submit_with_problems_lands_on_a_focusable_summary_with_everything_kept(
    client, statement
):
    body = client.get("/en/").content.decode()
    assert 'action="/en/s/kazakhstan-2022/sign/#sign-problem"' in body
    wrong = {**INDIVIDUAL, "individual-email": "aigerim@", "individual-consent": ""}
    response = sign(client, wrong)
    assert response.status_code == 400
    body = response.content.decode()
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', body, re.S)
    assert 'id="sign-problem" tabindex="-1" role="alert"' in summary.group(0)
    assert '<a href="#id_individual-email">Email: Enter a valid email address.</a>' in body
    assert '<a href="#id_individual-consent">Please agree to the privacy notice to sign.</a>' in (
        body
    )
    # Everything typed is there again.
    for name in ("full_name", "city", "affiliation", "comment"):
        assert unescape(INDIVIDUAL[f"individual-{name}"]) in unescape(body), name
    assert 'value="aigerim@"' in body
    assert re.search(r'<option value="KZ" selected>', body)
    assert re.search(r'<input type="checkbox" name="individual-show_publicly"[^>]* checked', body)
    # The error explains its field to screen readers.
    assert 'aria-describedby="id_individual-email_errors id_individual-email_helptext"' in body


def test_the_too_many_attempts_notice_takes_the_summarys_place(client, statement, settings):
    settings.SIGN_RATE_IP_BURST = "0/m"
    body = sign(client, INDIVIDUAL).content.decode()
    assert re.search(
        r'<p class="notice" id="sign-problem" tabindex="-1" role="alert">Too many', body
    )


def test_show_my_name_says_what_the_public_list_shows_and_it_shows_that(
    client, statement, django_capture_on_commit_callbacks
):
    body = client.get("/en/").content.decode()
    assert (
        "The list shows your name, affiliation, city and country. Your email address and your "
        "comment are never published."
    ) in unescape(body)
    with django_capture_on_commit_callbacks(execute=True):
        sign(client, INDIVIDUAL)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path_of(links(mail.outbox[0])["confirm"]))
    listed = unescape(client.get("/en/s/kazakhstan-2022/signatories/").content.decode())
    entry = re.search(r"<li><strong>Айгерим Сейткали</strong>.*?</li>", listed, re.S).group(0)
    for shown in ("Oil workers' union", "Алматы", "Kazakhstan"):
        assert shown in entry
    assert INDIVIDUAL["individual-comment"] not in listed
    assert INDIVIDUAL["individual-email"] not in listed


def test_the_organisation_form_says_what_is_published(client, statement):
    body = unescape(client.get("/en/?as=organisation").content.decode())
    assert "the public list shows the organisation's name, type, city, country and website" in body
    assert "The contact person's name, role and email address are never published." in body


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["Argentina", "Germany", "Spain"]),
        ("es", ["Alemania", "Argentina", "España"]),
        ("ru", ["Аргентина", "Германия", "Испания"]),
    ],
)
def test_countries_on_the_public_list_follow_their_names_in_the_pages_language(
    client, statement, language, expected
):
    for code in ("ES", "DE", "AR"):
        OrganisationFactory(statement=statement, country=code)
    body = client.get(f"/{language}/s/kazakhstan-2022/signatories/").content.decode()
    assert re.findall(r"<h3>([^<]+)</h3>", body) == expected


def test_pages_of_organisations_follow_the_names_across_page_breaks(statement):
    """The list page reads a page of organisations without ordering every row by name: its
    pages, joined, are the whole list in the order of the countries' names."""
    from django.utils import translation

    for code, many in (("ES", 3), ("DE", 4), ("AR", 2), ("KZ", 5), ("BS", 1)):
        OrganisationFactory.create_batch(many, statement=statement, country=code)
    organisations = selectors.public_organisations(statement)
    with translation.override("es"):
        names = {code: str(name) for code, name in countries}
        expected = sorted(organisations, key=lambda o: (names[o.country.code], o.organisation_name))
    for per_page in (1, 2, 4, 6, 15, 20):
        seen, number, more = [], 1, True
        while more:
            rows, more = selectors.page_of_organisations(
                organisations, number, per_page, language="es"
            )
            assert len(rows) == per_page or not more
            seen += rows
            number += 1
        assert [o.pk for o in seen] == [o.pk for o in expected], per_page
    assert selectors.page_of_organisations(organisations, 99, 4, language="es") == ([], False)


@pytest.mark.parametrize(
    ("code", "name", "odd"), [("BS", "Bahamas", "Bahamas (The)"), ("NR", "Nauru", "Naoero")]
)
def test_country_names_are_the_ones_people_use(client, statement, code, name, odd):
    OrganisationFactory(statement=statement, country=code)
    form = client.get("/en/").content.decode()
    assert f'<option value="{code}">{name}</option>' in form
    listed = client.get("/en/s/kazakhstan-2022/signatories/").content.decode()
    assert f"<h3>{name}</h3>" in listed
    assert odd not in form + listed


def test_the_privacy_notice_names_the_controller_and_a_contact(client, db, settings):
    settings.DATA_CONTROLLER = "Liga Internacional Socialista"
    settings.CONTACT_EMAIL = "datos@petition.example.org"
    body = client.get("/en/privacy/").content.decode()
    assert "Liga Internacional Socialista is responsible for this data" in body
    assert '<a href="mailto:datos@petition.example.org">datos@petition.example.org</a>' in body
    assert "Comments are never published." in body
