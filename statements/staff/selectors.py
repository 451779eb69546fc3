"""Reads for the staff area: the moderation queue and the dashboard. Nothing here writes."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import StrIndex, Substr, TruncDate
from django.utils import timezone

from statements.models import Signature, StatementTranslation
from statements.normalise import email_key

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


def top_countries(*, statement_id: int | None = None, limit: int = 10) -> list[tuple[str, int]]:
    """Countries with the most publicly counted signatures."""
    rows = (
        _scoped(statement_id)
        .filter(state__in=Signature.PUBLIC_STATES)
        .exclude(country="")
        .values("country")
        .annotate(n=Count("id"))
        .order_by("-n", "country")[:limit]
    )
    return [(row["country"], row["n"]) for row in rows]


def trending_domains(
    *, since: datetime, statement_id: int | None = None, limit: int = 10
) -> list[tuple[str, int]]:
    """Email domains with the most signatures since `since`: a burst from one domain is the
    usual sign of a scripted attack."""
    domain = Substr("email_key", StrIndex("email_key", Value("@")) + 1)
    rows = (
        _scoped(statement_id)
        .filter(created_at__gte=since)
        .exclude(email_key="")
        .annotate(domain=domain)
        .values("domain")
        .annotate(n=Count("id"))
        .order_by("-n", "domain")[:limit]
    )
    return [(row["domain"], row["n"]) for row in rows]


def trending_ip_hashes(
    *, since: datetime, statement_id: int | None = None, limit: int = 10
) -> list[tuple[str, int]]:
    rows = (
        _scoped(statement_id)
        .filter(created_at__gte=since)
        .exclude(ip_hash="")
        .values("ip_hash")
        .annotate(n=Count("id"))
        .order_by("-n", "ip_hash")[:limit]
    )
    return [(row["ip_hash"], row["n"]) for row in rows]
