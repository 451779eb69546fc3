"""The audit log reads as sentences in the staff member's language: no stored codes, no
Python dictionaries, statements by title."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import StaffRole
from accounts.services import staff_invite
from statements.models import AuditEvent
from statements.staff import audit
from statements.staff.services.moderation import signature_moderate
from statements.staff.services.signing import statement_signing_set


def _log(client) -> str:
    body = html.unescape(client.get(reverse("staff:audit")).content.decode())
    return re.search(r'<ol class="history audit">(.*?)</ol>', body, re.S).group(1)


@pytest.fixture
def history(organiser, moderator, statement, pending_org):
    signature_moderate(
        signature_id=pending_org.pk, action="reject", actor=moderator, reason="No such union"
    )
    statement_signing_set(statement_id=statement.pk, signing_open=False, actor=organiser)
    staff_invite(
        email="new@example.net", role=StaffRole.MODERATOR, invited_by=organiser, language="en"
    )
    AuditEvent.objects.create(
        actor=organiser,
        action="export_downloaded",
        data={"export": "x", "statement": statement.slug, "format": "csv", "rows": 12},
    )
    AuditEvent.objects.create(actor=moderator, action="account.login", data={"mfa": True})
    AuditEvent.objects.create(actor=moderator, action="account.totp_activated")


def test_the_log_reads_as_sentences(organiser_client, statement, history):
    log = _log(organiser_client)
    title = statement.translations.get(language="en").title
    for sentence in (
        "moderator@example.net rejected “Almaty Teachers' Union”: Awaiting moderation → "
        "Rejected. Reason: No such union",
        f"organiser@example.net closed signing for “{title}”.",
        "organiser@example.net invited new@example.net to join as Moderator.",
        f"organiser@example.net downloaded a CSV list of “{title}” (12 rows).",
        "moderator@example.net signed in with a password and an authenticator code.",
        "moderator@example.net set up an authenticator app.",
    ):
        assert sentence in log, sentence
    # No stored codes, no dictionaries.
    assert "signature.reject" not in log and "staff.invite" not in log
    assert "{" not in log and "}" not in log


def test_the_log_speaks_the_staff_members_language(organiser, statement, history):
    client = Client(headers={"Accept-Language": "ru"})
    client.force_login(organiser)
    log = _log(client)
    assert "moderator@example.net отклонил(а) «Almaty Teachers' Union»" in log
    assert "Ожидает модерации → Отклонена" in log
    title = statement.translations.get(language="ru").title
    assert f"organiser@example.net закрыл(а) сбор подписей под «{title}»." in log


def test_the_filter_names_groups_of_actions(organiser_client, history):
    body = html.unescape(organiser_client.get(reverse("staff:audit")).content.decode())
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]+)</option>', body)
    assert ("signature.reject", "Rejections") in options
    assert ("account.", "Sign-ins and account security") in options
    assert not any(label == code and "." in code for code, label in options)
    filtered = organiser_client.get(reverse("staff:audit") + "?action=signature.reject")
    log = html.unescape(filtered.content.decode())
    assert "rejected" in log and "invited" not in log


def test_an_unknown_code_still_reads_as_a_sentence(organiser, db):
    event = AuditEvent(actor=organiser, action="staff.role_change", data={"role": "organiser"})
    assert audit.describe(event) == "organiser@example.net: staff.role_change. role: organiser"


def test_paper_imports_and_refused_invitations_read_as_sentences(organiser, statement):
    imported = AuditEvent(
        actor=organiser,
        action="paper_import.imported",
        data={"statement": statement.slug, "file": "meeting.csv", "imported": 40, "duplicates": 2},
    )
    title = statement.translations.get(language="en").title
    assert audit.describe(imported, titles={statement.slug: title}) == (
        f"organiser@example.net imported 40 paper signatures for “{title}” from meeting.csv "
        "(2 duplicates skipped)."
    )
    refused = AuditEvent(action="staff.join_refused", data={"email": "a@example.net"})
    assert audit.describe(refused) == (
        "An invitation to a@example.net was refused: the address already belongs to an account."
    )


def test_invalidation_events_read_as_sentences(organiser, pending_org, db):
    event = AuditEvent(
        actor=organiser,
        action="invalidation",
        signature=pending_org,
        from_state="confirmed",
        to_state="fraudulent",
        reason="invalidation #3",
        data={"run": 3},
    )
    assert audit.describe(event, in_history=True) == (
        "Invalidation run #3 marked this signature as fraudulent: Confirmed → Fraudulent."
    )
    event = AuditEvent(action="invalidation.done", data={"run": 3, "changed": 41})
    assert audit.describe(event) == "Invalidation run #3 finished: 41 signatures invalidated."
