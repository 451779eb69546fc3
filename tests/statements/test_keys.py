"""Who holds a signature's keys: one inbox signs once, whatever its spelling; an unconfirmed
row holds nothing against the owner of its address; an organisation's name is held only by
the endorsement a moderator approved; moderators release what a rejected row holds."""

import string

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from hypothesis import given
from hypothesis import strategies as st

import statements.staff.tasks  # noqa: F401 - registered before a worker test resets the app
from statements.forms import IndividualSignForm
from statements.models import AuditEvent, Signature
from statements.normalise import email_key
from tests.accounts.helpers import make_user
from tests.statements.test_signing import INDIVIDUAL, ORGANISATION, links, path_of, sign

State = Signature.State

ATOM = string.ascii_lowercase + string.digits + "!#$%&'*/=?^_`{|}~-"
locals_ = st.text(alphabet=ATOM, min_size=1, max_size=20)
domains = st.sampled_from(["example.org", "Example.ORG", "gmail.com", "yandex.ru", "mail.kz"])


def _form_errors(email: str) -> list[str]:
    with translation.override("en"):
        form = IndividualSignForm({**INDIVIDUAL, "individual-email": email}, prefix="individual")
        assert not form.is_valid()
        return [str(error) for error in form.errors["email"]]


def _quoted(local: str, escape: list[bool]) -> str:
    """The same local part as an RFC 5322 quoted string, some characters backslash-escaped."""
    return '"' + "".join("\\" + c if e else c for c, e in zip(local, escape, strict=False)) + '"'


@given(local=locals_, domain=domains, data=st.data())
def test_quoted_aliases_share_the_key_of_the_plain_address(local, domain, data):
    escape = data.draw(st.lists(st.booleans(), min_size=len(local), max_size=len(local)))
    alias = _quoted(local, escape) + "@" + domain
    assert email_key(alias) == email_key(f"{local}@{domain}")


@given(local=locals_, domain=domains, data=st.data())
def test_the_sign_form_refuses_quoted_local_parts_with_a_field_error(local, domain, data):
    escape = data.draw(st.lists(st.booleans(), min_size=len(local), max_size=len(local)))
    assert _form_errors(_quoted(local, escape) + "@" + domain) == [
        "Please write the address without quotation marks or backslashes."
    ]


@given(octets=st.lists(st.integers(0, 255), min_size=4, max_size=4), local=locals_)
def test_the_sign_form_refuses_domain_literals(octets, local):
    literal = "[" + ".".join(map(str, octets)) + "]"
    assert _form_errors(f"{local}@{literal}") == [
        "Please use an address with a domain name, not an IP address in brackets."
    ]


@pytest.mark.parametrize("alias", ['"aigerim"@example.org', '"ai\\gerim"@example.org'])
def test_one_inbox_cannot_sign_twice_through_quoting(client, statement, alias):
    assert sign(client, INDIVIDUAL).status_code == 302
    response = sign(client, {**INDIVIDUAL, "individual-email": alias})
    assert response.status_code == 400
    body = response.content.decode()
    assert "quotation marks" in body
    assert f'value="{escape(alias)}"' in body  # the form comes back filled in
    assert Signature.objects.count() == 1


def test_a_stranger_cannot_publish_a_name_under_someone_elses_address(
    client, statement, django_capture_on_commit_callbacks, settings
):
    settings.SIGN_RATE_EMAIL = "100/h"
    stranger = {**INDIVIDUAL, "individual-full_name": "Name The Stranger Chose"}
    with django_capture_on_commit_callbacks(execute=True):
        assert sign(client, stranger).status_code == 302
    owner = Client(headers={"Accept-Language": "en"})
    with django_capture_on_commit_callbacks(execute=True):
        assert sign(owner, INDIVIDUAL).status_code == 302
    assert Signature.objects.count() == 1
    stale, fresh = (path_of(links(m)["confirm"]) for m in mail.outbox)
    assert [m.subject for m in mail.outbox] == ["Please confirm your signature"] * 2

    # The owner's link shows the owner's details, and the stranger's link is dead.
    page = owner.get(fresh).content.decode()
    assert INDIVIDUAL["individual-full_name"] in page and "Name The Stranger Chose" not in page
    assert "yes, your name appears on the public list" in page
    assert owner.get(stale).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert owner.post(fresh).status_code == 200
    listing = owner.get(reverse("statements:signatories", kwargs={"slug": statement.slug}))
    assert INDIVIDUAL["individual-full_name"] in listing.content.decode()
    assert "Name The Stranger Chose" not in listing.content.decode()


