"""Reads about partners: the origins that may frame the embedded form, the partner a referral
code names, and the signatures each one brought."""

from dataclasses import dataclass

from django.db.models import Count, Q

from statements import selectors
from statements.models import Signature
from statements.partners.models import Partner


def frame_ancestors() -> list[str]:
    """Every active partner's origins, read at most PAGE_CACHE_SECONDS ago: an organiser's
    change in the admin reaches the embedded form's header within that."""

    def compute() -> list[str]:
        found: list[str] = []
        for partner in Partner.objects.filter(active=True).order_by("pk"):
            found.extend(origin for origin in partner.origin_list if origin not in found)
        return found

    return selectors.remembered(("frame-ancestors",), compute)


def active_partner(code: str | None) -> tuple[int, str] | None:
    """(id, code) of the active partner with this referral code, or None for a missing or
    unknown code: an unknown `?ref=` renders the page as if there were none, so made-up
    codes neither attribute signatures nor make pages that differ."""
    if not code or len(code) > 40:
        return None

    def compute():
        return Partner.objects.filter(code=code, active=True).values_list("pk", "code").first()

    found = selectors.remembered(("partner", code), compute)
    return tuple(found) if found else None


@dataclass(frozen=True)
class ReferrerRow:
    name: str
    code: str
    counted: int
    pending: int
    total: int


def signatures_by_referrer(statement_id: int | None = None) -> list[ReferrerRow]:
    """Per partner: signatures that count publicly, those awaiting their email
    confirmation, and all of them (rejected and withdrawn ones included)."""
    queryset = Signature.objects.filter(referrer__isnull=False)
    if statement_id:
        queryset = queryset.filter(statement_id=statement_id)
    rows = (
        queryset.values("referrer__name", "referrer__code")
        .annotate(
            counted=Count("id", filter=Q(state__in=list(Signature.PUBLIC_STATES))),
            pending=Count("id", filter=Q(state=Signature.State.PENDING)),
            total=Count("id"),
        )
        .order_by("-counted", "referrer__name")
    )
    return [
        ReferrerRow(
            name=row["referrer__name"],
            code=row["referrer__code"],
            counted=row["counted"],
            pending=row["pending"],
            total=row["total"],
        )
        for row in rows
    ]
