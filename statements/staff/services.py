"""Every write of the staff area: moderation decisions, the signing switch and bulk
invalidations (staff accounts and invitations: statements/staff/accounts.py).

Functions are keyword-only, own their transaction and are idempotent: repeating a decision
that is already in force changes nothing and writes nothing. Each change writes an audit event
saying who did what, when, from which state to which, and why. Tasks are queued with
delay_on_commit and receive primary keys only; emails go through the outbox, in the same
transaction as the decision that causes them.
"""

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, models, transaction
from django.db.models import F, Max, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from statements import counters
from statements.models import (
    AuditEvent,
    InvalidationRun,
    Signature,
    Statement,
)
from statements.outbox.models import Email
from statements.outbox.services import email_queue
from statements.staff.selectors import normalise_domain

logger = logging.getLogger(__name__)

State = Signature.State
Kind = Signature.Kind
RunState = InvalidationRun.State


class Decision(models.TextChoices):
    APPROVE = "approve", gettext_lazy("Approve")
    REJECT = "reject", gettext_lazy("Reject")
    FRAUD = "fraud", gettext_lazy("Mark as fraudulent")


# Approving publishes a signature: from the queue, or to undo a rejection or a fraud flag that
# turned out wrong (only if its email address was confirmed; see signature_moderate).
APPROVABLE = frozenset({State.AWAITING_MODERATION, State.REJECTED, State.FRAUDULENT})
# Rejecting hides a signature: one awaiting a decision, or a public one found unsuitable.
REJECTABLE = frozenset({State.AWAITING_MODERATION, State.APPROVED, State.CONFIRMED})
# Anything but a withdrawal can turn out to be fraud; a withdrawal's personal data is erased.
FRAUD_MARKABLE = frozenset(
    {
        State.PENDING,
        State.CONFIRMED,
        State.AWAITING_MODERATION,
        State.APPROVED,
        State.REJECTED,
    }
)
TRANSITIONS: dict[str, tuple[frozenset, str]] = {
    Decision.APPROVE: (APPROVABLE, State.APPROVED),
    Decision.REJECT: (REJECTABLE, State.REJECTED),
    Decision.FRAUD: (FRAUD_MARKABLE, State.FRAUDULENT),
}
REASON_REQUIRED = frozenset({Decision.REJECT})
REASON_LIMIT = Signature.LIMITS["moderation_reason"]

# Audit actions that other code (and people reading the log) rely on.
INVALIDATION = "invalidation"


class ModerationRefused(Exception):
    """The moderation rules forbid this decision; the message tells the moderator why."""


# --- Moderation -------------------------------------------------------------------------------


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


def same_organisation(signature: Signature) -> QuerySet[Signature]:
    """Other submissions for the organisation this endorsement names, in its country: anyone
    can type any name, so moderators see them side by side."""
    return Signature.objects.filter(
        statement_id=signature.statement_id,
        kind=Kind.ORGANISATION,
        organisation_name_key=signature.organisation_name_key,
        country=signature.country,
    ).exclude(pk=signature.pk)


# A rejected or fraudulent signature keeps its address from signing again until released.
RELEASABLE = frozenset({State.REJECTED, State.FRAUDULENT})


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


# --- Opening and closing signing --------------------------------------------------------------


@transaction.atomic
def statement_signing_set(*, statement_id: int, signing_open: bool, actor) -> bool:
    """Open or close signing for a statement, at once and without a deploy."""
    statement = Statement.objects.select_for_update().get(pk=statement_id)
    if statement.signing_open == signing_open:
        return False
    statement.signing_open = signing_open
    statement.save(update_fields=["signing_open", "updated_at"])
    AuditEvent.objects.create(
        actor=actor,
        action="statement.signing_opened" if signing_open else "statement.signing_closed",
        data={"statement": statement.pk, "slug": statement.slug},
    )
    return True


# --- Bulk invalidation ------------------------------------------------------------------------


class NoConditions(ValueError):
    """An invalidation without any condition would match every signature."""


