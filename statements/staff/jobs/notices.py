"""The email that tells an organisation its endorsement is public, sent by the worker."""

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from statements import tokens
from statements.emails import PermanentDeliveryError, deliver
from statements.models import AuditEvent, Signature, Statement
from statements.staff.rules import ENDORSEMENT_PUBLISHED_SENT

logger = logging.getLogger(__name__)

State = Signature.State
Kind = Signature.Kind


def _send_to_signer(signature: Signature, name: str, context: dict) -> None:
    deliver(name, to=signature.email, context=context, language=signature.language)


def _statement_title(statement: Statement, language: str) -> str:
    texts = {t.language: t.title for t in statement.translations.all()}
    return texts.get(language) or texts.get(statement.original_language) or statement.slug


@transaction.atomic
def endorsement_published_deliver(*, signature_id: int) -> bool:
    """Tell an organisation that its endorsement is public. Returns whether an email left.

    Sent once per endorsement: an audit event records the sending under the row lock, so a
    redelivered task, or approving again after a rejection, sends nothing more.
    """
    signature = (
        Signature.objects.select_for_update(of=("self",))
        .select_related("statement")
        .filter(pk=signature_id)
        .first()
    )
    if signature is None or signature.kind != Kind.ORGANISATION:
        return False
    if signature.state != State.APPROVED:
        return False
    if signature.audit_events.filter(action=ENDORSEMENT_PUBLISHED_SENT).exists():
        return False
    slug = signature.statement.slug
    withdraw_token = tokens.make_token(signature, tokens.WITHDRAW)
    # The links open the pages in the organisation's language (it is in their addresses).
    with translation.override(signature.language):
        context = {
            "signature": signature,
            "statement_title": _statement_title(signature.statement, signature.language),
            "signatories_url": settings.SITE_URL
            + reverse("statements:signatories", kwargs={"slug": slug}),
            "statement_url": settings.SITE_URL
            + reverse("statements:detail", kwargs={"slug": slug}),
            "withdraw_url": settings.SITE_URL
            + reverse("statements:withdraw", kwargs={"token": withdraw_token}),
        }
    try:
        _send_to_signer(signature, "endorsement_published", context)
    except PermanentDeliveryError as exc:
        signature.delivery_error = str(exc)[: Signature.LIMITS["delivery_error"]]
        signature.save(update_fields=["delivery_error"])
        logger.warning("publication notice for signature %d failed for good", signature.pk)
        return False
    AuditEvent.objects.create(action=ENDORSEMENT_PUBLISHED_SENT, signature=signature)
    return True
