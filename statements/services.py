"""Every write of the signing flow goes through one function here.

Functions are keyword-only and own their transaction. Emails are queued in the outbox in the
same transaction as the change that causes them (statements/outbox/), so a signature and its
confirmation email are committed together or not at all, and no request waits on the broker.
"""

import functools
import hashlib
import hmac
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from statements import counters
from statements.models import Signature, Statement
from statements.normalise import email_key, name_key
from statements.outbox.models import EmailKind
from statements.outbox.services import email_queue

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

    A duplicate (same statement, kind and email key, or the same organisation in the same
    country) gets the same outcome as a first signature plus an "already signed" email, capped
    per signature, so the form cannot be used to learn who has signed.

    Each outcome is one durable transaction (it refuses to run inside another one), holding the
    signature and its outbox row. A duplicate, which the INSERT reveals by the unique
    constraint, is handled in a transaction of its own (no savepoint on the common path).
    """
    if not statement.accepts_signatures:
        raise SigningClosed
    now = timezone.now()
    is_org = data.kind == Kind.ORGANISATION
    signature = Signature(
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
    try:
        with transaction.atomic(durable=True):
            _insert(signature)
            email_queue(kind=EmailKind.CONFIRMATION, signature=signature, language=data.language)
        return signature
    except IntegrityError as error:
        duplicate = error
    with transaction.atomic(durable=True):
        existing = _find_duplicate(signature)
        if existing is None:
            raise duplicate
        # Count the notice before queueing it, so concurrent duplicates respect the cap.
        allowed = Signature.objects.filter(
            pk=existing.pk, email_count__lt=settings.SIGNATURE_MAX_EMAILS
        ).update(email_count=F("email_count") + 1)
        if allowed:
            email_queue(
                kind=EmailKind.ALREADY_SIGNED, signature=existing, language=existing.language
            )
        return existing


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


def _find_duplicate(signature: Signature) -> Signature | None:
    by_email = Signature.objects.filter(
        statement=signature.statement, kind=signature.kind, email_key=signature.email_key
    ).first()
    if by_email is not None or signature.kind != Kind.ORGANISATION:
        return by_email
    return Signature.objects.filter(
        statement=signature.statement,
        kind=Kind.ORGANISATION,
        organisation_name_key=signature.organisation_name_key,
        country=signature.country,
    ).first()


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
    """Withdraw a signature: it leaves counts and lists, and its personal data is erased."""
    signature = Signature.objects.select_for_update().get(pk=signature_id)
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
