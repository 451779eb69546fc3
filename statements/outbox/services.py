"""Writing to the outbox: called inside the transaction of the change that causes the email
(or the background work), so both are committed together or not at all. Nothing here talks
to the broker: the relay (relay.py) hands the rows over.
"""

from celery import current_app
from django.db import transaction

from exports.models import SignatoryExport
from statements.models import Signature
from statements.outbox.models import Email, Handoff
from statements.outbox.tasks import outbox_relay

Kind = Email.Kind


def email_queue(
    *,
    kind: str,
    language: str,
    signature: Signature | None = None,
    export: SignatoryExport | None = None,
) -> Email:
    """Queue one email about a signature or an export, in the caller's transaction."""
    email = Email.objects.create(kind=kind, language=language, signature=signature, export=export)
    relay_after_commit()
    return email


def export_build_queue(*, export: SignatoryExport) -> Handoff:
    """Queue the building of an export, in the caller's transaction."""
    handoff = Handoff.objects.create(kind=Handoff.Kind.EXPORT_BUILD, export=export)
    relay_after_commit()
    return handoff


def relay_after_commit() -> None:
    """With eager tasks (the embedded default: no broker, no beat) nothing would ever run the
    relay, so the transaction that queued work runs it once it has committed: the email then
    leaves, in-process, as the request ends. With a broker, beat's tick does it and the
    request stays clear of the broker."""
    if current_app.conf.task_always_eager:
        transaction.on_commit(_relay_now, robust=True)


def _relay_now() -> None:
    outbox_relay.apply()
