"""Public views: HTTP in, one service call, HTTP out.

The statement, thanks and signatories pages, counts.json and the privacy notice are the same
bytes for every visitor of their address (`caching.shared` says so in their headers, and nginx
or a CDN keeps one copy for everyone); their forms carry no per-visitor token, and the POSTs
are protected by Fetch Metadata instead (`crossorigin.refuse_cross_site`).
"""

import functools
import logging
import re
from contextlib import nullcontext

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django_ratelimit.core import is_ratelimited

from ops.routers import reads_from_replica
from statements import counters, goals, selectors, services, thanks, tokens
from statements.caching import shared
from statements.crossorigin import refuse_cross_site
from statements.forms import SIGN_FORMS
from statements.http import client_ip, ip_bucket, sign_rate_limited
from statements.models import Signature
from statements.normalise import search_text
from statements.sharing.links import share_links

logger = logging.getLogger(__name__)

Kind = Signature.Kind


def chosen_kind(value: str | None) -> str:
    return Kind.ORGANISATION if value == Kind.ORGANISATION else Kind.INDIVIDUAL


def sign_kinds() -> list[tuple[str, str]]:
    return [
        (Kind.INDIVIDUAL, _("I sign as an individual")),
        (Kind.ORGANISATION, _("I sign on behalf of an organisation")),
    ]


def signed_cookie_name(statement) -> str:
    """The cookie a browser gets when it confirms a signature of this statement: the
    statement page (the same bytes for everyone) leaves the call to sign out for it, in
    static/js/signing.js. Only the confirmation page reads it, to add a kind to it."""
    return f"signed_{statement.slug}"


def _statement_page(request, statement, *, kind: str, form=None, notice="", status=200):
    counts = counters.get_counts(statement.pk)
    st = selectors.statement_text_cached(statement, get_language())
    context = {
        "st": st,
        # None for the empty form: its fields come from a cached fragment (detail.html).
        "form": form,
        "kind": kind,
        "kinds": sign_kinds(),
        "counts": counts,
        "total": counts[Kind.INDIVIDUAL] + counts[Kind.ORGANISATION],
        "progress": goals.progress(counts, statement.signature_goal),
        "latest": selectors.latest_endorsements_cached(statement),
        "signed_cookie": signed_cookie_name(statement),
        **_share_context(st),
        "notice": notice,
        # One address per statement and language for search engines and shared links,
        # whichever of its addresses (`/es/` for the default statement) was asked for.
        "canonical_path": reverse("statements:detail", kwargs={"slug": statement.slug}),
    }
    return render(request, "statements/detail.html", context, status=status)


