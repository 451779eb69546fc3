import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from statements.models import Signature


def url(name: str, language: str = "en", **kwargs) -> str:
    """A public page's address in a language (English unless a test asks for another)."""
    with translation.override(language):
        return reverse(name, kwargs=kwargs)


SIGN_URL = url("statements:sign", slug="kazakhstan-2022")
COUNTS_URL = "/api/statements/kazakhstan-2022/counts.json"

INDIVIDUAL = {
    "kind": "individual",
    "individual-full_name": "Айгерим Сейткали",
    "individual-email": "aigerim@example.org",
    "individual-country": "KZ",
    "individual-city": "Алматы",
    "individual-affiliation": "Oil workers' union",
    "individual-comment": "Solidarity!",
    "individual-show_publicly": "on",
    "individual-consent": "on",
}

ORGANISATION = {
    "kind": "organisation",
    "organisation-organisation_name": "Sindicato de Trabajadores Petroleros",
    "organisation-organisation_type": "trade_union",
    "organisation-country": "AR",
    "organisation-city": "Neuquén",
    "organisation-website": "https://sindicato.example.org",
    "organisation-full_name": "María López",
    "organisation-contact_role": "Secretaria general",
    "organisation-email": "contacto@sindicato.example.org",
    "organisation-comment": "",
    "organisation-authorised": "on",
    "organisation-consent": "on",
}


def sign(client, data, **extra):
    return client.post(SIGN_URL, data, **extra)


def links(message) -> dict[str, str]:
    body = message.body
    return {
        "confirm": re.search(r"https?://\S+/confirm/\S+/", body).group(0),
        "withdraw": re.search(r"https?://\S+/withdraw/\S+/", body).group(0),
    }


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def thanks_seen(client, response, typed: str) -> str:
    """The thanks page a sign POST led to, as its signer sees it, with the address they typed
    and the page's own signed value (which holds it, and the time) put aside: what must be
    the same for a first signature and a repeated one."""
    assert response.status_code == 302
    path, _, query = response["Location"].partition("?t=")
    assert path.endswith("/thanks/") and query
    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert typed in body
    token = re.search(r'name="t" value="([^"]+)"', body).group(1)
    return path + body.replace(token, "<value>").replace(typed, "<address>")


@pytest.fixture
def signed(client, statement, django_capture_on_commit_callbacks):
    """An individual who has signed and received the confirmation email."""
    with django_capture_on_commit_callbacks(execute=True):
        response = sign(client, INDIVIDUAL)
    assert response.status_code == 302
    return Signature.objects.get(), links(mail.outbox[-1])


