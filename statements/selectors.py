"""Reads for the public pages. Nothing here writes.

The statement and its texts are read on every public page but change rarely (an organiser's
edit, signing opened or closed), so the `*_cached` readers keep them in this process for
PAGE_CACHE_SECONDS: a viral statement's page views then cost no query. Writes never use them;
they read the row they change.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed
from django.db.models import Q, QuerySet
from django.dispatch import receiver
from django.http import Http404

from statements.models import DemandTranslation, Signature, Statement, StatementTranslation

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
    """Drop every remembered read (and what other modules registered to drop with them)."""
    _memo.clear()
    for callback in _forget_too:
        callback()


_forget_too: list[Callable[[], None]] = []


def forget_with_reads(callback: Callable[[], None]) -> None:
    _forget_too.append(callback)


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    # Cached pages depend on settings (languages, templates, SITE_URL, lifetimes); tests
    # change them, and start each case from a new database.
    forget()


@dataclass(frozen=True)
class StatementText:
    statement: Statement
    text: StatementTranslation
    demands: list[str]
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
    demand_texts = DemandTranslation.objects.filter(
        demand__statement=statement, language=chosen.language
    ).order_by("demand__position")
    return StatementText(
        statement=statement,
        text=chosen,
        demands=[d.text for d in demand_texts],
        language=chosen.language,
        available_languages=sorted(texts),
    )


def public_organisations(statement: Statement, *, search: str = "") -> QuerySet[Signature]:
    queryset = Signature.objects.filter(
        statement=statement, kind=Signature.Kind.ORGANISATION, state=Signature.State.APPROVED
    )
    if search:
        queryset = queryset.filter(
            Q(organisation_name__icontains=search) | Q(city__icontains=search)
        )
    return queryset.only(
        "organisation_name", "organisation_type", "country", "city", "website"
    ).order_by("country", "organisation_name", "pk")


def public_individuals(statement: Statement, *, search: str = "") -> QuerySet[Signature]:
    queryset = Signature.objects.filter(
        statement=statement,
        kind=Signature.Kind.INDIVIDUAL,
        state__in=Signature.PUBLIC_STATES,
        show_publicly=True,
    )
    if search:
        queryset = queryset.filter(
            Q(full_name__icontains=search)
            | Q(city__icontains=search)
            | Q(affiliation__icontains=search)
        )
    return queryset.only("full_name", "city", "country", "affiliation").order_by(
        "-confirmed_at", "-pk"
    )


def latest_endorsements(statement: Statement, *, limit: int = 8) -> list[Signature]:
    return list(
        Signature.objects.filter(
            statement=statement, kind=Signature.Kind.ORGANISATION, state=Signature.State.APPROVED
        )
        .only("organisation_name", "country", "organisation_type", "decided_at")
        .order_by("-decided_at", "-pk")[:limit]
    )
