"""Every write of the signing flow goes through one function here.

Functions are keyword-only, own their transaction, and queue emails with delay_on_commit so a
task never runs before its row is committed. Tasks receive primary keys, never personal data.
"""

import functools
import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation

from statements import counters, selectors, tokens
from statements.emails import PermanentDeliveryError, deliver
from statements.models import Signature, Statement
from statements.normalise import email_key, name_key

logger = logging.getLogger(__name__)

State = Signature.State
Kind = Signature.Kind

# States from which confirming the email moves a signature on; confirming twice is harmless.
CONFIRMABLE = frozenset({State.PENDING})
WITHDRAWABLE = frozenset(
    {State.PENDING, State.CONFIRMED, State.AWAITING_MODERATION, State.APPROVED, State.REJECTED}
)


class SigningClosed(Exception):
    """The statement no longer accepts signatures."""


@dataclass(frozen=True)
class SignatureData:
    kind: str
    full_name: str
    email: str
    country: str
    language: str
    consent_version: str
    city: str = ""
    affiliation: str = ""
    show_publicly: bool = False
    comment: str = ""
    organisation_name: str = ""
    organisation_type: str = ""
    website: str = ""
    contact_role: str = ""
    authorised: bool = False


def ip_hash(client_ip: str) -> str:
    """A keyed hash of the client address: groups abuse without storing the address."""
    key = (settings.IP_HASH_KEY or settings.SECRET_KEY).encode()
    return hmac.new(key, client_ip.encode(), hashlib.sha256).hexdigest()[:32]


def signature_create(*, statement: Statement, data: SignatureData, client_ip: str) -> Signature:
    """Record a signature and queue its confirmation email.

    A duplicate (same statement, kind and email key) gets the same outcome as a first
    signature, so the form cannot be used to learn who has signed: if the row it meets is
    still unconfirmed, the new details replace the old and a fresh link goes out (the old one
    stops working), so a stranger who typed someone's address holds nothing once its owner
    signs; otherwise its owner gets an "already signed" email. Emails per row are capped.
    An organisation's name holds nothing until a moderator approves it, so another
    submission for the same organisation is a row of its own, for moderators to choose from.

    Each outcome is one durable transaction (it refuses to run inside another one), so the row
    is committed when this returns and the task always finds it. A new signature costs one
    INSERT, then the task is published on commit; a duplicate, which the INSERT reveals by the
    unique constraint, is handled in a transaction of its own (no savepoint on the common path).
    """
    from statements.tasks import confirmation_send, duplicate_notice_send

    if not statement.accepts_signatures:
        raise SigningClosed
    signature = _new_signature(statement, data, client_ip)
    try:
        with transaction.atomic(durable=True):
            _insert(signature)
            confirmation_send.delay_on_commit(signature.pk)
        return signature
    except IntegrityError as error:
        duplicate = error
    with transaction.atomic(durable=True):
        existing = (
            Signature.objects.select_for_update()
            .filter(
                statement=signature.statement,
                kind=signature.kind,
                email_key=signature.email_key,
                key_released_at__isnull=True,
            )
            .first()
        )
        if existing is None:
            raise duplicate
        # Count the email before queueing it, so concurrent duplicates respect the cap.
        allowed = Signature.objects.filter(
            pk=existing.pk, email_count__lt=settings.SIGNATURE_MAX_EMAILS
        ).update(email_count=F("email_count") + 1)
        if not allowed:
            return existing
        if existing.state == State.PENDING:
            _replace_details(existing, signature)
            confirmation_send.delay_on_commit(existing.pk)
        else:
            duplicate_notice_send.delay_on_commit(existing.pk)
        return existing


# What a new submission for an unconfirmed row replaces: everything the signer typed or chose.
REPLACED_FIELDS = (
    "language",
    "full_name",
    "email",
    "country",
    "city",
    "affiliation",
    "show_publicly",
    "comment",
    "organisation_name",
    "organisation_name_key",
    "organisation_type",
    "website",
    "contact_role",
    "authorised",
    "consent_version",
    "consent_at",
    "ip_hash",
    "created_at",
)