@dataclass(frozen=True)
class InvalidationConditions:
    email_domain: str = ""
    ip_hash: str = ""
    country: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    statement_id: int | None = None

    def __post_init__(self):
        # Compared with the signatures' email keys, so normalised the same way.
        object.__setattr__(self, "email_domain", normalise_domain(self.email_domain))

    def is_empty(self) -> bool:
        return not any(
            (
                self.email_domain,
                self.ip_hash,
                self.country,
                self.created_from,
                self.created_to,
                self.statement_id,
            )
        )

    def to_json(self) -> dict:
        data = {
            "email_domain": self.email_domain,
            "ip_hash": self.ip_hash,
            "country": self.country,
            "created_from": self.created_from.isoformat() if self.created_from else "",
            "created_to": self.created_to.isoformat() if self.created_to else "",
            "statement": self.statement_id,
        }
        return {key: value for key, value in data.items() if value}

    @classmethod
    def from_json(cls, data: dict) -> "InvalidationConditions":
        return cls(
            email_domain=data.get("email_domain", ""),
            ip_hash=data.get("ip_hash", ""),
            country=data.get("country", ""),
            created_from=parse_datetime(data["created_from"]) if data.get("created_from") else None,
            created_to=parse_datetime(data["created_to"]) if data.get("created_to") else None,
            statement_id=data.get("statement"),
        )


def invalidation_matches(conditions: InvalidationConditions) -> QuerySet[Signature]:
    """The signatures an invalidation with these conditions changes.

    The dry run counts this queryset and the run changes exactly its rows, so the count shown
    before running is what running does (unless signatures arrive or change in between).
    """
    if conditions.is_empty():
        raise NoConditions
    queryset = Signature.objects.filter(state__in=FRAUD_MARKABLE)
    if conditions.email_domain:
        queryset = queryset.filter(email_key__endswith="@" + conditions.email_domain)
    if conditions.ip_hash:
        queryset = queryset.filter(ip_hash=conditions.ip_hash)
    if conditions.country:
        queryset = queryset.filter(country=conditions.country)
    if conditions.created_from:
        queryset = queryset.filter(created_at__gte=conditions.created_from)
    if conditions.created_to:
        queryset = queryset.filter(created_at__lte=conditions.created_to)
    if conditions.statement_id:
        queryset = queryset.filter(statement_id=conditions.statement_id)
    return queryset


def invalidation_conditions(run: InvalidationRun) -> InvalidationConditions:
    return InvalidationConditions.from_json(run.conditions)


@transaction.atomic
def invalidation_prepare(*, conditions: InvalidationConditions, actor) -> InvalidationRun:
    """Record the chosen conditions with their dry-run count; nothing changes yet."""
    return InvalidationRun.objects.create(
        statement_id=conditions.statement_id,
        conditions=conditions.to_json(),
        matched_count=invalidation_matches(conditions).count(),
        created_by=actor,
    )


@transaction.atomic(durable=True)
def invalidation_start(*, run_id: int, actor) -> InvalidationRun:
    """Queue a prepared invalidation for the background. Starting twice starts it once."""
    from statements.staff.tasks import invalidation_execute

    run = InvalidationRun.objects.select_for_update().get(pk=run_id)
    if run.state != RunState.DRAFT:
        return run
    run.matched_count = invalidation_matches(invalidation_conditions(run)).count()
    run.state = RunState.QUEUED
    run.save(update_fields=["matched_count", "state"])
    AuditEvent.objects.create(
        actor=actor,
        action="invalidation.start",
        data={"run": run.pk, "matched": run.matched_count, "conditions": run.conditions},
    )
    invalidation_execute.delay_on_commit(run.pk)
    return run


@transaction.atomic
def invalidation_cancel(*, run_id: int, actor) -> bool:
    """Stop an invalidation: a draft or queued one at once, a running one between chunks."""
    run = InvalidationRun.objects.select_for_update().get(pk=run_id)
    if run.state in {RunState.DRAFT, RunState.QUEUED}:
        run.state = RunState.CANCELLED
        run.cancel_requested = True
        run.finished_at = timezone.now()
        run.save(update_fields=["state", "cancel_requested", "finished_at"])
    elif run.state == RunState.RUNNING and not run.cancel_requested:
        run.cancel_requested = True
        run.save(update_fields=["cancel_requested"])
    else:
        return False
    AuditEvent.objects.create(actor=actor, action="invalidation.cancel", data={"run": run.pk})
    return True


