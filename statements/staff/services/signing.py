"""The signing switch: organisers open or close signing for a statement, at once."""

from django.db import transaction

from statements.models import AuditEvent, Statement


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
