"""Moderation decisions: the transition rules, idempotence, audit, counts and the email."""

import html
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from statements import counters
from statements.models import AuditEvent, Signature
from statements.staff.services.moderation import (
    ModerationRefused,
    signature_moderate,
    signatures_moderate,
)
from tests.factories import OrganisationFactory, SignatureFactory

State = Signature.State

# The rules, written out here as the specification the service must follow.
TARGET = {"approve": State.APPROVED, "reject": State.REJECTED, "fraud": State.FRAUDULENT}
ALLOWED_FROM = {
    "approve": {State.AWAITING_MODERATION, State.REJECTED, State.FRAUDULENT},
    "reject": {State.AWAITING_MODERATION, State.APPROVED, State.CONFIRMED},
    "fraud": {
        State.PENDING,
        State.CONFIRMED,
        State.AWAITING_MODERATION,
        State.APPROVED,
        State.REJECTED,
    },
}


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", list(TARGET))
def test_every_transition(statement, moderator, action, state):
    signature = SignatureFactory(statement=statement, state=state)
    target = TARGET[action]
    if state == target:
        outcome = signature_moderate(
            signature_id=signature.pk, action=action, actor=moderator, reason="again"
        )
        assert outcome.changed is False
        assert not AuditEvent.objects.exists()
    elif state in ALLOWED_FROM[action]:
        outcome = signature_moderate(
            signature_id=signature.pk, action=action, actor=moderator, reason="checked"
        )
        assert outcome.changed is True and outcome.from_state == state
        signature.refresh_from_db()
        assert signature.state == target
        assert signature.decided_at is not None
        assert signature.moderation_reason == "checked"
        event = AuditEvent.objects.get()
        assert (event.actor, event.signature, event.action) == (
            moderator,
            signature,
            f"signature.{action}",
        )
        assert (event.from_state, event.to_state, event.reason) == (state, target, "checked")
    else:
        with pytest.raises(ModerationRefused):
            signature_moderate(
                signature_id=signature.pk, action=action, actor=moderator, reason="nope"
            )
        signature.refresh_from_db()
        assert signature.state == state
        assert not AuditEvent.objects.exists()


def test_a_repeated_decision_is_audited_once(statement, moderator):
    signature = OrganisationFactory(statement=statement, state=State.AWAITING_MODERATION)
    for _ in range(3):
        signature_moderate(signature_id=signature.pk, action="approve", actor=moderator)
    assert AuditEvent.objects.filter(action="signature.approve").count() == 1


def test_rejecting_needs_a_reason(statement, moderator):
    signature = OrganisationFactory(statement=statement, state=State.AWAITING_MODERATION)
    with pytest.raises(ModerationRefused):
        signature_moderate(signature_id=signature.pk, action="reject", actor=moderator, reason=" ")
    signature.refresh_from_db()
    assert signature.state == State.AWAITING_MODERATION


def test_an_unconfirmed_address_is_never_published(statement, moderator):
    signature = SignatureFactory(statement=statement, state=State.PENDING, confirmed_at=None)
    signature_moderate(signature_id=signature.pk, action="fraud", actor=moderator)
    with pytest.raises(ModerationRefused):
        signature_moderate(signature_id=signature.pk, action="approve", actor=moderator)
    signature.refresh_from_db()
    assert signature.state == State.FRAUDULENT


# --- Public effects ---------------------------------------------------------------------------


def test_counts_and_lists_follow_an_approval(
    client, statement, pending_org, moderator, django_capture_on_commit_callbacks
):
    assert counters.get_counts(statement.pk)["organisation"] == 0  # now cached

    def public_list() -> str:
        page = client.get(reverse("statements:signatories", args=[statement.slug]))
        return html.unescape(page.content.decode())

    assert pending_org.organisation_name not in public_list()

    with django_capture_on_commit_callbacks(execute=True):
        signature_moderate(signature_id=pending_org.pk, action="approve", actor=moderator)

    assert counters.get_counts(statement.pk)["organisation"] == 1
    counts = client.get(reverse("api:counts_json", args=[statement.slug])).json()
    assert counts["organisations"] == 1
    assert pending_org.organisation_name in public_list()
    assert pending_org.email not in public_list()

    with django_capture_on_commit_callbacks(execute=True):
        signature_moderate(
            signature_id=pending_org.pk, action="reject", actor=moderator, reason="not a union"
        )
    assert counters.get_counts(statement.pk)["organisation"] == 0
    assert pending_org.organisation_name not in public_list()