def test_individual_signs_and_receives_a_multipart_confirmation(
    client, statement, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign(client, INDIVIDUAL)
    assert response.status_code == 302
    assert response["Location"].startswith("/en/s/kazakhstan-2022/thanks/?t=")
    signature = Signature.objects.get()
    assert signature.state == Signature.State.PENDING
    assert signature.full_name == "Айгерим Сейткали"
    assert signature.language == "en"
    assert signature.consent_version and signature.consent_at
    assert signature.ip_hash and "127.0.0.1" not in signature.ip_hash
    assert signature.emails.get().state == "sent"
    (message,) = mail.outbox
    assert message.to == ["aigerim@example.org"]
    assert message.subject == "Please confirm your signature"
    html = message.alternatives[0][0]
    # The links open the pages in the language the signer signed in.
    assert "/en/confirm/" in message.body and "/en/confirm/" in html
    assert "/en/withdraw/" in message.body


def test_email_follows_the_signers_language(client, statement, django_capture_on_commit_callbacks):
    # The language is the page's, whatever the browser prefers.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("statements:sign", "ru", slug=statement.slug), INDIVIDUAL)
    assert Signature.objects.get().language == "ru"
    assert "Прекратить репрессии" in mail.outbox[0].body  # the statement's Russian title
    assert re.search(r"https?://\S+/ru/confirm/\S+/", mail.outbox[0].body)


def test_organisation_signs_and_waits_for_moderation(
    client, statement, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign(client, ORGANISATION)
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.kind == Signature.Kind.ORGANISATION
    assert signature.authorised and signature.organisation_type == "trade_union"
    confirm = path_of(links(mail.outbox[0])["confirm"])
    client.post(confirm)
    signature.refresh_from_db()
    assert signature.state == Signature.State.AWAITING_MODERATION
    assert client.get(f"/api/statements/{statement.slug}/counts.json").json()["organisations"] == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("individual-full_name", "", "This field is required."),
        ("individual-full_name", "x" * 201, "at most 200 characters"),
        ("individual-full_name", "Evil\x1bName", "control characters"),
        ("individual-email", "not-an-email", "valid email"),
        ("individual-email", "", "This field is required."),
        ("individual-country", "XX", "valid choice"),
        ("individual-country", "", "This field is required."),
        ("individual-city", "c" * 101, "at most 100 characters"),
        ("individual-affiliation", "a" * 201, "at most 200 characters"),
        ("individual-comment", "c" * 501, "at most 500 characters"),
        ("individual-consent", "", "agree to the privacy notice"),
    ],
)
def test_individual_field_errors_keep_the_form_filled(client, statement, field, value, message):
    data = {**INDIVIDUAL, field: value}
    response = sign(client, data)
    assert response.status_code == 400
    form = response.context["form"]
    assert message in " ".join(form.errors[field.split("-", 1)[1]])
    body = response.content.decode()
    for kept in ("individual-email", "individual-city"):
        if kept != field and data[kept]:
            assert f'value="{data[kept]}"' in body
    assert Signature.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("organisation-organisation_name", "", "This field is required."),
        ("organisation-organisation_type", "church", "valid choice"),
        ("organisation-website", "javascript:alert(1)", "valid URL"),
        ("organisation-website", "ftp://example.org", "https://"),
        ("organisation-contact_role", "", "This field is required."),
        ("organisation-authorised", "", "authorised by the organisation"),
        ("organisation-comment", "m" * 501, "at most 500 characters"),
    ],
)
def test_organisation_field_errors(client, statement, field, value, message):
    response = sign(client, {**ORGANISATION, field: value})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field.split("-", 1)[1]])
    # The form comes back filled in with what was sent.
    page = response.content.decode()
    assert 'value="contacto@sindicato.example.org"' in page
    if field != "organisation-organisation_name":
        assert 'value="Sindicato de Trabajadores Petroleros"' in page
    assert Signature.objects.count() == 0


def test_errors_are_translated(client, statement):
    response = client.post(
        url("statements:sign", "es", slug=statement.slug),
        {**INDIVIDUAL, "individual-full_name": ""},
    )
    assert "Este campo es obligatorio." in response.content.decode()


def test_any_script_is_stored_as_typed(client, statement):
    for index, name in enumerate(["Ерлан Қасымов", "محمد الأحمد", "李雷", "Zoë Núñez"]):
        data = {**INDIVIDUAL, "individual-full_name": name}
        data["individual-email"] = f"person{index}@example.org"
        assert sign(client, data).status_code == 302
    assert sorted(Signature.objects.values_list("full_name", flat=True)) == sorted(
        ["Ерлан Қасымов", "محمد الأحمد", "李雷", "Zoë Núñez"]
    )


def test_duplicate_gets_the_same_page_and_an_already_signed_email(
    client, statement, django_capture_on_commit_callbacks, settings
):
    settings.SIGN_RATE_EMAIL = "100/h"
    with django_capture_on_commit_callbacks(execute=True):
        first = sign(client, INDIVIDUAL)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path_of(links(mail.outbox[0])["confirm"]))
    alias = {**INDIVIDUAL, "individual-email": "Aigerim+petition@Example.org"}
    with django_capture_on_commit_callbacks(execute=True):
        second = sign(client, alias)
    assert first.status_code == second.status_code == 302
    assert thanks_seen(client, first, "aigerim@example.org") == thanks_seen(
        client, second, "Aigerim+petition@Example.org"
    )
    assert Signature.objects.count() == 1
    assert [m.subject for m in mail.outbox] == [
        "Please confirm your signature",
        "You have already signed",
    ]


