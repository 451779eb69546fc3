"""Reads for the public pages. Nothing here writes.

The statement and its texts are read on every public page but change rarely (an organiser's
edit, signing opened or closed), so the `*_cached` readers keep them in this process for
PAGE_CACHE_SECONDS: a viral statement's page views then cost no query. Writes never use them;
they read the row they change.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed
from django.db import OperationalError, connections, router, transaction
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.dispatch import receiver
from django.http import Http404
from django.utils import translation
from django_countries import countries

from statements.models import (
    LISTED_STATES,
    DemandTranslation,
    Signature,
    Statement,
    StatementTranslation,
)

_memo: dict[tuple, tuple[float, object]] = {}


def remembered[T](key: tuple, compute: Callable[[], T], *, seconds: float | None = None) -> T:
    """`compute()`, kept in this process for PAGE_CACHE_SECONDS (or `seconds`) under `key`.

    When it expires, one thread computes it again while the others go on with the old value
    for the moment that takes, so a busy process does not stop to render one page once per
    thread."""
    now = time.monotonic()
    hit = _memo.get(key)
    if hit is not None:
        if hit[0] > now:
            return hit[1]  # type: ignore[return-value]
        if key in _refreshing:
            return hit[1]  # type: ignore[return-value]
    _refreshing.add(key)
    try:
        value = compute()
    finally:
        _refreshing.discard(key)
    if len(_memo) > 1000:  # keys come from a few statements and languages; never unbounded
        _memo.clear()
    lifetime = settings.PAGE_CACHE_SECONDS if seconds is None else seconds
    _memo[key] = (time.monotonic() + lifetime, value)
    return value


_refreshing: set[tuple] = set()


def forget() -> None:
    """Drop every remembered read."""
    _memo.clear()


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    # Remembered reads depend on settings (lifetimes); tests change them, and start each case
    # from a new database.
    forget()


@dataclass(frozen=True)
class DemandText:
    text: str
    language: str  # the page's, or the original's where the demand has no text in it yet

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class StatementText:
    statement: Statement
    text: StatementTranslation
    demands: list[DemandText]
    language: str
    available_languages: list[str]

    @property
    def is_translation(self) -> bool:
        return not self.text.is_original


def statement_get(slug: str | None = None) -> Statement:
    queryset = Statement.objects.all()
    statement = queryset.filter(slug=slug).first() if slug else queryset.first()
    if statement is None:
        raise Http404("No such statement")
    return statement


def statement_get_cached(slug: str | None = None, *, seconds: float | None = None) -> Statement:
    """statement_get() for reads: the row as it was at most PAGE_CACHE_SECONDS (or `seconds`)
    ago."""
    key = ("statement", slug, seconds)
    found = remembered(
        key,
        lambda: Statement.objects.filter(**({"slug": slug} if slug else {})).first(),
        seconds=seconds,
    )
    if found is None:
        _memo.pop(key, None)  # a statement may be created at any time
        raise Http404("No such statement")
    return found


def statement_by_id_cached(statement_id: int) -> Statement:
    """The statement a signature belongs to, as read at most PAGE_CACHE_SECONDS ago."""
    return remembered(
        ("statement-id", statement_id), lambda: Statement.objects.get(pk=statement_id)
    )


def statement_text_cached(statement: Statement, language: str) -> StatementText:
    """statement_text() for reads, kept per version of the statement row."""
    key = ("text", statement.pk, statement.updated_at, language)
    return remembered(key, lambda: statement_text(statement, language))


def statement_title_cached(statement: Statement, language: str) -> str | None:
    """The statement's title in `language`, None if it has no text in that language (kept
    per version of the statement row; the confirmation emails name it)."""
    key = ("title", statement.pk, statement.updated_at, language)
    return remembered(
        key,
        lambda: (
            statement.translations.filter(language=language).values_list("title", flat=True).first()
        ),
    )


def statement_text(statement: Statement, language: str) -> StatementText:
    """The statement in `language`, falling back to the original when it is not translated."""
    texts = {t.language: t for t in statement.translations.all()}
    if not texts:
        raise Http404("This statement has no text yet")
    chosen = texts.get(language) or texts.get(statement.original_language)
    if chosen is None:
        chosen = next(iter(texts.values()))
    # Each demand in the text's language; one not translated yet (an organiser adds a
    # language's text first, then each demand's) in the original, marked as such.
    wanted = list(dict.fromkeys([chosen.language, statement.original_language]))
    found: dict[int, dict[str, str]] = {}  # by position (in order), then language
    for position, language, text in (
        DemandTranslation.objects.filter(demand__statement=statement, language__in=wanted)
        .order_by("demand__position")
        .values_list("demand__position", "language", "text")
    ):
        found.setdefault(position, {})[language] = text
    demands = []
    for texts in found.values():
        language = next(code for code in wanted if code in texts)
        demands.append(DemandText(text=texts[language], language=language))
    return StatementText(
        statement=statement,
        text=chosen,
        demands=demands,
        language=chosen.language,
        available_languages=sorted(texts),
    )


_country_orders: dict[str, list[str]] = {}


def country_order(language: str) -> list[str]:
    """The country codes in the order of their names in `language` (the names the pages
    show, the site's overrides included)."""
    found = _country_orders.get(language)
    if found is None:
        with translation.override(language):
            # django-countries sorts the names in the active language when iterated.
            found = _country_orders[language] = [code for code, _name in countries]
    return found


@receiver(setting_changed)
def _forget_country_orders(*, setting, **kwargs):
    if setting == "COUNTRIES_OVERRIDE":
        _country_orders.clear()


def public_organisations(
    statement: Statement, *, search: str = "", matches: int | None = None
) -> QuerySet[Signature]:
    """Approved organisations by country (code) and name; with `search`, those whose name or
    city holds it, the first `matches` of them found (see public_individuals)."""
    queryset = Signature.objects.filter(
        statement=statement, kind=Signature.Kind.ORGANISATION, state=Signature.State.APPROVED
    )
    if search:
        found = queryset.filter(Q(organisation_name__icontains=search) | Q(city__icontains=search))
        queryset = _first_found(queryset, found, matches)
    return queryset.only(
        "organisation_name", "organisation_type", "country", "city", "website"
    ).order_by("country", "organisation_name", "pk")


def page_of_organisations(
    organisations: QuerySet[Signature], number: int, per_page: int, *, language: str
) -> tuple[list[Signature], bool]:
    """Page `number` of public_organisations() with the countries in the order of their
    names in `language`, as the list page groups them, and whether more rows follow.

    The database knows codes, not names in a language: ordering every row by a 250-way
    CASE took 140-170 ms over 20,000 organisations. So the organisations are counted per
    country first (one grouped query on the list's index), the countries that fall on the
    page are picked in name order, and only their rows are read, ordered by a CASE over
    those few."""
    counts = dict(
        organisations.order_by()
        .values_list("country")
        .annotate(n=Count("pk"))
        .values_list("country", "n")
    )
    known = country_order(language)
    ordered = [code for code in known if code in counts]
    ordered += sorted(set(counts) - set(ordered))  # a code the list has no name for: last
    start, stop = (number - 1) * per_page, number * per_page + 1
    chosen, before, position = [], 0, 0
    for code in ordered:
        if position >= stop:
            break
        if position + counts[code] <= start:
            before = position = position + counts[code]
            continue
        chosen.append(code)
        position += counts[code]
    if not chosen:
        return [], False
    rank = Case(
        *(When(country=code, then=Value(i)) for i, code in enumerate(chosen)),
        output_field=IntegerField(),
    )
    offset = start - before
    rows = list(
        organisations.filter(country__in=chosen).order_by(rank, "organisation_name", "pk")[
            offset : offset + per_page + 1
        ]
    )
    return rows[:per_page], len(rows) > per_page


def public_individuals(
    statement: Statement, *, search: str = "", matches: int | None = None
) -> QuerySet[Signature]:
    """Listed individuals, newest first; with `search`, those whose name, city or affiliation
    holds it.

    A search that matches a large part of a million rows ("maria") would make the database
    fetch and sort every match to find the newest; with `matches`, it takes the first that
    many found through the trigram indexes (a few milliseconds) and orders those: the pages
    show no more anyway."""
    queryset = Signature.objects.filter(
        statement=statement,
        kind=Signature.Kind.INDIVIDUAL,
        state__in=LISTED_STATES,
        show_publicly=True,
    )
    if search:
        found = queryset.filter(
            Q(full_name__icontains=search)
            | Q(city__icontains=search)
            | Q(affiliation__icontains=search)
        )
        queryset = _first_found(queryset, found, matches)
    return queryset.only("full_name", "city", "country", "affiliation").order_by(
        "-confirmed_at", "-pk"
    )


class SearchTooSlow(Exception):
    """A search ran into its time limit."""


# No search may hold a database connection longer than this.
SEARCH_TIMEOUT_MS = 500


@contextmanager
def search_plan() -> Iterator[None]:
    """Run a search's queries (on PostgreSQL) with bitmap scans only, within a time limit.

    The trigram indexes find the matches of any term of three letters or more in a few
    milliseconds. But for a term it believes common, the planner may rather walk the whole
    list in order, hoping to meet enough matches early, which takes a second when they are in
    fact rare; allowing only bitmap scans keeps it on the trigram indexes. The time limit
    bounds whatever is left."""
    # The database the router reads signatures from here (a replica, in a view that allows
    # it): the settings must hold where the queries run.
    using = router.db_for_read(Signature)
    if connections[using].vendor != "postgresql":
        yield
        return
    try:
        with transaction.atomic(using=using):
            with connections[using].cursor() as cursor:
                cursor.execute(
                    "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; "
                    f"SET LOCAL statement_timeout = {int(SEARCH_TIMEOUT_MS)}"
                )
            yield
    except OperationalError as exc:
        if type(exc.__cause__).__name__ == "QueryCanceled":
            raise SearchTooSlow from exc
        raise


def _first_found(queryset: QuerySet, found: QuerySet, matches: int | None) -> QuerySet:
    if matches is None:
        return found
    return queryset.filter(pk__in=found.order_by().values("pk")[:matches])


def latest_endorsements_cached(statement: Statement) -> list[Signature]:
    """latest_endorsements(), as read at most PAGE_CACHE_SECONDS ago."""
    return remembered(("latest", statement.pk), lambda: latest_endorsements(statement))


def latest_endorsements(statement: Statement, *, limit: int = 8) -> list[Signature]:
    return list(
        Signature.objects.filter(
            statement=statement, kind=Signature.Kind.ORGANISATION, state=Signature.State.APPROVED
        )
        .only("organisation_name", "country", "organisation_type", "decided_at")
        .order_by("-decided_at", "-pk")[:limit]
    )


def page_of(queryset: QuerySet, number: int, per_page: int) -> tuple[list, bool]:
    """Page `number` of a list, and whether more rows follow, without counting them all."""
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    return rows[:per_page], len(rows) > per_page
