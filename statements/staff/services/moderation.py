"""Moderation decisions: approve, reject or flag one signature or a page of them, and release
the address of a rejected or fraudulent one.

Keyword-only, each owning its transaction and idempotent: repeating a decision that is already
in force changes nothing and writes nothing. Each change writes an audit event saying who did
what, when, from which state to which, and why. The publication notice goes through the
outbox, in the same transaction as the approval.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from statements import counters
from statements.models import AuditEvent, Signature
from statements.outbox.models import Email
from statements.outbox.services import email_queue
from statements.staff.rules import REASON_LIMIT, REASON_REQUIRED, RELEASABLE, TRANSITIONS, Decision
from statements.staff.selectors import same_organisation

State = Signature.State
Kind = Signature.Kind


class ModerationRefused(Exception):
    """The moderation rules forbid this decision; the message tells the moderator why."""


@dataclass(frozen=True)
class Outcome:
    signature: Signature
    from_state: str
    changed: bool


@transaction.atomic(durable=True)
def signature_moderate(
    *,
    signature_id: int,
    action: str,
    actor,
    reason: str = "",
    bulk: bool = False,
    send_reason: bool = False,
) -> Outcome:
    """Approve, reject or flag one signature. An organisation is told when its endorsement
    is published or rejected, with the reason for a rejection if `send_reason`.

    Defends against decisions the rules do not allow (a withdrawn signature cannot be
    published; an unconfirmed address is never published) and against double effects: the
    row is locked, and a decision already in force is a no-op without a second audit event.
    """
    allowed, target = TRANSITIONS[Decision(action)]
    reason = " ".join(reason.split())[:REASON_LIMIT]
    signature = (
        Signature.objects.select_for_update(of=("self",))
        .select_related("statement")
        .get(pk=signature_id)
    )
    before = signature.state
    if before == target:
        return Outcome(signature=signature, from_state=before, changed=False)
    if before not in allowed:
        raise ModerationRefused(
            _("“%(name)s” cannot be changed to “%(target)s” while it is “%(state)s”.")
            % {
                "name": signature.display_name,
                "target": State(target).label,
                "state": State(before).label,
            }
        )
    if action in REASON_REQUIRED and not reason:
        raise ModerationRefused(_("Please give a reason for rejecting."))
    if target == State.APPROVED:
        _check_approvable(signature)
    signature.state = target
    signature.decided_at = timezone.now()
    signature.moderation_reason = reason
    try:
        with transaction.atomic():
            signature.save(update_fields=["state", "decided_at", "moderation_reason"])
    except IntegrityError as exc:  # another endorsement was approved meanwhile
        raise ModerationRefused(_organisation_taken(signature)) from exc
    AuditEvent.objects.create(
        actor=actor,
        action=f"signature.{action}",
        signature=signature,
        from_state=before,
        to_state=target,
        reason=reason,
        data={"bulk": True} if bulk else {},
        created_at=signature.decided_at,
    )
    _bump_for_change(signature, before, target)
    if target == State.APPROVED and signature.kind == Kind.ORGANISATION:
        _tell_organisation_once(signature)
    if target == State.REJECTED and signature.kind == Kind.ORGANISATION and signature.confirmed_at:
        # Only an address its owner confirmed hears about the decision.
        kind = (
            Email.Kind.ENDORSEMENT_REJECTED_REASON
            if send_reason
            else Email.Kind.ENDORSEMENT_REJECTED
        )
        email_queue(kind=kind, signature=signature, language=signature.language)
    return Outcome(signature=signature, from_state=before, changed=True)


def _check_approvable(signature: Signature) -> None:
    if signature.confirmed_at is None:
        raise ModerationRefused(
            _("“%(name)s” cannot be approved: its email address was never confirmed.")
            % {"name": signature.display_name}
        )
    if signature.key_released_at is not None:
        raise ModerationRefused(
            _("“%(name)s” cannot be approved: its address was released for a new signature.")
            % {"name": signature.display_name}
        )
    if (
        signature.kind == Kind.ORGANISATION
        and same_organisation(signature).filter(state=State.APPROVED).exists()
    ):
        raise ModerationRefused(_organisation_taken(signature))


def _organisation_taken(signature: Signature) -> str:
    return _(
        "“%(name)s” cannot be approved: another endorsement of this organisation in this "
        "country is approved. Reject that one first if this is the real one."
    ) % {"name": signature.display_name}


@transaction.atomic
def signature_key_release(*, signature_id: int, actor) -> bool:
    """Let the address of a rejected or fraudulent signature sign again, say when someone
    had signed with another person's address. The row stays as it is (and cannot be approved
    any more); its address no longer blocks a new signature. Returns whether anything changed.
    """
    signature = Signature.objects.select_for_update().get(pk=signature_id)
    if signature.state not in RELEASABLE or signature.key_released_at is not None:
        return False
    signature.key_released_at = timezone.now()
    signature.save(update_fields=["key_released_at"])
    AuditEvent.objects.create(
        actor=actor,
        action="signature.release",
        signature=signature,
        created_at=signature.key_released_at,
    )
    return True


def _bump_for_change(signature: Signature, before: str, after: str) -> None:
    was_public = before in Signature.PUBLIC_STATES
    is_public = after in Signature.PUBLIC_STATES
    if was_public != is_public:
        counters.bump_on_commit(signature.statement_id, signature.kind, +1 if is_public else -1)


@dataclass
class BulkOutcome:
    changed: list[Signature] = field(default_factory=list)
    unchanged: list[Signature] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def signatures_moderate(
    *, signature_ids: list[int], action: str, actor, reason: str = "", send_reason: bool = False
) -> BulkOutcome:
    """The same decision for many signatures, each its own `signature_moderate` call.

    Each decision commits on its own, so one refusal (say, a withdrawn row) does not undo the
    others; the outcome lists what changed, what already was so, and what was refused.
    """
    outcome = BulkOutcome()
    for signature_id in dict.fromkeys(signature_ids):
        try:
            result = signature_moderate(
                signature_id=signature_id,
                action=action,
                actor=actor,
                reason=reason,
                bulk=True,
                send_reason=send_reason,
            )
        except Signature.DoesNotExist:
            outcome.refused.append(_("Signature #%(id)s no longer exists.") % {"id": signature_id})
            continue
        except ModerationRefused as exc:
            outcome.refused.append(str(exc))
            continue
        (outcome.changed if result.changed else outcome.unchanged).append(result.signature)
    return outcome


def _tell_organisation_once(signature: Signature) -> None:
    """Queue the "your endorsement is published" email, once per endorsement: approving
    again after a rejection sends nothing more (the row lock orders concurrent decisions)."""
    kind = Email.Kind.ENDORSEMENT_PUBLISHED
    if not signature.emails.filter(kind=kind).exclude(state=Email.State.CANCELLED).exists():
        email_queue(kind=kind, signature=signature, language=signature.language)