def test_the_confirmation_page_shows_the_organisation_being_confirmed(
    client, statement, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sign(client, ORGANISATION)
    page = client.get(path_of(links(mail.outbox[0])["confirm"])).content.decode()
    assert "Sindicato de Trabajadores Petroleros" in page and "María López" in page
    assert "once a moderator approves it" in page


@pytest.fixture
def moderator_client(db):
    from accounts.roles import sync_roles

    sync_roles()
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(make_user("mod@example.net", role="moderator"))
    return client


def _confirm_last(client, capture):
    with capture(execute=True):
        assert client.post(path_of(links(mail.outbox[-1])["confirm"])).status_code == 200


def test_the_real_organisation_is_kept_and_shown_next_to_the_squatter(
    client, statement, moderator_client, django_capture_on_commit_callbacks
):
    squatter = {**ORGANISATION, "organisation-email": "squatter@elsewhere.example.net"}
    with django_capture_on_commit_callbacks(execute=True):
        sign(client, squatter)
    _confirm_last(client, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        sign(client, ORGANISATION)
    # The real organisation's own address gets its own link, not an "already signed" email
    # sent to the squatter.
    assert mail.outbox[-1].to == ["contacto@sindicato.example.org"]
    assert mail.outbox[-1].subject == "Please confirm the endorsement"
    _confirm_last(client, django_capture_on_commit_callbacks)
    fake, real = Signature.objects.order_by("pk")
    assert fake.state == real.state == State.AWAITING_MODERATION

    page = moderator_client.get(reverse("staff:signature", args=[real.pk])).content.decode()
    assert "Other submissions for this organisation" in page
    assert "squatter@elsewhere.example.net" in page

    decide = reverse("staff:signature_decide", args=[fake.pk])
    moderator_client.post(decide, {"action": "approve"})
    fake.refresh_from_db()
    assert fake.state == State.APPROVED  # a moderator's mistake, for the sake of the test
    response = moderator_client.post(
        reverse("staff:signature_decide", args=[real.pk]), {"action": "approve"}, follow=True
    )
    assert "another endorsement of this organisation" in response.content.decode()
    real.refresh_from_db()
    assert real.state == State.AWAITING_MODERATION
    # Rejecting the squatter frees the name, and the real organisation is published.
    moderator_client.post(decide, {"action": "reject", "reason": "not the union"})
    with django_capture_on_commit_callbacks(execute=True):
        moderator_client.post(
            reverse("staff:signature_decide", args=[real.pk]), {"action": "approve"}
        )
    real.refresh_from_db()
    assert real.state == State.APPROVED


def test_moderators_release_the_address_held_by_a_fraudulent_signature(
    client, statement, moderator_client, django_capture_on_commit_callbacks, settings
):
    settings.SIGN_RATE_EMAIL = "100/h"
    with django_capture_on_commit_callbacks(execute=True):
        sign(client, {**INDIVIDUAL, "individual-full_name": "Impostor"})
    _confirm_last(client, django_capture_on_commit_callbacks)
    fraud = Signature.objects.get()
    moderator_client.post(
        reverse("staff:signature_decide", args=[fraud.pk]), {"action": "fraud", "reason": "x"}
    )
    # While marked fraudulent, the address cannot sign again.
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        assert sign(client, INDIVIDUAL).status_code == 302
    assert Signature.objects.count() == 1 and len(mail.outbox) == sent

    response = moderator_client.post(reverse("staff:signature_release", args=[fraud.pk]))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="signature.release", signature=fraud).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert sign(client, INDIVIDUAL).status_code == 302
    assert Signature.objects.count() == 2
    assert mail.outbox[-1].subject == "Please confirm your signature"
    _confirm_last(client, django_capture_on_commit_callbacks)
    fresh = Signature.objects.exclude(pk=fraud.pk).get()
    assert fresh.state == State.CONFIRMED and fresh.full_name == "Айгерим Сейткали"
    # The released row can no longer be approved back over the new one.
    response = moderator_client.post(
        reverse("staff:signature_decide", args=[fraud.pk]), {"action": "approve"}, follow=True
    )
    assert "its address was released" in response.content.decode()
