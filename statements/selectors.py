"""Reads for the public pages. Nothing here writes."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from statements.models import DemandTranslation, Signature, Statement, StatementTranslation


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