def test_approving_an_organisation_emails_it_once(
    statement, pending_org, moderator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signature_moderate(signature_id=pending_org.pk, action="approve", actor=moderator)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [pending_org.email]
    assert pending_org.organisation_name in message.subject
    assert reverse("statements:signatories", args=[statement.slug]) in message.body
    assert "/withdraw/" in message.body
    assert AuditEvent.objects.filter(
        signature=pending_org, action="email.endorsement_published"
    ).exists()

    # Unpublished and published again: the organisation already knows.
    with django_capture_on_commit_callbacks(execute=True):
        signature_moderate(
            signature_id=pending_org.pk, action="reject", actor=moderator, reason="mistake"
        )
        signature_moderate(signature_id=pending_org.pk, action="approve", actor=moderator)
    assert len(mail.outbox) == 1


def test_the_email_is_queued_in_the_decision_transaction_by_key_only(
    statement, pending_org, moderator, django_capture_on_commit_callbacks
):
    from statements.outbox.models import Email

    with django_capture_on_commit_callbacks(execute=False):
        signature_moderate(signature_id=pending_org.pk, action="approve", actor=moderator)
    (email,) = Email.objects.all()
    assert (email.kind, email.signature_id, email.state) == (
        "endorsement_published",
        pending_org.pk,
        "queued",
    )
    assert mail.outbox == []


def test_approving_an_individual_sends_nothing(
    statement, moderator, django_capture_on_commit_callbacks
):
    person = SignatureFactory(statement=statement, state=State.AWAITING_MODERATION)
    with django_capture_on_commit_callbacks(execute=True):
        signature_moderate(signature_id=person.pk, action="approve", actor=moderator)
    assert mail.outbox == []


# --- Bulk -------------------------------------------------------------------------------------


def test_bulk_decisions_report_and_audit_each_signature(statement, moderator):
    waiting = [
        OrganisationFactory(statement=statement, state=State.AWAITING_MODERATION) for _ in range(3)
    ]
    withdrawn = SignatureFactory(statement=statement, state=State.WITHDRAWN)
    ids = [s.pk for s in waiting] + [withdrawn.pk, 999999]

    outcome = signatures_moderate(
        signature_ids=ids, action="reject", actor=moderator, reason="duplicate endorsements"
    )

    assert {s.pk for s in outcome.changed} == {s.pk for s in waiting}
    assert len(outcome.refused) == 2 and outcome.unchanged == []
    events = AuditEvent.objects.filter(action="signature.reject")
    assert {e.signature_id for e in events} == {s.pk for s in waiting}
    for event in events:
        assert event.actor == moderator
        assert (event.from_state, event.to_state) == (State.AWAITING_MODERATION, State.REJECTED)
        assert event.reason == "duplicate endorsements"
        assert event.data == {"bulk": True}

    again = signatures_moderate(
        signature_ids=[s.pk for s in waiting], action="reject", actor=moderator, reason="again"
    )
    assert len(again.unchanged) == 3 and again.changed == []
    assert AuditEvent.objects.filter(action="signature.reject").count() == 3


# --- The queue --------------------------------------------------------------------------------


def _names(response) -> list[str]:
    return [s.display_name for s in response.context["page"].object_list]


def test_queue_puts_organisations_first_then_oldest(moderator_client, statement):
    statement.moderate_individuals = True
    statement.save()
    now = timezone.now()
    SignatureFactory(
        statement=statement,
        state=State.AWAITING_MODERATION,
        full_name="Early Person",
        created_at=now - timedelta(days=3),
    )
    OrganisationFactory(
        statement=statement,
        state=State.AWAITING_MODERATION,
        organisation_name="Late Union",
        created_at=now - timedelta(days=1),
    )
    OrganisationFactory(
        statement=statement,
        state=State.AWAITING_MODERATION,
        organisation_name="Older Union",
        created_at=now - timedelta(days=2),
    )
    OrganisationFactory(statement=statement, state=State.APPROVED, organisation_name="Done")
    response = moderator_client.get(reverse("staff:queue"))
    assert _names(response) == ["Older Union", "Late Union", "Early Person"]
    # Moderators need the addresses to judge an endorsement.
    assert "signer" in response.content.decode() and "@example.org" in response.content.decode()


def test_queue_filters_and_search(moderator_client, statement):
    now = timezone.now()
    OrganisationFactory(
        statement=statement,
        state=State.AWAITING_MODERATION,
        organisation_name="Union of Miners",
        email="press@miners.example.kz",
        country="KZ",
        ip_hash="aaa",
        created_at=now - timedelta(days=10),
    )
    OrganisationFactory(
        statement=statement,
        state=State.AWAITING_MODERATION,
        organisation_name="Party of Labour",
        email="info@labour.example.ar",
        country="AR",
        ip_hash="bbb",
        created_at=now,
    )
    SignatureFactory(
        statement=statement, state=State.CONFIRMED, full_name="Dana Miner", country="KZ"
    )
    queue = reverse("staff:queue")

    def names(**params):
        return sorted(_names(moderator_client.get(queue, params)))

    assert names() == ["Party of Labour", "Union of Miners"]
    assert names(state="any") == ["Dana Miner", "Party of Labour", "Union of Miners"]
    assert names(state="any", kind="individual") == ["Dana Miner"]
    assert names(country="AR") == ["Party of Labour"]
    assert names(state="any", q="miner") == ["Dana Miner", "Union of Miners"]
    assert names(q="@labour.example.ar") == ["Party of Labour"]
    assert names(q="miners.example.kz") == ["Union of Miners"]
    assert names(ip_hash="aaa") == ["Union of Miners"]
    day = (now - timedelta(days=5)).date().isoformat()
    assert names(created_from=day) == ["Party of Labour"]
    assert names(created_to=day) == ["Union of Miners"]
    assert names(statement=statement.pk) == ["Party of Labour", "Union of Miners"]


def test_queue_paginates(moderator_client, statement):
    OrganisationFactory.create_batch(55, statement=statement, state=State.AWAITING_MODERATION)
    first = moderator_client.get(reverse("staff:queue"))
    assert len(first.context["page"].object_list) == 50
    second = moderator_client.get(reverse("staff:queue"), {"page": 2})
    assert len(second.context["page"].object_list) == 5
    assert 'rel="next"' in first.content.decode()


def test_select_all_ticks_every_row_of_the_page(moderator_client, statement):
    OrganisationFactory.create_batch(3, statement=statement, state=State.AWAITING_MODERATION)
    body = moderator_client.get(reverse("staff:queue"), {"select": "all"}).content.decode()
    assert body.count('name="selected"') == 3
    assert body.count(" checked>") == 3
    # After deciding, the queue comes back with nothing ticked.
    assert '<input type="hidden" name="next" value="/staff/queue/">' in body


def test_bulk_form_through_the_view(moderator_client, moderator, statement):
    waiting = OrganisationFactory.create_batch(
        2, statement=statement, state=State.AWAITING_MODERATION
    )
    back = reverse("staff:queue") + "?kind=organisation"
    response = moderator_client.post(
        reverse("staff:queue_decide"),
        {"selected": [s.pk for s in waiting], "action": "fraud", "reason": "", "next": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    assert {s.state for s in Signature.objects.filter(pk__in=[s.pk for s in waiting])} == {
        State.FRAUDULENT
    }
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("2" in m for m in messages)


def test_bulk_reject_without_reason_changes_nothing(moderator_client, statement):
    waiting = OrganisationFactory(statement=statement, state=State.AWAITING_MODERATION)
    response = moderator_client.post(
        reverse("staff:queue_decide"),
        {"selected": [waiting.pk], "action": "reject", "reason": ""},
        follow=True,
    )
    assert "reason" in response.content.decode().lower()
    waiting.refresh_from_db()
    assert waiting.state == State.AWAITING_MODERATION


def test_a_rows_approve_button_decides_that_row_only(moderator_client, statement):
    first, second = OrganisationFactory.create_batch(
        2, statement=statement, state=State.AWAITING_MODERATION
    )
    # The bulk fields travel with the form; the row's button wins.
    moderator_client.post(
        reverse("staff:queue_decide"),
        {"single": str(second.pk), "selected": [first.pk], "action": "fraud"},
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (State.AWAITING_MODERATION, State.APPROVED)


def test_single_decisions_on_the_signature_page(moderator_client, moderator, pending_org):
    page = reverse("staff:signature", args=[pending_org.pk])
    body = moderator_client.get(page).content.decode()
    assert pending_org.email in body and 'value="approve"' in body
    moderator_client.post(
        reverse("staff:signature_decide", args=[pending_org.pk]),
        {"action": "reject", "reason": "Not an organisation"},
    )
    refused = moderator_client.post(
        reverse("staff:signature_decide", args=[pending_org.pk]),
        {"action": "reject", "reason": "again"},
        follow=True,
    )
    assert "already had that decision" in refused.content.decode()
    body = html.unescape(moderator_client.get(page).content.decode())
    # The history reads as a sentence, not as the stored code.
    assert (
        "moderator@example.net rejected this signature: Awaiting moderation → Rejected. "
        "Reason: Not an organisation"
    ) in body
    assert "signature.reject" not in body
    assert AuditEvent.objects.filter(signature=pending_org, actor=moderator).count() == 1


def test_a_decision_on_the_signature_page_moves_to_the_next_in_the_queue(
    moderator_client, statement, pending_org
):
    later = OrganisationFactory(
        statement=statement,
        state=Signature.State.AWAITING_MODERATION,
        decided_at=None,
        organisation_name="Shymkent Nurses",
    )
    response = moderator_client.post(
        reverse("staff:signature_decide", args=[pending_org.pk]), {"action": "approve"}
    )
    assert response["Location"] == reverse("staff:signature", args=[later.pk])
    page = html.unescape(moderator_client.get(response["Location"]).content.decode())
    assert "“Almaty Teachers' Union”: Awaiting moderation → Approved." in page
    assert "<h1>Shymkent Nurses" in page
    # The last one leads back to the queue, which says it is empty.
    response = moderator_client.post(
        reverse("staff:signature_decide", args=[later.pk]), {"action": "approve"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("staff:queue")
    assert "The queue is empty: no signature is waiting for a decision." in html.unescape(
        response.content.decode()
    )


def test_an_empty_queue_says_so_and_a_filter_that_finds_nothing_says_that(
    moderator_client, statement
):
    body = html.unescape(moderator_client.get(reverse("staff:queue")).content.decode())
    assert "The queue is empty: no signature is waiting for a decision." in body
    assert "Nothing matches these filters." not in body
    body = html.unescape(
        moderator_client.get(reverse("staff:queue") + "?state=any&country=ZW").content.decode()
    )
    assert "Nothing matches these filters." in body and "The queue is empty" not in body


def test_the_queue_names_statements_by_title(moderator_client, statement, pending_org):
    body = html.unescape(moderator_client.get(reverse("staff:queue")).content.decode())
    title = statement.translations.get(language="en").title
    assert f'title="{title}"' in body
    assert ">kazakhstan-2022<" not in body


@pytest.mark.parametrize(
    ("language", "short", "long"),
    [
        ("en", "12/03/2026 2:05 p.m.", "Dec. 3, 2026, 2:05 p.m."),
        ("ru", "03.12.2026 14:05", "3 декабря 2026 г. 14:05"),
        ("es", "03/12/2026 14:05", "3 de diciembre de 2026 a las 14:05"),
    ],
)
def test_dates_follow_the_staff_members_language(moderator, pending_org, language, short, long):
    from django.test import Client

    when = timezone.datetime(2026, 12, 3, 14, 5, tzinfo=timezone.UTC)
    Signature.objects.filter(pk=pending_org.pk).update(created_at=when)
    client = Client(headers={"Accept-Language": language})
    client.force_login(moderator)
    assert short in client.get(reverse("staff:queue")).content.decode()
    page = client.get(reverse("staff:signature", args=[pending_org.pk])).content.decode()
    assert long in page


# --- Telling a rejected organisation ------------------------------------------------------------


def _reject_on_the_page(moderator_client, organisation, **extra):
    return moderator_client.post(
        reverse("staff:signature_decide", args=[organisation.pk]),
        {"action": "reject", "reason": "Ce n'est pas un syndicat <b>réel</b>", **extra},
    )


def test_a_rejected_organisation_is_told_in_its_language_with_the_reason_if_sent(
    moderator_client, pending_org, django_capture_on_commit_callbacks
):
    page = moderator_client.get(reverse("staff:signature", args=[pending_org.pk])).content
    assert b'name="send_reason"' in page
    pending_org.language = "ru"
    pending_org.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        _reject_on_the_page(moderator_client, pending_org, send_reason="on")

    (message,) = mail.outbox
    assert message.to == [pending_org.email]
    assert (
        message.subject == f"Поддержка организации {pending_org.organisation_name} не опубликована"
    )
    html_part = message.alternatives[0].content
    assert "Причина, указанная модератором:" in message.body
    assert "Ce n'est pas un syndicat <b>réel</b>" in message.body
    assert "Ce n&#x27;est pas un syndicat &lt;b&gt;réel&lt;/b&gt;" in html_part
    assert "/ru/withdraw/" in message.body


def test_the_reason_stays_with_staff_unless_the_moderator_sends_it(
    moderator_client, pending_org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _reject_on_the_page(moderator_client, pending_org)

    (message,) = mail.outbox
    assert "was not published" in message.subject
    assert "syndicat" not in message.body + message.alternatives[0].content
    assert "The moderator's reason" not in message.body


def test_an_individual_rejected_hears_nothing(
    statement, moderator, django_capture_on_commit_callbacks
):
    person = SignatureFactory(statement=statement, state=State.AWAITING_MODERATION)
    with django_capture_on_commit_callbacks(execute=True):
        signature_moderate(signature_id=person.pk, action="reject", actor=moderator, reason="spam")
    assert mail.outbox == []
