"""Campaign updates: drafted by an organiser, sent once to the signers who asked for them,
each in their own language (or the original), through the outbox; and the one-click stop."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from statements.models import AuditEvent, Signature, Statement
from statements.updates.models import CampaignUpdate, CampaignUpdateText

# Signatures whose address was confirmed by its owner and that still stand.
RECIPIENT_STATES = (
    Signature.State.CONFIRMED,
    Signature.State.AWAITING_MODERATION,
    Signature.State.APPROVED,
)
BATCH = 2000


def recipients(statement_id: int):
    return Signature.objects.filter(
        statement_id=statement_id,
        wants_updates=True,
        state__in=RECIPIENT_STATES,
        source=Signature.Source.ONLINE,
    ).exclude(email="")


def language_for(signer_language: str, texts: set[str], original: str) -> str:
    return signer_language if signer_language in texts else original


@transaction.atomic(durable=True)
def update_create(
    *, statement: Statement, original_language: str, texts: dict[str, tuple[str, str]], actor
) -> CampaignUpdate:
    update = CampaignUpdate.objects.create(
        statement=statement, original_language=original_language, created_by=actor
    )
    CampaignUpdateText.objects.bulk_create(
        CampaignUpdateText(update=update, language=code, subject=subject, body=body)
        for code, (subject, body) in texts.items()
    )
    AuditEvent.objects.create(
        actor=actor,
        action="campaign_update.drafted",
        data={"update": update.pk, "statement": statement.slug, "languages": sorted(texts)},
    )
    return update


@dataclass(frozen=True)
class SendOutcome:
    sent: bool
    recipients: int
    by_language: dict[str, int]


@transaction.atomic(durable=True)
def update_send(*, update_id: int, actor) -> SendOutcome:
    """Queue the update for everyone who opted in, once: a second press (or a second tab)
    finds it sent and queues nothing. The outbox rows are written in the same transaction
    as the update's state, so either everyone is queued or no one is."""
    from statements.outbox.models import Email
    from statements.outbox.services import relay_after_commit

    update = CampaignUpdate.objects.select_for_update().get(pk=update_id)
    if update.state != CampaignUpdate.State.DRAFT:
        return SendOutcome(sent=False, recipients=update.recipient_count, by_language={})
    texts = set(update.texts.values_list("language", flat=True))
    by_language: dict[str, int] = {}
    rows = []
    total = 0
    for pk, language in (
        recipients(update.statement_id).values_list("pk", "language").iterator(chunk_size=BATCH)
    ):
        chosen = language_for(language, texts, update.original_language)
        by_language[chosen] = by_language.get(chosen, 0) + 1
        rows.append(
            Email(
                kind=Email.Kind.CAMPAIGN_UPDATE,
                signature_id=pk,
                campaign_update=update,
                language=chosen,
            )
        )
        if len(rows) >= BATCH:
            Email.objects.bulk_create(rows)
            total += len(rows)
            rows = []
    Email.objects.bulk_create(rows)
    total += len(rows)
    update.state = CampaignUpdate.State.SENT
    update.sent_at = timezone.now()
    update.recipient_count = total
    update.save(update_fields=["state", "sent_at", "recipient_count"])
    AuditEvent.objects.create(
        actor=actor,
        action="campaign_update.sent",
        data={"update": update.pk, "recipients": total, "by_language": by_language},
        created_at=update.sent_at,
    )
    if total:
        relay_after_commit()
    return SendOutcome(sent=True, recipients=total, by_language=by_language)


@transaction.atomic(durable=True)
def updates_stop(*, signature_id: int) -> bool:
    """Stop campaign updates for a signature; True if they were on. Recorded in the audit
    log without anything about the person."""
    now = timezone.now()
    changed = Signature.objects.filter(pk=signature_id, wants_updates=True).update(
        wants_updates=False, updates_stopped_at=now
    )
    if changed:
        AuditEvent.objects.create(
            action="campaign_update.unsubscribed", signature_id=signature_id, created_at=now
        )
    return bool(changed)
