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
from django.db import transaction
from django.utils import timezone

from statements import counters
from statements.models import Signature, Statement
from statements.normalise import email_key, name_key
from statements.outbox.models import Email
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
    # The partner's embedded form it came through, if any (statements.partners).
    referrer_id: int | None = None
    # Campaign updates asked for, on a checkbox of its own.
    wants_updates: bool = False
    # The address key, when the caller has it already (normalise.email_key(email)).
    email_key: str = ""


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

    Nor does the time it takes tell: a first signature and a duplicate are the same single
    statement (see `_sign`), one INSERT … ON CONFLICT on the address key that inserts the row
    or updates the one holding the address, and one outbox row either way (written cancelled,
    not to be sent, past the cap). One durable transaction (it refuses to run inside another
    one; on PostgreSQL the statement is one), so the signature and its email are committed
    together when this returns. Returns the signature as submitted, with the key of the row
    that holds it.
    """
    if not statement.accepts_signatures:
        raise SigningClosed
    signature = _new_signature(statement, data, client_ip)
    connection = transaction.get_connection()
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # One statement, which PostgreSQL commits by itself: a transaction around it would
        # only add the round trips of BEGIN and COMMIT to every sign POST.
        _sign(signature)
    else:
        with transaction.atomic(durable=True):
            _sign(signature)
    return signature


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
    "referrer",
    "wants_updates",
    "updates_consent_at",
    "delivery_error",
    # A new public id, so the links sent for the old details stop working: a link confirms
    # what it was sent for.
    "public_id",
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
        email_key=data.email_key or email_key(data.email),
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
        referrer_id=data.referrer_id,
        wants_updates=data.wants_updates,
        updates_consent_at=now if data.wants_updates else None,
    )


def _sign(signature: Signature) -> None:
    """Insert the signature, or apply the submission to the row that holds its address, and
    write the email either way: one statement on PostgreSQL.

    Django's ORM has no INSERT … ON CONFLICT on a partial unique index with a conditional
    update, nor a statement that writes two tables, so this is SQL; its columns and values
    come from the model (each field prepares its own value, as in save()), so a field added
    to Signature is part of it by itself. SQLite has no INSERT inside WITH: there the same
    upsert is followed by the outbox INSERT, the same two writes either way.
    """
    connection = transaction.get_connection()
    fields, signature_sql, email_sql = _sign_statements(
        connection.vendor, int(settings.SIGNATURE_MAX_EMAILS)
    )
    upsert_values = [
        field.get_db_prep_save(field.pre_save(signature, True), connection) for field in fields
    ]
    now = connection.ops.adapt_datetimefield_value(signature.created_at)
    email_values = [now, now]
    with connection.cursor() as cursor:
        if email_sql is None:
            cursor.execute(signature_sql, [*upsert_values, *email_values])
        else:
            cursor.execute(signature_sql, upsert_values)
            signature_id = cursor.fetchone()[0]
            cursor.execute(email_sql, [*email_values, signature_id])
        signature.pk = cursor.fetchone()[0]
    signature._state.adding = False
    signature._state.db = connection.alias
    relay_after_commit()


# The address key's unique index (the model's "one_signature_per_email" constraint): its
# columns and condition, which an ON CONFLICT clause must name to use a partial index,
# written as Django writes it in the index (SQLite matches the condition as written).
ADDRESS_KEY_COLUMNS = ("statement_id", "kind", "email_key")
ADDRESS_KEY_CONDITION = """(NOT ("email_key" = '') AND "key_released_at" IS NULL)"""


@functools.cache
def _sign_statements(vendor: str, cap: int) -> tuple[list, str, str | None]:
    """The statement(s) of a sign POST, written once per process (and cap of emails).

    Short enough, and with few enough parameters, for psycopg to keep its parsed form
    (queries up to 4096 bytes and 50 parameters; tests/statements/test_query_counts.py holds
    it there): parsing this one anew cost a sign POST 0.3 ms. Hence the short alias of the
    table and the cap written in as a number, where it would be a parameter eight-and-twenty
    times."""
    meta = Signature._meta
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    quote = transaction.get_connection().ops.quote_name
    table = quote(meta.db_table)
    least = "MIN" if vendor == "sqlite" else "LEAST"
    cap = int(cap)
    # The row as it was, before this submission (`t`): replaced only if still unconfirmed and
    # the submission is within the cap of emails.
    replace = f"t.state='pending' AND t.email_count<{cap}"
    replaced = ",".join(
        f"{quote(name)}=CASE WHEN {replace} THEN EXCLUDED.{quote(name)} ELSE t.{quote(name)} END"
        for name in (meta.get_field(field).column for field in REPLACED_FIELDS)
    )
    # Names come from the models, quoted by the backend; every value is a parameter.
    upsert = (
        f"INSERT INTO {table} AS t ({','.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({','.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({', '.join(map(quote, ADDRESS_KEY_COLUMNS))}) "
        f"WHERE {ADDRESS_KEY_CONDITION} "
        f"DO UPDATE SET email_count={least}(t.email_count+1,{cap + 1}),{replaced} "
        f"RETURNING {quote(meta.pk.column)} AS id, state, language, email_count"
    )
    # A new or unconfirmed signature gets a confirmation (a fresh link), a confirmed one
    # "already signed"; past the cap the row is written cancelled, the same work.
    outbox = Email._meta.db_table
    email_columns = "kind, signature_id, language, state, attempts, last_error, queued_at, due_at"
    email_values = (
        "CASE WHEN s.state = 'pending' THEN 'confirmation' ELSE 'already_signed' END, "
        "s.id, s.language, "
        f"CASE WHEN s.email_count <= {cap} THEN 'queued' ELSE 'cancelled' END, 0, "
        f"CASE WHEN s.email_count <= {cap} THEN '' ELSE 'over the limit per signature' END, "
        "%s, %s"
    )
    if vendor == "sqlite":
        email_sql = (
            f"INSERT INTO {outbox} ({email_columns}) "  # noqa: S608
            f"SELECT {email_values} FROM (SELECT %s AS chosen) "
            f"JOIN {table} AS s ON s.id = chosen RETURNING signature_id"
        )
        return fields, upsert, email_sql
    statement = (
        f"WITH s AS ({upsert}) INSERT INTO {outbox} ({email_columns}) "  # noqa: S608
        f"SELECT {email_values} FROM s RETURNING signature_id"
    )
    return fields, statement, None


def signature_resend(*, statement: Statement, kind: str, email: str) -> None:
    """Send the email about a signature again, from the thanks page: what signing again with
    the same address would send (the confirmation link while the signature is unconfirmed,
    "already signed" afterwards), within the cap of emails per signature, without changing
    the signature. An address that holds no signature gets nothing, and the caller answers
    the same either way."""
    key = email_key(email)
    if not key:
        return
    with transaction.atomic():
        signature = (
            Signature.objects.select_for_update()
            .filter(statement=statement, kind=kind, email_key=key, key_released_at__isnull=True)
            .only("pk", "state", "language", "email_count")
            .first()
        )
        if (
            signature is None
            or signature.state in {State.WITHDRAWN, State.FRAUDULENT}
            or signature.email_count >= settings.SIGNATURE_MAX_EMAILS
        ):
            return
        signature.email_count += 1
        signature.save(update_fields=["email_count"])
        pending = signature.state == State.PENDING
        email_queue(
            kind=Email.Kind.CONFIRMATION if pending else Email.Kind.ALREADY_SIGNED,
            language=signature.language,
            signature=signature,
        )


@dataclass(frozen=True)
class Confirmed:
    """A signature just confirmed through its link, with what its page shows."""

    pk: int
    state: str
    statement_id: int
    kind: str
    full_name: str
    organisation_name: str
    show_publicly: bool


def signature_confirm_link(*, public_id) -> Confirmed | None:
    """Confirm the unconfirmed signature a link names, in one statement: its new state (a
    moderator's review first for organisations, and for individuals where the statement says
    so) and what its page shows come back from the UPDATE itself. None if the link's
    signature is not unconfirmed any more (or not there): `signature_confirm` and the page of
    a used link take over. The hottest write after signing, hence one round trip and no
    transaction around it."""
    connection = transaction.get_connection()
    public_id = Signature._meta.get_field("public_id").get_db_prep_value(public_id, connection)
    now = Signature._meta.get_field("confirmed_at").get_db_prep_value(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(_confirm_statement(), [now, public_id])
        row = cursor.fetchone()
    if row is None:
        return None
    confirmed = Confirmed(*row[:6], show_publicly=bool(row[6]))
    if confirmed.state in Signature.PUBLIC_STATES:
        counters.bump_on_commit(confirmed.statement_id, confirmed.kind, +1)
    return confirmed


@functools.cache
def _confirm_statement() -> str:
    """`signature_confirm`'s change as one UPDATE … RETURNING (PostgreSQL, and SQLite from
    3.35), the statement's rule read in a subquery; names from the models, quoted by the
    backend."""
    quote = transaction.get_connection().ops.quote_name
    table = quote(Signature._meta.db_table)

    def column(name: str) -> str:
        return quote(Signature._meta.get_field(name).column)

    moderated = (
        f"(SELECT st.{quote(Statement._meta.get_field('moderate_individuals').column)} "  # noqa: S608
        f"FROM {quote(Statement._meta.db_table)} AS st "
        f"WHERE st.{quote(Statement._meta.pk.column)} = {table}.{column('statement')})"
    )
    returned = ", ".join(
        [quote(Signature._meta.pk.column)]
        + [
            column(name)
            for name in ("state", "statement", "kind", "full_name", "organisation_name")
        ]
        + [column("show_publicly")]
    )
    return (
        f"UPDATE {table} SET "  # noqa: S608
        f"{column('state')} = CASE WHEN {column('kind')} = '{Kind.ORGANISATION}' "
        f"OR {moderated} THEN '{State.AWAITING_MODERATION}' ELSE '{State.CONFIRMED}' END, "
        f"{column('confirmed_at')} = %s "
        f"WHERE {column('public_id')} = %s AND {column('state')} = '{State.PENDING}' "
        f"AND {column('withdrawn_at')} IS NULL "
        f"RETURNING {returned}"
    )


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
