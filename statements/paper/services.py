"""Importing paper signatures, and undoing an import. Both audited.

An import validates every row first and saves nothing unless every row is valid: the
organiser gets the list of problems by row and column, fixes the spreadsheet and uploads it
again. Rows that repeat a signature already recorded (online or from an earlier import, found
by the same email and organisation keys as online signing uses), or an earlier row of the same
file, are reported and skipped, so nobody counts twice.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from statements import counters
from statements.models import AuditEvent, Signature, Statement
from statements.normalise import email_key, name_key
from statements.paper.forms import PaperRowForm
from statements.paper.models import PaperImport
from statements.paper.reading import Row, Unreadable, read_rows

logger = logging.getLogger(__name__)

Kind = Signature.Kind
State = Signature.State
CONSENT_VERSION = "paper"


@dataclass
class ImportOutcome:
    file_error: str = ""
    errors: list[tuple[int, str, list[str]]] = field(default_factory=list)  # row, column, …
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # row, why
    row_count: int = 0
    paper_import: PaperImport | None = None

    @property
    def imported(self) -> bool:
        return self.paper_import is not None


def _signed_at(signed_on, now: datetime) -> datetime:
    if signed_on is None:
        return now
    return datetime.combine(signed_on, time(12), tzinfo=UTC)


def _signature(statement: Statement, data: dict, *, language: str, now: datetime) -> Signature:
    is_org = data["kind"] == Kind.ORGANISATION
    at = _signed_at(data.get("signed_on"), now)
    approved = is_org or statement.moderate_individuals
    return Signature(
        statement=statement,
        kind=data["kind"],
        state=State.APPROVED if approved else State.CONFIRMED,
        source=Signature.Source.PAPER,
        language=language,
        full_name=data["full_name"],
        email=data["email"],
        email_key=email_key(data["email"]) if data["email"] else "",
        country=data["country"],
        city=data["city"],
        affiliation="" if is_org else data["affiliation"],
        show_publicly=True if is_org else data["show_publicly"],
        comment=data["comment"],
        organisation_name=data["organisation_name"] if is_org else "",
        organisation_name_key=name_key(data["organisation_name"]) if is_org else "",
        organisation_type=data["organisation_type"] if is_org else "",
        website=data["website"] if is_org else "",
        contact_role=data["contact_role"] if is_org else "",
        authorised=is_org,
        consent_version=CONSENT_VERSION,
        consent_at=at,
        created_at=at,
        confirmed_at=at,
        decided_at=at if approved else None,
    )


def _validate(rows: list[Row], outcome: ImportOutcome) -> list[tuple[int, dict]]:
    valid = []
    for row in rows:
        form = PaperRowForm(data=row.values)
        if form.is_valid():
            valid.append((row.number, form.cleaned_data))
        else:
            for column, messages in form.errors.items():
                outcome.errors.append((row.number, column if column != "__all__" else "", messages))
    return valid


def _existing_keys(statement: Statement, signatures: list[Signature]) -> tuple[set, set]:
    """The email keys (per kind) and organisation keys among these that are taken already."""
    emails = {(s.kind, s.email_key) for s in signatures if s.email_key}
    organisations = {
        (s.organisation_name_key, s.country) for s in signatures if s.kind == Kind.ORGANISATION
    }
    taken_emails, taken_organisations = set(), set()
    keys = sorted({key for _kind, key in emails})
    for start in range(0, len(keys), 1000):
        taken_emails |= set(
            Signature.objects.filter(
                statement=statement,
                email_key__in=keys[start : start + 1000],
                key_released_at__isnull=True,  # a released address may sign again
            ).values_list("kind", "email_key")
        )
    names = sorted({name for name, _country in organisations})
    for start in range(0, len(names), 1000):
        taken_organisations |= set(
            Signature.objects.filter(
                statement=statement,
                kind=Kind.ORGANISATION,
                # Only an approved endorsement holds the name; others await a moderator.
                state=State.APPROVED,
                organisation_name_key__in=names[start : start + 1000],
            ).values_list("organisation_name_key", "country")
        )
    return taken_emails, taken_organisations


def _without_duplicates(
    statement: Statement, candidates: list[tuple[int, Signature]], outcome: ImportOutcome
) -> list[Signature]:
    taken_emails, taken_organisations = _existing_keys(statement, [s for _n, s in candidates])
    seen_emails: dict[tuple, int] = {}
    seen_organisations: dict[tuple, int] = {}
    kept = []
    for number, signature in candidates:
        email = (signature.kind, signature.email_key)
        organisation = (signature.organisation_name_key, signature.country)
        is_org = signature.kind == Kind.ORGANISATION
        if signature.email_key and email in taken_emails:
            outcome.duplicates.append((number, _("this address has signed already")))
        elif is_org and organisation in taken_organisations:
            outcome.duplicates.append((number, _("this organisation has signed already")))
        elif signature.email_key and email in seen_emails:
            outcome.duplicates.append(
                (number, _("same address as row %(row)d") % {"row": seen_emails[email]})
            )
        elif is_org and organisation in seen_organisations:
            outcome.duplicates.append(
                (
                    number,
                    _("same organisation as row %(row)d")
                    % {"row": seen_organisations[organisation]},
                )
            )
        else:
            kept.append(signature)
            if signature.email_key:
                seen_emails[email] = number
            if is_org:
                seen_organisations[organisation] = number
    return kept


def _after_commit(statement_id: int) -> None:
    from statements.tasks import history_refresh

    counters.refresh(statement_id)
    history_refresh.delay()


def paper_import_create(
    *, statement: Statement, file_name: str, data: bytes, actor, language: str
) -> ImportOutcome:
    """Validate every row of the file; if all are valid, save them (duplicates skipped) as one
    import. Nothing is saved when any row is invalid."""
    outcome = ImportOutcome()
    try:
        rows = read_rows(file_name, data)
    except Unreadable as exc:
        outcome.file_error = str(exc)
        return outcome
    outcome.row_count = len(rows)
    valid = _validate(rows, outcome)
    if outcome.errors:
        return outcome
    now = timezone.now()
    candidates = [
        (number, _signature(statement, cleaned, language=language, now=now))
        for number, cleaned in valid
    ]
    try:
        with transaction.atomic(durable=True):
            signatures = _without_duplicates(statement, candidates, outcome)
            paper_import = PaperImport.objects.create(
                statement=statement,
                file_name=file_name[:200],
                row_count=len(rows),
                imported_count=len(signatures),
                duplicate_count=len(outcome.duplicates),
                imported_by=actor,
            )
            for signature in signatures:
                signature.paper_import = paper_import
            Signature.objects.bulk_create(signatures, batch_size=1000)
            AuditEvent.objects.create(
                actor=actor,
                action="paper_import.imported",
                data={
                    "import": paper_import.pk,
                    "statement": statement.slug,
                    "file": paper_import.file_name,
                    "rows": len(rows),
                    "imported": len(signatures),
                    "duplicates": len(outcome.duplicates),
                },
            )
            transaction.on_commit(lambda: _after_commit(statement.pk))
    except IntegrityError:
        # Someone signed online with one of these addresses meanwhile: nothing was saved.
        outcome.file_error = _("Some signatures arrived online meanwhile. Upload the file again.")
        outcome.duplicates = []
        return outcome
    outcome.paper_import = paper_import
    logger.info("paper import %d: %d signatures", paper_import.pk, len(signatures))
    return outcome


@transaction.atomic
def paper_import_undo(*, import_id: int, actor) -> bool:
    """Delete every signature the import created. Idempotent; False if it was undone already."""
    paper_import = PaperImport.objects.select_for_update().get(pk=import_id)
    if paper_import.state != PaperImport.State.IMPORTED:
        return False
    _total, by_model = Signature.objects.filter(paper_import=paper_import).delete()
    deleted = by_model.get(Signature._meta.label, 0)
    paper_import.state = PaperImport.State.UNDONE
    paper_import.undone_at = timezone.now()
    paper_import.undone_by = actor
    paper_import.save(update_fields=["state", "undone_at", "undone_by"])
    AuditEvent.objects.create(
        actor=actor,
        action="paper_import.undone",
        data={
            "import": paper_import.pk,
            "statement": paper_import.statement.slug,
            "file": paper_import.file_name,
            "deleted": deleted,
        },
    )
    statement_id = paper_import.statement_id
    transaction.on_commit(lambda: _after_commit(statement_id))
    return True
