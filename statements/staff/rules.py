"""The moderation rules of the staff area: which decision applies to which states, and the
audit actions other code relies on. Shared by the services that queue work, the jobs the
worker runs and the forms, so none of them imports another for a constant."""

from django.db import models
from django.utils.translation import gettext_lazy

from statements.models import InvalidationRun, Signature

State = Signature.State
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

# A rejected or fraudulent signature keeps its address from signing again until released.
RELEASABLE = frozenset({State.REJECTED, State.FRAUDULENT})

# A finished, cancelled or failed invalidation run can be reverted.
REVERTIBLE = frozenset({RunState.DONE, RunState.CANCELLED, RunState.FAILED})

# Audit actions that other code (and people reading the log) rely on.
INVALIDATION = "invalidation"