def _replace_details(existing: Signature, submitted: Signature) -> None:
    """The newer submission's details, a new public id (so the links sent for the old details
    stop working: a link confirms what it was sent for) and a fresh confirmation email."""
    for name in REPLACED_FIELDS:
        setattr(existing, name, getattr(submitted, name))
    existing.public_id = uuid.uuid4()
    existing.confirmation_sent_at = None
    existing.delivery_error = ""
    existing.save(
        update_fields=[*REPLACED_FIELDS, "public_id", "confirmation_sent_at", "delivery_error"]
    )


def _new_signature(statement: Statement, data: SignatureData, client_ip: str) -> Signature:
    now = timezone.now()
    is_org = data.kind == Kind.ORGANISATION
    return Signature(
        statement=statement,
        kind=data.kind,
        language=data.language,
        full_name=data.full_name,
        email=data.email.strip(),
        email_key=email_key(data.email),
        country=data.country,
        city=data.city,
        affiliation="" if is_org else data.affiliation,
        show_publicly=True if is_org else data.show_publicly,
        comment=data.comment,
        organisation_name=data.organisation_name if is_org else "",
        organisation_name_key=name_key(data.organisation_name) if is_org else "",
        organisation_type=data.organisation_type if is_org else "",
        website=data.website if is_org else "",
        contact_role=data.contact_role if is_org else "",
        authorised=data.authorised if is_org else False,
        consent_version=data.consent_version,
        consent_at=now,
        ip_hash=ip_hash(client_ip) if client_ip else "",
        created_at=now,
        email_count=1,
    )


