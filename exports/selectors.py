"""Reads for signatory exports: which signatures an export covers, fetched in chunks.

Rows are read as tuples (`values_list`), never as model instances, and in chunks by keyset
pagination on the primary key: each chunk is one short query that starts where the last one
ended, so memory stays flat whatever the size of the list, no cursor stays open between chunks
(progress updates can commit in between), and the same code runs on PostgreSQL and SQLite.
"""

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import CharField, FloatField, Func, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from exports.models import SignatoryExport
from statements.models import Signature

Kind = Signature.Kind
State = Signature.State

# States an organiser may export. Withdrawn signatures are left out: their personal data has
# been erased, so their rows would be empty.
EXPORTABLE_STATES = tuple(state for state in State if state != State.WITHDRAWN)
DEFAULT_STATES = tuple(state for state in EXPORTABLE_STATES if state in Signature.PUBLIC_STATES)
CHUNK_SIZE = 5000


_TO_CHAR_ISO = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'


class IsoTimestamp(Func):
    """A timestamp as ISO 8601 text in UTC to the second, "2022-01-05T10:00:00Z", formatted
    by the database. Formatting three datetimes a row in Python would cost more than the
    whole CSV budget of a million-row export; the database does it for a fraction of that.
    NULL stays NULL."""

    arity = 1
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template=f"to_char((%(expressions)s) AT TIME ZONE 'UTC', '{_TO_CHAR_ISO}')",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores timestamps in SQLite as UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]".
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"strftime(%s, {sql})", ("%Y-%m-%dT%H:%M:%SZ", *params)


class ExcelSerial(Func):
    """A timestamp as a spreadsheet date: days since 1899-12-30 (the serial number Excel,
    LibreOffice and XLSX files use), in UTC, to the second. The database computes it, for
    the same reason as IsoTimestamp; with a date format the cell reads as a date and time
    that sorts and filters as one. NULL stays NULL."""

    arity = 1
    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="(floor(date_part('epoch', %(expressions)s)) / 86400.0::float8 + 25569)",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return (
            f"(CAST(strftime(%s, {sql}) AS INTEGER) / 86400.0 + 25569)",
            ("%s", *params),
        )


# The columns an export reads, in this order; the writers rely on it ("id" first).
EXPORT_FIELDS = (
    "id",
    "kind",
    "state",
    "full_name",
    "email",
    "organisation_name",
    "organisation_type",
    "contact_role",
    "website",
    "affiliation",
    "city",
    "country",
    "show_publicly",
    "comment",
    "language",
    "source",
    # The partner's referral code for signatures made through its embedded form, else "".
    Coalesce("referrer__code", Value("")),
    IsoTimestamp("created_at"),
    IsoTimestamp("confirmed_at"),
    IsoTimestamp("decided_at"),
)
# The same for the XLSX workbook, whose timestamps are date cells.
XLSX_FIELDS = (
    *EXPORT_FIELDS[:-3],
    ExcelSerial("created_at"),
    ExcelSerial("confirmed_at"),
    ExcelSerial("decided_at"),
)


@dataclass(frozen=True)
class ExportFilters:
    """What an organiser asked for, as stored in `SignatoryExport.filters`."""

    kinds: tuple[str, ...] = (Kind.ORGANISATION.value, Kind.INDIVIDUAL.value)
    states: tuple[str, ...] = tuple(s.value for s in DEFAULT_STATES)
    countries: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    # Language of the list's own words: country names, and the whole printable PDF.
    language: str = "es"
    # A byte-order mark so that spreadsheet programs read a CSV file as UTF-8.
    bom: bool = False
    # The organiser's interface language when asking, for the "ready" or "failed" email.
    email_language: str = "es"
    # Whether to send that email; an organiser who watches the progress page may not want it.
    notify: bool = True

    def to_json(self) -> dict:
        data = asdict(self)
        data["kinds"] = list(self.kinds)
        data["states"] = list(self.states)
        data["countries"] = list(self.countries)
        data["date_from"] = self.date_from.isoformat() if self.date_from else None
        data["date_to"] = self.date_to.isoformat() if self.date_to else None
        return data

    @classmethod
    def from_json(cls, data: dict | None) -> "ExportFilters":
        data = data or {}
        defaults = cls()

        def day(value) -> date | None:
            return date.fromisoformat(value) if value else None

        return cls(
            kinds=tuple(data.get("kinds") or defaults.kinds),
            states=tuple(data.get("states") or defaults.states),
            countries=tuple(data.get("countries") or ()),
            date_from=day(data.get("date_from")),
            date_to=day(data.get("date_to")),
            language=data.get("language") or defaults.language,
            bom=bool(data.get("bom", False)),
            email_language=data.get("email_language") or data.get("language") or "es",
            notify=bool(data.get("notify", True)),
        )


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def export_queryset(export: SignatoryExport) -> QuerySet[Signature]:
    """The signatures an export covers: its statement, kinds, states, countries and dates.

    The date range is inclusive and applies to the day the signature was made, in the site's
    time zone; it is turned into bounds on `created_at` so that the index can be used.
    """
    filters = ExportFilters.from_json(export.filters)
    states = [s for s in filters.states if s in {state.value for state in EXPORTABLE_STATES}]
    queryset = Signature.objects.filter(
        statement_id=export.statement_id, kind__in=list(filters.kinds), state__in=states
    )
    if filters.countries:
        queryset = queryset.filter(country__in=list(filters.countries))
    if filters.date_from:
        queryset = queryset.filter(created_at__gte=_start_of(filters.date_from))
    if filters.date_to:
        queryset = queryset.filter(created_at__lt=_start_of(filters.date_to + timedelta(days=1)))
    return queryset.order_by()


def iter_chunks(
    queryset: QuerySet, fields: tuple = EXPORT_FIELDS, *, chunk_size: int | None = None
) -> Iterator[list[tuple]]:
    """Yield the queryset's rows as lists of tuples, `chunk_size` (default CHUNK_SIZE) at a
    time, in primary key order. `fields[0]` must be the primary key: each chunk starts after
    the last key of the one before."""
    if fields[0] not in {"id", "pk"}:
        raise ValueError("the first field must be the primary key")
    chunk_size = chunk_size or CHUNK_SIZE
    last = None
    while True:
        page = queryset if last is None else queryset.filter(pk__gt=last)
        rows = list(page.order_by("pk").values_list(*fields)[:chunk_size])
        if not rows:
            return
        yield rows
        if len(rows) < chunk_size:
            return
        last = rows[-1][0]