def test_signing_again_before_confirming_sends_a_fresh_link(
    client, statement, django_capture_on_commit_callbacks, settings
):
    settings.SIGN_RATE_EMAIL = "100/h"
    with django_capture_on_commit_callbacks(execute=True):
        first = sign(client, INDIVIDUAL)
    with django_capture_on_commit_callbacks(execute=True):
        second = sign(client, INDIVIDUAL)
    assert first.status_code == second.status_code == 302
    typed = INDIVIDUAL["individual-email"]
    assert thanks_seen(client, first, typed) == thanks_seen(client, second, typed)
    assert Signature.objects.count() == 1
    assert [m.subject for m in mail.outbox] == ["Please confirm your signature"] * 2
    old, new = (links(m)["confirm"] for m in mail.outbox)
    assert client.post(path_of(old)).status_code == 404  # a link confirms what it was sent for
    assert client.post(path_of(new)).status_code == 200


def test_already_signed_emails_are_capped(
    client, statement, django_capture_on_commit_callbacks, settings
):
    settings.SIGN_RATE_EMAIL = settings.SIGN_RATE_IP_BURST = "100/h"
    settings.SIGNATURE_MAX_EMAILS = 3
    for _ in range(6):
        with django_capture_on_commit_callbacks(execute=True):
            assert sign(client, INDIVIDUAL).status_code == 302
    assert len(mail.outbox) == 3
    # Every submission wrote its outbox row (the same work), those past the cap cancelled.
    emails = Signature.objects.get().emails
    assert emails.filter(state="sent").count() == 3
    assert emails.filter(state="cancelled").count() == 3