def _insert(signature: Signature) -> None:
    """signature.save(force_insert=True), for the one INSERT a viral statement makes hundreds
    of times a second: the same columns and values (each field prepares its own, as in save()),
    in one statement written once per process, without the query compiler, which costs more
    than the database's work. Signature has no parents, no auto_now fields and no signals of
    ours; a field added to the model is part of the statement by itself."""
    connection = transaction.get_connection()
    if not connection.features.can_return_columns_from_insert:
        signature.save(force_insert=True)
        return
    fields, sql = _insert_statement()
    values = [
        field.get_db_prep_save(field.pre_save(signature, True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        signature.pk = cursor.fetchone()[0]
    signature._state.adding = False
    signature._state.db = connection.alias


@functools.cache
def _insert_statement() -> tuple[list, str]:
    meta = Signature._meta
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    quote = transaction.get_connection().ops.quote_name
    # Names from the model, quoted by the backend; values are parameters.
    sql = "INSERT INTO {} ({}) VALUES ({}) RETURNING {}".format(  # noqa: S608
        quote(meta.db_table),
        ", ".join(quote(field.column) for field in fields),
        ", ".join(["%s"] * len(fields)),
        quote(meta.pk.column),
    )
    return fields, sql


@transaction.atomic
def signature_confirm(*, signature_id: int) -> Signature:
    """Confirm the email address. Idempotent: a replayed confirmation changes nothing."""
    signature = (
        Signature.objects.select_for_update().select_related("statement").get(pk=signature_id)
    )
    if signature.state not in CONFIRMABLE:
        return signature
    needs_moderation = (
        signature.kind == Kind.ORGANISATION or signature.statement.moderate_individuals
    )
    signature.state = State.AWAITING_MODERATION if needs_moderation else State.CONFIRMED
    signature.confirmed_at = timezone.now()
    signature.save(update_fields=["state", "confirmed_at"])
    if signature.state in Signature.PUBLIC_STATES:
        counters.bump_on_commit(signature.statement_id, signature.kind, +1)
    return signature


@transaction.atomic
def signature_withdraw(*, signature_id: int) -> Signature:
    """Withdraw a signature: it leaves counts and lists, and its personal data is erased.

    A signature marked fraudulent is erased too but keeps its state: what stays is a tombstone
    (statement, kind, dates and the moderators' audit trail), with nothing about the person.
    Withdrawing twice changes nothing."""
    signature = Signature.objects.select_for_update().get(pk=signature_id)
    if signature.withdrawn_at is not None:
        return signature
    if signature.state == State.FRAUDULENT:
        _erase(signature)
        signature.withdrawn_at = timezone.now()
        signature.save()
        return signature
    if signature.state not in WITHDRAWABLE:
        return signature
    was_public = signature.state in Signature.PUBLIC_STATES
    _erase(signature)
    signature.state = State.WITHDRAWN
    signature.withdrawn_at = timezone.now()
    signature.save()
    if was_public:
        counters.bump_on_commit(signature.statement_id, signature.kind, -1)
    return signature


def _erase(signature: Signature) -> None:
    for name in (
        "full_name",
        "email",
        "email_key",
        "city",
        "affiliation",
        "comment",
        "organisation_name",
        "organisation_name_key",
        "website",
        "contact_role",
        "ip_hash",
        "delivery_error",
        "moderation_reason",
    ):
        setattr(signature, name, "")
    signature.country = ""
    signature.show_publicly = False


def signature_purge_unconfirmed(*, now=None) -> int:
    """Delete signatures never confirmed within the retention period. Returns how many."""
    cutoff = (now or timezone.now()) - settings.SIGNATURE_RETENTION
    deleted, _ = Signature.objects.filter(state=State.PENDING, created_at__lt=cutoff).delete()
    if deleted:
        logger.info("purged %d unconfirmed signatures", deleted)
    return deleted


# --- Email delivery (called by tasks) --------------------------------------------------------


def _links(signature: Signature) -> dict[str, str]:
    def absolute(name: str, action: str) -> str:
        token = tokens.make_token(signature, action)
        return settings.SITE_URL + reverse(name, kwargs={"token": token})

    return {
        "confirm_url": absolute("statements:confirm", tokens.CONFIRM),
        "withdraw_url": absolute("statements:withdraw", tokens.WITHDRAW),
    }


def _deliver(signature: Signature, name: str) -> None:
    """Send one email to a signer (see emails.deliver for how refusals are sorted)."""
    title = selectors.statement_title_cached(signature.statement, signature.language)
    # The links open the pages in the signer's language (it is in their addresses).
    with translation.override(signature.language):
        context = {
            "signature": signature,
            "statement_title": title or signature.statement.slug,
            "statement_url": settings.SITE_URL
            + reverse("statements:detail", kwargs={"slug": signature.statement.slug}),
            "token_days": settings.SIGNATURE_TOKEN_MAX_AGE.days,
            **_links(signature),
        }
    deliver(name, to=signature.email, context=context, language=signature.language)


@transaction.atomic
def confirmation_deliver(*, signature_id: int) -> bool:
    """Send the confirmation email once. Returns whether an email went out.

    The row lock and `confirmation_sent_at` make the task idempotent: a redelivered task finds
    the email recorded and stops. Only a crash between sending and committing can send twice.
    """
    signature = (
        Signature.objects.select_for_update(of=("self",))
        .select_related("statement")
        .filter(pk=signature_id)
        .first()
    )
    if signature is None or signature.state != State.PENDING:
        return False
    if signature.confirmation_sent_at or signature.delivery_error:
        return False
    logger.info("sending confirmation for signature %d", signature.pk)
    try:
        _deliver(signature, "confirmation")
    except PermanentDeliveryError as exc:
        signature.delivery_error = str(exc)[: Signature.LIMITS["delivery_error"]]
        signature.save(update_fields=["delivery_error"])
        logger.warning("confirmation for signature %d failed for good: %s", signature.pk, exc)
        return False
    signature.confirmation_sent_at = timezone.now()
    signature.save(update_fields=["confirmation_sent_at"])
    return True


def duplicate_notice_deliver(*, signature_id: int) -> bool:
    """Tell someone who signed again that their signature is already recorded."""
    signature = Signature.objects.select_related("statement").filter(pk=signature_id).first()
    if signature is None or signature.state in {State.WITHDRAWN, State.FRAUDULENT}:
        return False
    try:
        _deliver(signature, "already_signed")
    except PermanentDeliveryError as exc:
        Signature.objects.filter(pk=signature.pk).update(delivery_error=str(exc)[:300])
        return False
    return True


def delivery_failed(*, signature_id: int, reason: str) -> None:
    """Record that an email could not be delivered after every retry (visible to moderators)."""
    Signature.objects.filter(pk=signature_id).update(delivery_error=reason[:300])


def confirmation_sweep(*, now=None, older_than: timedelta = timedelta(minutes=10)) -> list[int]:
    """Ids of signatures whose confirmation never left (e.g. the broker was down when they
    signed), for re-enqueueing. Too recent rows are skipped: their task may still be queued."""
    now = now or timezone.now()
    return list(
        Signature.objects.filter(
            state=State.PENDING,
            confirmation_sent_at__isnull=True,
            delivery_error="",
            created_at__lt=now - older_than,
            created_at__gt=now - settings.SIGNATURE_TOKEN_MAX_AGE,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:5000]
    )
