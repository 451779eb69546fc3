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
from statements.outbox.models import Email, EmailKind
from statements.outbox.services import email_queue, relay_after_commit

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
    signature plus an "already signed" email, capped per signature, so the form cannot be
    used to learn who has signed — not by the page, and not by the time it takes: both are
    the same single statement (see `_sign`), one INSERT … ON CONFLICT that either inserts the
    signature or counts the new submission on the row that holds the address, and one outbox
    row either way (cancelled, not sent, past the cap).

    One durable transaction (it refuses to run inside another one), so the signature and its
    email are committed together when this returns. Returns the signature as submitted, with
    the key of the row that holds it.
    """
    if not statement.accepts_signatures:
        raise SigningClosed
    signature = _new_signature(statement, data, client_ip)
    try:
        with transaction.atomic(durable=True):
            _sign(signature)
        return signature
    except IntegrityError as error:
        duplicate = error
    # Another unique key than the address: the same organisation and country.
    with transaction.atomic(durable=True):
        existing = _organisation_duplicate(signature)
        if existing is None:
            raise duplicate
        allowed = Signature.objects.filter(
            pk=existing.pk, email_count__lt=settings.SIGNATURE_MAX_EMAILS
        ).update(email_count=F("email_count") + 1)
        if allowed:
            email_queue(
                kind=EmailKind.ALREADY_SIGNED, signature=existing, language=existing.language
            )
        return existing


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


def _sign(signature: Signature) -> None:
    """Insert the signature, or count the submission on the row that holds its address, and
    write the email either way, in one statement on PostgreSQL.

    Django's ORM has no INSERT … ON CONFLICT with a partial unique index and a conditional
    update, nor a statement that inserts into two tables, so this is SQL; its columns and
    values come from the model (each field prepares its own value, as in save()), so a field
    added to Signature is part of it by itself. SQLite has no INSERT inside WITH: there the
    same upsert is followed by the outbox INSERT, the same two writes either way.
    """
    connection = transaction.get_connection()
    fields, signature_sql, email_sql = _sign_statements(connection.vendor)
    values = [
        field.get_db_prep_save(field.pre_save(signature, True), connection) for field in fields
    ]
    cap = settings.SIGNATURE_MAX_EMAILS
    now = connection.ops.adapt_datetimefield_value(signature.created_at)
    with connection.cursor() as cursor:
        if email_sql is None:
            cursor.execute(signature_sql, [*values, cap + 1, cap, cap, now, now])
        else:
            cursor.execute(signature_sql, [*values, cap + 1])
            signature_id = cursor.fetchone()[0]
            cursor.execute(email_sql, [cap, cap, now, now, signature_id])
        signature.pk = cursor.fetchone()[0]
    signature._state.adding = False
    signature._state.db = connection.alias
    relay_after_commit()


# The address key's unique index (the model's "one_signature_per_email" constraint): its
# columns and condition, which an ON CONFLICT clause must name to use a partial index,
# written as Django writes it in the index (SQLite matches the condition as written).
ADDRESS_KEY_COLUMNS = ("statement_id", "kind", "email_key")
ADDRESS_KEY_CONDITION = """NOT ("email_key" = '')"""


@functools.cache
def _sign_statements(vendor: str) -> tuple[list, str, str | None]:
    meta = Signature._meta
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    quote = transaction.get_connection().ops.quote_name
    table = quote(meta.db_table)
    # Names come from the models, quoted by the backend; every value is a parameter.
    upsert = (
        f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({', '.join(map(quote, ADDRESS_KEY_COLUMNS))}) "
        f"WHERE {ADDRESS_KEY_CONDITION} "
        f"DO UPDATE SET email_count = MIN_OR_LEAST({table}.email_count + 1, %s) "
        f"RETURNING {quote(meta.pk.column)}, state, language, email_count"
    ).replace("MIN_OR_LEAST", "MIN" if vendor == "sqlite" else "LEAST")
    # A new signature (its count is still 1) gets a confirmation, a submission for an address
    # already held "already signed"; the count stops one past the cap, and past the cap the
    # row is written cancelled: not sent, and the same work.
    outbox = Email._meta.db_table
    email_columns = "kind, signature_id, language, state, attempts, last_error, queued_at, due_at"
    email_values = (
        "CASE WHEN s.email_count = 1 THEN 'confirmation' ELSE 'already_signed' END, "
        "s.id, s.language, "  # the returned key is named after the model's primary key
        "CASE WHEN s.email_count <= %s THEN 'queued' ELSE 'cancelled' END, 0, "
        "CASE WHEN s.email_count <= %s THEN '' ELSE 'over the limit per signature' END, %s, %s"
    )
    if vendor == "sqlite":
        email_sql = (
            f"INSERT INTO {outbox} ({email_columns}) "  # noqa: S608
            f"SELECT {email_values} FROM (SELECT %s AS id) AS chosen "
            f"JOIN {table} AS s ON s.id = chosen.id RETURNING signature_id"
        )
        return fields, upsert, email_sql
    statement = (
        f"WITH s AS ({upsert}) INSERT INTO {outbox} ({email_columns}) "  # noqa: S608
        f"SELECT {email_values} FROM s RETURNING signature_id"
    )
    return fields, statement, None


def _organisation_duplicate(signature: Signature) -> Signature | None:
    if signature.kind != Kind.ORGANISATION:
        return None
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