def test_same_organisation_twice_from_another_address_is_kept_for_moderators(
    client, statement, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sign(client, ORGANISATION)
    other = {
        **ORGANISATION,
        "organisation-email": "press@sindicato.example.org",
        "organisation-organisation_name": "  sindicato de trabajadores petroleros ",
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert sign(client, other).status_code == 302
    assert Signature.objects.count() == 2
    assert [m.to for m in mail.outbox] == [
        ["contacto@sindicato.example.org"],
        ["press@sindicato.example.org"],
    ]
    assert {m.subject for m in mail.outbox} == {"Please confirm the endorsement"}


def test_an_individual_may_also_sign_for_an_organisation(client, statement):
    same_email = {**ORGANISATION, "organisation-email": INDIVIDUAL["individual-email"]}
    sign(client, INDIVIDUAL)
    sign(client, same_email)
    assert Signature.objects.count() == 2


def test_honeypot_drops_bots_silently(client, statement, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign(client, {**INDIVIDUAL, "individual-nickname": "bot"})
    assert response.status_code == 302
    assert Signature.objects.count() == 0
    assert mail.outbox == []


def test_closed_statement_refuses_signatures(client, statement):
    statement.signing_open = False
    statement.save()
    response = sign(client, INDIVIDUAL)
    assert response.status_code == 403
    assert Signature.objects.count() == 0
    assert "Signing is closed for this statement." in response.content.decode()


def test_get_never_confirms(client, signed):
    signature, urls = signed
    response = client.get(path_of(urls["confirm"]))
    assert response.status_code == 200
    assert b'<form method="post"' in response.content
    signature.refresh_from_db()
    assert signature.state == Signature.State.PENDING


def test_post_confirms_and_the_count_rises(
    client, statement, signed, django_capture_on_commit_callbacks
):
    signature, urls = signed
    counts_url = COUNTS_URL
    assert client.get(counts_url).json()["individuals"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path_of(urls["confirm"]))
    assert response.status_code == 200
    signature.refresh_from_db()
    assert signature.state == Signature.State.CONFIRMED and signature.confirmed_at
    counts = client.get(counts_url)
    assert counts.json()["individuals"] == 1
    listing = client.get(url("statements:signatories", slug=statement.slug))
    assert "Айгерим Сейткали".encode() in listing.content
    assert b"aigerim@example.org" not in listing.content


def test_confirming_twice_is_harmless(
    client, statement, signed, django_capture_on_commit_callbacks
):
    signature, urls = signed
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path_of(urls["confirm"]))
    confirmed_at = Signature.objects.get().confirmed_at
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(path_of(urls["confirm"])).status_code == 200
    signature.refresh_from_db()
    assert signature.confirmed_at == confirmed_at
    assert client.get(COUNTS_URL).json()["individuals"] == 1


def test_expired_confirmation_link(client, signed, settings, monkeypatch):
    _, urls = signed
    settings.SIGNATURE_TOKEN_MAX_AGE = settings.SIGNATURE_TOKEN_MAX_AGE.__class__(seconds=-1)
    response = client.post(path_of(urls["confirm"]))
    assert response.status_code == 410
    assert Signature.objects.get().state == Signature.State.PENDING


def test_tampered_links_are_refused(client, signed):
    signature, urls = signed
    path = path_of(urls["confirm"])
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    assert client.post(tampered).status_code == 404
    # A withdraw token cannot confirm, and vice versa.
    withdraw_token = path_of(urls["withdraw"]).split("/")[3]
    assert client.post(f"/en/confirm/{withdraw_token}/").status_code == 404
    signature.refresh_from_db()
    assert signature.state == Signature.State.PENDING


def test_withdraw_is_two_steps_and_erases(
    client, statement, signed, django_capture_on_commit_callbacks
):
    signature, urls = signed
    counts_url = COUNTS_URL
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path_of(urls["confirm"]))
    assert client.get(counts_url).json()["individuals"] == 1
    withdraw = path_of(urls["withdraw"])
    assert client.get(withdraw).status_code == 200
    assert Signature.objects.get().state == Signature.State.CONFIRMED
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(withdraw).status_code == 200
    signature.refresh_from_db()
    assert signature.state == Signature.State.WITHDRAWN
    for field in ("full_name", "email", "email_key", "city", "affiliation", "comment", "ip_hash"):
        assert getattr(signature, field) == "", field
    assert client.get(counts_url).json()["individuals"] == 0
    # The confirmation link is dead, a second withdrawal is harmless, and signing again works.
    assert client.post(path_of(urls["confirm"])).status_code == 404
    assert client.post(withdraw).status_code == 200
    assert sign(client, INDIVIDUAL).status_code == 302
    assert Signature.objects.count() == 2


def test_public_list_shows_only_published_and_opted_in(client, statement):
    from tests.factories import OrganisationFactory, SignatureFactory

    SignatureFactory(statement=statement, full_name="Listed Person", show_publicly=True)
    SignatureFactory(statement=statement, full_name="Hidden Person", show_publicly=False)
    SignatureFactory(statement=statement, full_name="Pending Person", state="pending")
    OrganisationFactory(statement=statement, organisation_name="Approved Union", country="FR")
    OrganisationFactory(
        statement=statement, organisation_name="Waiting Union", state="awaiting_moderation"
    )
    listing = url("statements:signatories", slug=statement.slug)
    body = client.get(listing).content.decode()
    assert "Listed Person" in body and "Approved Union" in body and "France" in body
    for hidden in ("Hidden Person", "Pending Person", "Waiting Union", "@example.org"):
        assert hidden not in body
    found = client.get(listing, {"q": "approved"}).content.decode()
    assert "Approved Union" in found and "Listed Person" not in found
    found = client.get(listing, {"q": "listed per"}).content.decode()
    assert "Listed Person" in found and "Approved Union" not in found


def test_public_list_paginates(client, statement):
    from tests.factories import SignatureFactory

    SignatureFactory.create_batch(105, statement=statement)
    listing = url("statements:signatories", slug=statement.slug)
    first = client.get(listing)
    assert len(first.context["individuals"]) == 100
    assert '?q=&amp;page=2">Next<' in first.content.decode()
    second = client.get(listing, {"page": 2})
    assert len(second.context["individuals"]) == 5
    assert "Next<" not in second.content.decode()


def test_statement_page_shows_counts_and_the_form(client, statement):
    from tests.factories import OrganisationFactory, SignatureFactory

    SignatureFactory.create_batch(3, statement=statement)
    OrganisationFactory(statement=statement, organisation_name="Visible Union")
    body = client.get("/en/").content.decode()
    assert 'data-count="individuals">3<' in body
    assert 'data-count="organisations">1<' in body
    assert "Visible Union" in body
    assert 'name="individual-full_name"' in body
    organisation_form = client.get("/en/?as=organisation")
    assert 'name="organisation-organisation_name"' in organisation_form.content.decode()
