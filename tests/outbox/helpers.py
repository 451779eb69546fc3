"""Outbox rows as the services write them, for tests of the relay and the sender."""

from statements.models import Signature
from statements.outbox.models import Email
from tests.factories import SignatureFactory


def queue_confirmations(statement, count: int, *, language: str = "en", **fields) -> list[Email]:
    """`count` unconfirmed signatures, each with its confirmation email queued."""
    signatures = SignatureFactory.create_batch(
        count,
        statement=statement,
        state=Signature.State.PENDING,
        confirmed_at=None,
        language=language,
        **fields,
    )
    return [
        Email.objects.create(kind=Email.Kind.CONFIRMATION, signature=s, language=language)
        for s in signatures
    ]


def states(emails) -> list[str]:
    return list(Email.objects.filter(pk__in=[e.pk for e in emails]).values_list("state", flat=True))
