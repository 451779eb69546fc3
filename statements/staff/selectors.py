"""Reads for the staff area: the moderation queue, the dashboard, the statements, invalidation
runs and the audit log. Nothing here writes."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import StrIndex, Substr, TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from statements.models import (
    AuditEvent,
    InvalidationRun,
    Signature,
    Statement,
    StatementTranslation,
)
from statements.normalise import email_key
from statements.staff.rules import FRAUD_MARKABLE

State = Signature.State
Kind = Signature.Kind


def normalise_domain(value: str) -> str:
    """A domain as it appears in signatures' email keys (googlemail.com → gmail.com …)."""
    value = value.strip().lstrip("@")
    return email_key("x@" + value).partition("@")[2] if value else ""


@dataclass(frozen=True)
class QueueFilters:
    kind: str = ""
    # "" shows every state; the queue opens on the signatures awaiting a decision.
    state: str = State.AWAITING_MODERATION
    country: str = ""
    created_from: date | None = None
    created_to: date | None = None
    statement_id: int | None = None
    ip_hash: str = ""
    search: str = ""


def moderation_queue(filters: QueueFilters) -> QuerySet[Signature]:
    """Organisations first (their endorsements wait for a moderator by rule), then
    individuals; oldest first within each, so nobody waits behind later arrivals."""
    queryset = Signature.objects.select_related("statement")
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.country:
        queryset = queryset.filter(country=filters.country)
    if filters.created_from:
        queryset = queryset.filter(created_at__date__gte=filters.created_from)
    if filters.created_to:
        queryset = queryset.filter(created_at__date__lte=filters.created_to)
    if filters.statement_id:
        queryset = queryset.filter(statement_id=filters.statement_id)
    if filters.ip_hash:
        queryset = queryset.filter(ip_hash=filters.ip_hash)
    if filters.search:
        queryset = queryset.filter(_search(filters.search))
    return queryset.annotate(
        kind_order=Case(
            When(kind=Kind.ORGANISATION, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("kind_order", "created_at", "pk")


def _search(text: str) -> Q:
    """A name, an organisation, or an email domain ("@example.org" or "example.org")."""
    text = text.strip()
    domain = normalise_domain(text.rpartition("@")[2])
    by_domain = Q(email_key__endswith="@" + domain) if domain else Q(pk__in=[])
    if text.startswith("@"):
        return by_domain
    return Q(full_name__icontains=text) | Q(organisation_name__icontains=text) | by_domain


def statement_titles(language: str, *, by_slug: bool = False) -> dict:
    """Every statement's title in `language`, or in its original language where it has no
    translation: staff pages name statements by title, not by slug. Keyed by primary key,
    and by slug too with `by_slug` (the audit log's data holds either)."""
    titles: dict = {}
    slugs: dict[int, str] = {}
    rows = StatementTranslation.objects.values_list(
        "statement_id", "language", "title", "statement__original_language", "statement__slug"
    )
    for statement_id, text_language, title, original, slug in rows:
        slugs[statement_id] = slug
        if text_language == language or (text_language == original and statement_id not in titles):
            titles[statement_id] = title
    if by_slug:
        titles.update({slugs[pk]: title for pk, title in list(titles.items())})
    return titles


# --- Dashboard --------------------------------------------------------------------------------


def _scoped(statement_id: int | None) -> QuerySet[Signature]:
    queryset = Signature.objects.all()
    return queryset.filter(statement_id=statement_id) if statement_id else queryset


@dataclass(frozen=True)
class StateRow:
    state: str
    label: str
    individuals: int
    organisations: int

    @property
    def total(self) -> int:
        return self.individuals + self.organisations


def counts_by_state(statement_id: int | None = None) -> list[StateRow]:
    found = {
        (row["state"], row["kind"]): row["n"]
        for row in _scoped(statement_id).values("state", "kind").annotate(n=Count("id")).order_by()
    }
    return [
        StateRow(
            state=state.value,
            label=state.label,
            individuals=found.get((state.value, Kind.INDIVIDUAL), 0),
            organisations=found.get((state.value, Kind.ORGANISATION), 0),
        )
        for state in State
    ]


def signatures_per_day(
    *, days: int = 30, statement_id: int | None = None, today: date | None = None
) -> list[tuple[date, int]]:
    """Signatures received per day (UTC), every day of the window present, oldest first."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    counts = {
        row["day"]: row["n"]
        for row in _scoped(statement_id)
        .filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    }
    return [
        (first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)
    ]


def _most_frequent(rows: QuerySet, field: str, limit: int) -> list[tuple[str, int]]:
    """The `limit` values of `field` most frequent in `rows`, with their counts (ties in the
    value's order)."""
    counted = rows.values(field).annotate(n=Count("id")).order_by("-n", field)[:limit]
    return [(row[field], row["n"]) for row in counted]


def top_countries(*, statement_id: int | None = None, limit: int = 10) -> list[tuple[str, int]]:
    """Countries with the most publicly counted signatures."""
    rows = _scoped(statement_id).filter(state__in=Signature.PUBLIC_STATES).exclude(country="")
    return _most_frequent(rows, "country", limit)


def trending_domains(
    *, since: datetime, statement_id: int | None = None, limit: int = 10
) -> list[tuple[str, int]]:
    """Email domains with the most signatures since `since`: a burst from one domain is the
    usual sign of a scripted attack."""
    domain = Substr("email_key", StrIndex("email_key", Value("@")) + 1)
    rows = _scoped(statement_id).filter(created_at__gte=since).exclude(email_key="")
    return _most_frequent(rows.annotate(domain=domain), "domain", limit)


def trending_ip_hashes(
    *, since: datetime, statement_id: int | None = None, limit: int = 10
) -> list[tuple[str, int]]:
    rows = _scoped(statement_id).filter(created_at__gte=since).exclude(ip_hash="")
    return _most_frequent(rows, "ip_hash", limit)


# --- Moderation and invalidation -----------------------------------------------------------


def same_organisation(signature: Signature) -> QuerySet[Signature]:
    """Other submissions for the organisation this endorsement names, in its country: anyone
    can type any name, so moderators see them side by side."""
    return Signature.objects.filter(
        statement_id=signature.statement_id,
        kind=Kind.ORGANISATION,
        organisation_name_key=signature.organisation_name_key,
        country=signature.country,
    ).exclude(pk=signature.pk)


class NoConditions(ValueError):
    """An invalidation without any condition would match every signature."""


@dataclass(frozen=True)
class InvalidationConditions:
    email_domain: str = ""
    ip_hash: str = ""
    country: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    statement_id: int | None = None

    def __post_init__(self):
        # Compared with the signatures' email keys, so normalised the same way.
        object.__setattr__(self, "email_domain", normalise_domain(self.email_domain))

    def is_empty(self) -> bool:
        return not any(
            (
                self.email_domain,
                self.ip_hash,
                self.country,
                self.created_from,
                self.created_to,
                self.statement_id,
            )
        )

    def to_json(self) -> dict:
        data = {
            "email_domain": self.email_domain,
            "ip_hash": self.ip_hash,
            "country": self.country,
            "created_from": self.created_from.isoformat() if self.created_from else "",
            "created_to": self.created_to.isoformat() if self.created_to else "",
            "statement": self.statement_id,
        }
        return {key: value for key, value in data.items() if value}

    @classmethod
    def from_json(cls, data: dict) -> "InvalidationConditions":
        return cls(
            email_domain=data.get("email_domain", ""),
            ip_hash=data.get("ip_hash", ""),
            country=data.get("country", ""),
            created_from=parse_datetime(data["created_from"]) if data.get("created_from") else None,
            created_to=parse_datetime(data["created_to"]) if data.get("created_to") else None,
            statement_id=data.get("statement"),
        )


def invalidation_matches(conditions: InvalidationConditions) -> QuerySet[Signature]:
    """The signatures an invalidation with these conditions changes.

    The dry run counts this queryset and the run changes exactly its rows, so the count shown
    before running is what running does (unless signatures arrive or change in between).
    """
    if conditions.is_empty():
        raise NoConditions
    queryset = Signature.objects.filter(state__in=FRAUD_MARKABLE)
    if conditions.email_domain:
        queryset = queryset.filter(email_key__endswith="@" + conditions.email_domain)
    if conditions.ip_hash:
        queryset = queryset.filter(ip_hash=conditions.ip_hash)
    if conditions.country:
        queryset = queryset.filter(country=conditions.country)
    if conditions.created_from:
        queryset = queryset.filter(created_at__gte=conditions.created_from)
    if conditions.created_to:
        queryset = queryset.filter(created_at__lte=conditions.created_to)
    if conditions.statement_id:
        queryset = queryset.filter(statement_id=conditions.statement_id)
    return queryset


def invalidation_conditions(run: InvalidationRun) -> InvalidationConditions:
    return InvalidationConditions.from_json(run.conditions)


def invalidation_runs() -> QuerySet[InvalidationRun]:
    return InvalidationRun.objects.select_related("created_by", "statement")


def invalidation_sample(matches: QuerySet[Signature], size: int = 20) -> QuerySet[Signature]:
    """The newest of an invalidation's matches, shown before it runs."""
    return matches.select_related("statement").order_by("-created_at")[:size]


def invalidation_events(run_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        action__startswith="invalidation.", data__run=run_id
    ).select_related("actor")


# --- Signatures, statements ---------------------------------------------------------------


def signatures_with_statement() -> QuerySet[Signature]:
    return Signature.objects.select_related("statement")


def signature_history(signature: Signature) -> QuerySet[AuditEvent]:
    """A signature's audit events, newest first."""
    return signature.audit_events.select_related("actor").order_by("-created_at", "-pk")


def next_in_queue(*, after: int) -> Signature | None:
    """The signature a moderator sees next: the first waiting one other than `after`."""
    return moderation_queue(QueueFilters()).exclude(pk=after).first()


def statements() -> QuerySet[Statement]:
    return Statement.objects.all()


def statements_with_texts() -> QuerySet[Statement]:
    return Statement.objects.prefetch_related("translations")


# --- Audit log ----------------------------------------------------------------------------


def audit_events(*, action: str = "") -> QuerySet[AuditEvent]:
    """Audit events, newest first; those whose action starts with `action` if given."""
    events = AuditEvent.objects.select_related("actor", "signature")
    return events.filter(action__startswith=action) if action else events


def audit_actions(limit: int = 100) -> QuerySet:
    """The actions the log holds, for its filter."""
    return AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()[:limit]