def invalidation_process(*, run_id: int, chunk_size: int = 500, max_chunks: int = 100) -> bool:
    """Mark the run's matches as fraudulent, one committed chunk at a time, checking for a
    cancellation between chunks. Returns False when `max_chunks` ran out before the end (the
    task then queues itself again), so no single task runs into its time limit."""
    with transaction.atomic():
        run = InvalidationRun.objects.select_for_update().get(pk=run_id)
        if run.state not in {RunState.QUEUED, RunState.RUNNING}:
            return True
        if run.state == RunState.QUEUED:
            run.state = RunState.RUNNING
            run.started_at = timezone.now()
            run.save(update_fields=["state", "started_at"])
    conditions = invalidation_conditions(run)
    for _chunk in range(max_chunks):
        if InvalidationRun.objects.filter(pk=run_id, cancel_requested=True).exists():
            _invalidation_finish(run_id, RunState.CANCELLED)
            return True
        if not _invalidate_chunk(run, conditions, chunk_size):
            _invalidation_finish(run_id, RunState.DONE)
            return True
    return False


@transaction.atomic
def _invalidate_chunk(run: InvalidationRun, conditions: InvalidationConditions, size: int) -> int:
    rows = list(
        invalidation_matches(conditions)
        .select_for_update(of=("self",))
        .order_by("pk")
        .only("pk", "state", "statement_id", "kind")[:size]
    )
    if not rows:
        return 0
    now = timezone.now()
    deltas: Counter = Counter()
    events = []
    for signature in rows:
        if signature.state in Signature.PUBLIC_STATES:
            deltas[(signature.statement_id, signature.kind)] -= 1
        events.append(
            AuditEvent(
                actor_id=run.created_by_id,
                action=INVALIDATION,
                signature_id=signature.pk,
                from_state=signature.state,
                to_state=State.FRAUDULENT,
                reason=f"invalidation #{run.pk}",
                data={"run": run.pk},
                created_at=now,
            )
        )
    Signature.objects.filter(pk__in=[s.pk for s in rows]).update(state=State.FRAUDULENT)
    AuditEvent.objects.bulk_create(events)
    InvalidationRun.objects.filter(pk=run.pk).update(changed_count=F("changed_count") + len(rows))
    for (statement_id, kind), delta in deltas.items():
        counters.bump_on_commit(statement_id, kind, delta)
    return len(rows)


def _invalidation_finish(run_id: int, state: str) -> None:
    with transaction.atomic():
        updated = InvalidationRun.objects.filter(pk=run_id, state=RunState.RUNNING).update(
            state=state, finished_at=timezone.now()
        )
        if updated:
            run = InvalidationRun.objects.get(pk=run_id)
            AuditEvent.objects.create(
                action=f"invalidation.{state}",
                data={"run": run_id, "changed": run.changed_count},
            )


def invalidation_failed(*, run_id: int) -> None:
    """Record that the background run gave up (it can still be reverted)."""
    InvalidationRun.objects.filter(pk=run_id, state__in=[RunState.QUEUED, RunState.RUNNING]).update(
        state=RunState.FAILED, finished_at=timezone.now()
    )


REVERTIBLE = frozenset({RunState.DONE, RunState.CANCELLED, RunState.FAILED})


@transaction.atomic(durable=True)
def invalidation_revert(*, run_id: int, actor) -> bool:
    """Queue the undoing of a finished invalidation. `reverted_at` records the request; the
    state becomes REVERTED once every signature is restored.

    The revert runs in bounded chunks, a task at a time (see `invalidation_revert_process`).
    Asking again while it is unfinished resumes it — say its chain of tasks was lost with a
    worker — from the start, which is safe: a signature already restored no longer matches,
    and each chunk locks its rows."""
    from statements.staff.tasks import invalidation_revert_execute

    run = InvalidationRun.objects.select_for_update().get(pk=run_id)
    if run.state not in REVERTIBLE or not run.changed_count:
        return False
    if run.reverted_at is None:
        run.reverted_at = timezone.now()
        run.save(update_fields=["reverted_at"])
        action = "invalidation.revert"
    else:
        action = "invalidation.revert_resumed"
    AuditEvent.objects.create(actor=actor, action=action, data={"run": run.pk})
    invalidation_revert_execute.delay_on_commit(run.pk)
    return True