@shared
@require_safe
def statement_detail(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    statement = selectors.statement_get_cached(slug)
    return _statement_page(request, statement, kind=chosen_kind(request.GET.get("as")))


# How old the statement row read for a sign POST may be: closing signing takes effect within
# this, without a query per POST while a viral statement is signed hundreds of times a second.
SIGNING_STATE_SECONDS = 1


@never_cache
@refuse_cross_site
@require_http_methods(["GET", "HEAD", "POST"])
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "POST":
        # A reload of the address a form was sent to, or a form sent to an address of old
        # (redirected to its language, which turns the POST into a GET): back to the form.
        return redirect(reverse("statements:detail", kwargs={"slug": slug}) + "#sign")

    def page(statement, *, form, kind, status, notice=""):
        return _statement_page(
            request, statement, form=form, kind=kind, status=status, notice=notice
        )

    return sign_submission(
        request,
        slug,
        page=page,
        thanks_url=reverse("statements:thanks", kwargs={"slug": slug}),
    )


def sign_submission(
    request: HttpRequest, slug: str, *, page, thanks_url: str, referrer_id: int | None = None
) -> HttpResponse:
    """A sign POST, for the statement page's form and the embedded one alike: the same
    checks, rate limits and service. `page(statement, form=, kind=, status=, notice=)`
    renders the form again with its errors; `thanks_url` is where a signer goes next."""
    statement = selectors.statement_get_cached(slug, seconds=SIGNING_STATE_SECONDS)
    kind = chosen_kind(request.POST.get("kind"))
    form = SIGN_FORMS[kind](request.POST, prefix=kind)
    if not statement.accepts_signatures:
        notice = _("Signing is closed for this statement.")
        return page(statement, form=form, kind=kind, status=403, notice=notice)
    # A form with a field error spends no budget: a typing mistake costs nobody at the same
    # address a signature. Only a valid form is counted, against its client's and its
    # address's budgets (in one round trip to the cache).
    if not form.is_valid():
        return page(statement, form=form, kind=kind, status=400)
    if sign_rate_limited(request, form.email_key):
        notice = _("Too many attempts. Please wait a few minutes and try again.")
        return page(statement, form=form, kind=kind, status=429, notice=notice)
    if not form.is_bot():
        try:
            services.signature_create(
                statement=statement,
                data=form.to_data(language=get_language(), referrer_id=referrer_id),
                client_ip=client_ip(request),
            )
        except services.SigningClosed:
            notice = _("Signing is closed for this statement.")
            return page(statement, form=form, kind=kind, status=403, notice=notice)
    # The same answer whatever the submission was: the thanks page, naming what was typed.
    sent = thanks.Sent(
        statement=statement.slug,
        email=form.cleaned_data["email"],
        kind=kind,
        organisation_name=form.cleaned_data.get("organisation_name", ""),
    )
    return redirect(thanks.address_for(thanks_url, sent))


@shared
@refuse_cross_site
@require_http_methods(["GET", "HEAD", "POST"])
def thanks_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Shared at its plain address; the signer's own with the value the sign POST adds
    (statements/thanks.py)."""
    return thanks.thanks_response(
        request,
        slug,
        template="statements/thanks.html",
        url_name="statements:thanks",
        form_url_name="statements:detail",
    )


def _link_public_id(token: str, action: str, max_age):
    """Return (public_id, None, 200), or (None, template, status) for a link that is expired
    or was never the site's."""
    try:
        return tokens.read_token(token, action, max_age), None, 200
    except tokens.TokenExpired:
        return None, "statements/link_expired.html", 410
    except tokens.TokenInvalid:
        return None, "statements/link_invalid.html", 404


def _signature_by_public_id(public_id, *fields: str):
    """Return ((pk, state, withdrawn, statement, *fields), None, 200) or (None, template,
    status). Only the columns the views need are read."""
    found = (
        Signature.objects.filter(public_id=public_id)
        .values_list("pk", "state", "withdrawn_at", "statement_id", *fields)
        .first()
    )
    if found is None:
        return None, "statements/link_invalid.html", 404
    pk, state, withdrawn_at, statement_id, *rest = found
    statement = selectors.statement_by_id_cached(statement_id)
    return (pk, state, withdrawn_at is not None, statement, *rest), None, 200


def _personal(request: HttpRequest, template: str, context: dict | None = None, status=200):
    """A page of one signer's own link: never shared, so none of its parts is kept in the
    cache of fragments the shared pages use (their keys are the address, here a token's)."""
    return render(request, template, {**(context or {}), "personal_page": True}, status=status)


# What the confirmation page shows, so that nobody confirms details someone else typed.
CONFIRM_DETAILS = ("kind", "full_name", "organisation_name", "show_publicly")


@never_cache
@refuse_cross_site
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what is being confirmed and a button; only the POST confirms, because mail
    scanners follow links. The page is the signer's own: never cached."""
    public_id, error, status = _link_public_id(
        token, tokens.CONFIRM, settings.SIGNATURE_TOKEN_MAX_AGE
    )
    if public_id is None:
        return _personal(request, error, status=status)
    if request.method == "POST":
        # The usual case, an unconfirmed signature, in one statement; anything else below.
        done = services.signature_confirm_link(public_id=public_id)
        if done is not None:
            statement = selectors.statement_by_id_cached(done.statement_id)
            st = selectors.statement_text_cached(statement, get_language())
            signer = {name: getattr(done, name) for name in CONFIRM_DETAILS}
            return _confirmed_page(request, st, done.state, signer=signer, already=False)
    found, error, status = _signature_by_public_id(public_id, *CONFIRM_DETAILS)
    if found is None:
        return _personal(request, error, status=status)
    pk, state, withdrawn, statement, *details = found
    if withdrawn or state == Signature.State.WITHDRAWN:
        return _personal(request, "statements/link_invalid.html", status=404)
    st = selectors.statement_text_cached(statement, get_language())
    signer = dict(zip(CONFIRM_DETAILS, details, strict=True))
    # A link opened again after its signature was confirmed says so.
    already = state != Signature.State.PENDING
    if request.method == "POST" and not already:
        state = services.signature_confirm(signature_id=pk).state
    if request.method == "POST" or already:
        return _confirmed_page(request, st, state, signer=signer, already=already)
    return _personal(request, "statements/confirm.html", {"st": st, "signer": signer})


def _share_context(st) -> dict:
    """Links to each network's own share page, built here."""
    return _share_links_for(settings.SITE_URL, st.statement.slug, st.text.title, get_language())


@functools.lru_cache(maxsize=64)
def _share_links_for(site_url: str, slug: str, title: str, language: str) -> dict:
    # The same for every page of a statement in a language (the statement's, the thanks and
    # confirmation pages), so built once per process: `language` keys the translated words.
    url = site_url + reverse("statements:detail", kwargs={"slug": slug})
    return {
        "share_url": url,
        "share_links": share_links(
            url=url,
            text=_("I have signed “%(title)s”. Sign it too:") % {"title": title},
            subject=title,
        ),
    }


def _confirmed_page(
    request: HttpRequest, st, state: str, *, signer: dict, already: bool
) -> HttpResponse:
    """Thanks, and the share step. A signature that counts (or waits for a moderator) leaves
    a cookie naming its statement and kind, so that the statement page stops asking this
    browser to sign it (static/js/signing.js); no other view reads it."""
    context = {"st": st, "state": state, "signer": signer, "already": already}
    response = _personal(request, "statements/confirmed.html", {**context, **_share_context(st)})
    if state in Signature.PUBLIC_STATES or state == Signature.State.AWAITING_MODERATION:
        name = signed_cookie_name(st.statement)
        # The kinds signed from this browser ("individual.organisation"): a link that asks
        # for the form of another kind still shows it.
        kinds = set(request.COOKIES.get(name, "").split(".")) & set(Signature.Kind.values)
        response.set_cookie(
            name,
            ".".join(sorted(kinds | {signer["kind"]})),
            max_age=settings.SIGNED_COOKIE_AGE,
            path="/",
            secure=settings.HTTPS,
            httponly=False,  # read by the page's script, and by nothing else
            samesite="Lax",
        )
    return response


@never_cache
@refuse_cross_site
@require_http_methods(["GET", "HEAD", "POST"])
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    """Two steps like confirmation: the GET asks, the POST withdraws and erases."""
    public_id, error, status = _link_public_id(
        token, tokens.WITHDRAW, settings.WITHDRAW_TOKEN_MAX_AGE
    )
    if public_id is None:
        return _personal(request, error, status=status)
    found, error, status = _signature_by_public_id(public_id)
    if found is None:
        return _personal(request, error, status=status)
    pk, state, withdrawn, statement = found
    st = selectors.statement_text_cached(statement, get_language())
    if request.method == "POST" or withdrawn:
        state = services.signature_withdraw(signature_id=pk).state
        response = _personal(request, "statements/withdrawn.html", {"st": st, "state": state})
        if request.method == "POST":
            # The statement page asks this browser to sign again.
            response.delete_cookie(signed_cookie_name(statement), path="/", samesite="Lax")
        return response
    return _personal(request, "statements/withdraw.html", {"st": st})


@shared(by_language=False)
@require_safe
def counts_json(request: HttpRequest, slug: str) -> HttpResponse:
    """Polled by every open page: the statement as read at most PAGE_CACHE_SECONDS ago and
    the counts from their memo, so no query; the same bytes for everyone, in any language."""
    statement = selectors.statement_get_cached(slug)
    counts = counters.get_counts(statement.pk)
    progress = goals.progress(counts, statement.signature_goal)
    return JsonResponse(
        {
            "statement": statement.slug,
            "individuals": counts[Kind.INDIVIDUAL],
            "organisations": counts[Kind.ORGANISATION],
            "individuals_on_paper": counts["paper_individual"],
            "organisations_on_paper": counts["paper_organisation"],
            "signing_open": statement.accepts_signatures,
            "closes_at": statement.closes_at.isoformat() if statement.closes_at else None,
            "goal": progress.goal if progress else None,
            "goal_reached": progress.reached if progress else None,
        }
    )


# The list page reads at most this many pages of each list: a deep page would make the
# database walk past every row before it. Beyond them, search, or download the whole list
# (a file built in the background, see statements/public_lists.py).
SIGNATORY_PAGES = 20
ORGANISATIONS_PER_PAGE = 50
INDIVIDUALS_PER_PAGE = 100
# A search needs three letters or digits in a row: the trigram indexes find nothing shorter,
# and the database would have to read every listed row.
SEARCHABLE = re.compile(r"\w{3}")


def _page_number(value: str | None) -> int:
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return min(max(number, 1), SIGNATORY_PAGES)


def _search_rate_limited(request: HttpRequest) -> bool:
    """Each search reaches the database (a cache holds only searches made before), so each
    client gets a budget of them; a cache outage lets searches through, logged."""
    if not settings.RATELIMIT_ENABLE:
        return False
    try:
        return is_ratelimited(
            request,
            group="signatories-search",
            key=lambda _group, request: ip_bucket(client_ip(request)),
            rate=settings.SIGNATORIES_SEARCH_RATE,
            method="GET",
            increment=True,
        )
    except Exception:
        logger.warning("rate-limit cache unavailable; signatories-search not enforced")
        return False


@shared
@require_safe
@reads_from_replica
def signatories(request: HttpRequest, slug: str) -> HttpResponse:
    statement = selectors.statement_get_cached(slug)
    search = search_text(request.GET.get("q", ""))
    notice, status = "", 200
    if search and not SEARCHABLE.search(search):
        notice = _("Type at least three letters or digits in a row to search.")
        search = ""
    if search and request.method == "GET" and _search_rate_limited(request):
        notice = _("Too many searches. Please wait a minute and try again.")
        search, status = "", 429
    org_number = _page_number(request.GET.get("org_page"))
    ind_number = _page_number(request.GET.get("page"))
    try:
        with selectors.search_plan() if search else nullcontext():
            organisations, more_organisations, individuals, more_individuals = _lists(
                statement, search, org_number, ind_number
            )
    except selectors.SearchTooSlow:
        notice = _("This search took too long. Please try a longer or more precise one.")
        search, status = "", 503
        organisations, more_organisations, individuals, more_individuals = _lists(
            statement, search, org_number, ind_number
        )
    groups: dict[str, list[Signature]] = {}
    for organisation in organisations:
        groups.setdefault(organisation.country.name, []).append(organisation)
    context = {
        "st": selectors.statement_text_cached(statement, get_language()),
        "search": search,
        "notice": notice,
        "org_groups": groups,
        "org_page": _Page(org_number, more_organisations),
        "individuals": individuals,
        "ind_page": _Page(ind_number, more_individuals),
    }
    return render(request, "statements/signatories.html", context, status=status)


def _lists(statement, search: str, org_number: int, ind_number: int):
    # A search reads no further than its pages show (and one more, to know there are more).
    organisations, more_organisations = selectors.page_of_organisations(
        selectors.public_organisations(
            statement, search=search, matches=SIGNATORY_PAGES * ORGANISATIONS_PER_PAGE + 1
        ),
        org_number,
        ORGANISATIONS_PER_PAGE,
        language=get_language(),
    )
    individuals, more_individuals = selectors.page_of(
        selectors.public_individuals(
            statement, search=search, matches=SIGNATORY_PAGES * INDIVIDUALS_PER_PAGE + 1
        ),
        ind_number,
        INDIVIDUALS_PER_PAGE,
    )
    return organisations, more_organisations, individuals, more_individuals


class _Page:
    """A page of a list read with LIMIT and OFFSET: its number, and whether more follow."""

    def __init__(self, number: int, more: bool):
        self.number = number
        self.has_previous = number > 1
        self.has_next = more and number < SIGNATORY_PAGES
        self.at_limit = more and number >= SIGNATORY_PAGES
        self.previous_page_number = number - 1
        self.next_page_number = number + 1


@shared
@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    """The privacy notice, with the retention period the site is configured with."""
    context = {"retention_days": settings.SIGNATURE_RETENTION.days}
    return render(request, "privacy.html", context)