@dataclass(frozen=True)
class RevertProgress:
    restored: int  # by this call
    after: int | None  # where the next call starts; None once the run is reverted


def invalidation_revert_process(
    *, run_id: int, after: int = 0, chunk_size: int = 500, max_chunks: int | None = None
) -> RevertProgress:
    """Restore each signature the run changed to the state it had, unless someone decided on
    it since (its latest state change is no longer the run's): that later decision stands.

    Works through the run's audit events in order, from the one after `after`, one committed
    chunk at a time, for at most `max_chunks` chunks: the caller goes on from the returned
    position (the task queues itself again), so no task nears its time limit however many
    signatures the run changed, and a revert stopped anywhere can go on or start over."""
    run = InvalidationRun.objects.get(pk=run_id)
    if run.state == RunState.REVERTED:
        return RevertProgress(0, None)
    actor_id = (
        AuditEvent.objects.filter(action="invalidation.revert", data__run=run_id)
        .order_by("-pk")
        .values_list("actor_id", flat=True)
        .first()
    )
    restored = 0
    chunks = 0
    position: int | None = after
    while position is not None and (max_chunks is None or chunks < max_chunks):
        count, position = _revert_chunk(run, actor_id, position, chunk_size)
        restored += count
        chunks += 1
    if position is not None:
        return RevertProgress(restored, position)
    with transaction.atomic():
        InvalidationRun.objects.filter(pk=run_id).update(state=RunState.REVERTED)
        total = AuditEvent.objects.filter(action="invalidation.restore", data__run=run_id).count()
        AuditEvent.objects.create(
            action="invalidation.reverted", data={"run": run_id, "restored": total}
        )
    return RevertProgress(restored, None)


@transaction.atomic
def _revert_chunk(
    run: InvalidationRun, actor_id: int | None, after: int, size: int
) -> tuple[int, int | None]:
    events = list(
        AuditEvent.objects.filter(action=INVALIDATION, data__run=run.pk, pk__gt=after)
        .order_by("pk")
        .only("pk", "signature_id", "from_state")[:size]
    )
    if not events:
        return 0, None
    ids = [event.signature_id for event in events if event.signature_id]
    signatures = {
        s.pk: s
        for s in Signature.objects.select_for_update()
        .filter(pk__in=ids)
        .only("pk", "state", "statement_id", "kind")
    }
    latest_change = dict(
        AuditEvent.objects.filter(signature_id__in=ids)
        .exclude(to_state="")
        .values("signature_id")
        .annotate(last=Max("pk"))
        .values_list("signature_id", "last")
    )
    now = timezone.now()
    by_state: dict[str, list[int]] = {}
    new_events = []
    deltas: Counter = Counter()
    for event in events:
        signature = signatures.get(event.signature_id)
        if signature is None or signature.state != State.FRAUDULENT:
            continue
        if latest_change.get(signature.pk) != event.pk:
            continue
        by_state.setdefault(event.from_state, []).append(signature.pk)
        if event.from_state in Signature.PUBLIC_STATES:
            deltas[(signature.statement_id, signature.kind)] += 1
        new_events.append(
            AuditEvent(
                actor_id=actor_id,
                action="invalidation.restore",
                signature_id=signature.pk,
                from_state=State.FRAUDULENT,
                to_state=event.from_state,
                reason=f"invalidation #{run.pk} reverted",
                data={"run": run.pk},
                created_at=now,
            )
        )
    for state, pks in by_state.items():
        Signature.objects.filter(pk__in=pks).update(state=state)
    AuditEvent.objects.bulk_create(new_events)
    for (statement_id, kind), delta in deltas.items():
        counters.bump_on_commit(statement_id, kind, delta)
    return len(new_events), events[-1].pk
