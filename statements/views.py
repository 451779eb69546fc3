"""Public views: HTTP in, one service call, HTTP out."""

import json
import logging

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ops.routers import reads_from_replica
from statements import counters, goals, pages, selectors, services, tokens
from statements.forms import SIGN_FORMS
from statements.http import client_ip, sign_rate_limited
from statements.models import Signature
from statements.normalise import email_key, search_text

logger = logging.getLogger(__name__)

Kind = Signature.Kind


def _chosen_kind(value: str | None) -> str:
    return Kind.ORGANISATION if value == Kind.ORGANISATION else Kind.INDIVIDUAL


def _render_statement(request, statement, *, form=None, kind=None, status=200, notice=""):
    kind = kind or _chosen_kind(request.GET.get("as"))
    return pages.statement_response(
        request, statement, kind=kind, form=form, notice=notice, status=status
    )


@require_GET
def statement_detail(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """The page a viral statement's visitors load: no query once this process has it (see
    statements/pages.py), and often answered before most middleware (statements/hotpaths.py)."""
    return _render_statement(request, selectors.statement_get_cached(slug))


# How old the statement row read for a sign POST may be: closing signing takes effect within
# this, without a query per POST while a viral statement is signed hundreds of times a second.
SIGNING_STATE_SECONDS = 1


@require_POST
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    statement = selectors.statement_get_cached(slug, seconds=SIGNING_STATE_SECONDS)
    kind = _chosen_kind(request.POST.get("kind"))
    form = SIGN_FORMS[kind](request.POST, prefix=kind)
    if not statement.accepts_signatures:
        notice = _("Signing is closed for this statement.")
        return _render_statement(
            request, statement, form=form, kind=kind, status=403, notice=notice
        )
    # A form with a field error spends no budget: a typing mistake costs nobody at the same
    # address a signature. Only a valid form is counted, against its client's and its
    # address's budgets (in one round trip to the cache).
    if not form.is_valid():
        return _render_statement(request, statement, form=form, kind=kind, status=400)
    if sign_rate_limited(request, email_key(form.cleaned_data["email"])):
        notice = _("Too many attempts. Please wait a few minutes and try again.")
        return _render_statement(
            request, statement, form=form, kind=kind, status=429, notice=notice
        )
    if not form.is_bot():
        try:
            services.signature_create(
                statement=statement,
                data=form.to_data(language=get_language()),
                client_ip=client_ip(request),
            )
        except services.SigningClosed:
            notice = _("Signing is closed for this statement.")
            return _render_statement(
                request, statement, form=form, kind=kind, status=403, notice=notice
            )
    return redirect("statements:thanks", slug=statement.slug)


@require_GET
def thanks(request: HttpRequest, slug: str) -> HttpResponse:
    statement = selectors.statement_get_cached(slug)
    st = selectors.statement_text_cached(statement, get_language())
    key = (statement.pk, statement.updated_at)
    return pages.page_response(request, "statements/thanks.html", {"st": st}, key=key)


def _signature_from_token(token: str, action: str, max_age, *fields: str):
    """Return ((pk, state, withdrawn, statement, *fields), None, 200) or (None, template,
    status). Only the columns the views need are read."""
    try:
        public_id = tokens.read_token(token, action, max_age)
    except tokens.TokenExpired:
        return None, "statements/link_expired.html", 410
    except tokens.TokenInvalid:
        return None, "statements/link_invalid.html", 404
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


def _error_page(request: HttpRequest, template_name: str, status: int) -> HttpResponse:
    return pages.page_response(request, template_name, {}, key=(), status=status)


# What the confirmation page shows, so that nobody confirms details someone else typed.
CONFIRM_DETAILS = ("kind", "full_name", "organisation_name", "show_publicly")


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what is being confirmed and a button; only the POST confirms, because mail
    scanners follow links."""
    found, error, status = _signature_from_token(
        token, tokens.CONFIRM, settings.SIGNATURE_TOKEN_MAX_AGE, *CONFIRM_DETAILS
    )
    if found is None:
        return _error_page(request, error, status)
    pk, state, withdrawn, statement, *details = found
    if withdrawn or state == Signature.State.WITHDRAWN:
        return _error_page(request, "statements/link_invalid.html", 404)
    st = selectors.statement_text_cached(statement, get_language())
    key = (statement.pk, statement.updated_at)
    if request.method == "POST":
        state = services.signature_confirm(signature_id=pk).state
        context = {"st": st, "state": state}
        return pages.page_response(request, "statements/confirmed.html", context, key=(*key, state))
    if state != Signature.State.PENDING:
        context = {"st": st, "state": state}
        return pages.page_response(request, "statements/confirmed.html", context, key=(*key, state))
    context = {"st": st, "signer": dict(zip(CONFIRM_DETAILS, details, strict=True))}
    return pages.personal_response(request, "statements/confirm.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    """Two steps like confirmation: the GET asks, the POST withdraws and erases."""
    found, error, status = _signature_from_token(
        token, tokens.WITHDRAW, settings.WITHDRAW_TOKEN_MAX_AGE
    )
    if found is None:
        return _error_page(request, error, status)
    pk, state, withdrawn, statement = found
    st = selectors.statement_text_cached(statement, get_language())
    key = (statement.pk, statement.updated_at)
    if request.method == "POST" or withdrawn:
        state = services.signature_withdraw(signature_id=pk).state
        context = {"st": st, "state": state}
        return pages.page_response(request, "statements/withdrawn.html", context, key=(*key, state))
    return pages.page_response(request, "statements/withdraw.html", {"st": st}, key=key)


@require_GET
@cache_control(public=True, max_age=10)
def counts_json(request: HttpRequest, slug: str) -> HttpResponse:
    """Polled by every open page: answered from memory (the statement as read at most
    PAGE_CACHE_SECONDS ago, the counts from their memo), the same bytes for everyone."""
    statement = selectors.statement_get_cached(slug)
    counts = counters.get_counts(statement.pk)
    progress = goals.progress(counts, statement.signature_goal)
    key = (statement.pk, *(counts[name] for name in counters.NAMES), statement.accepts_signatures)
    key += (progress.goal if progress else None,)
    body = _counts_bodies.get(key)
    if body is None:
        body = json.dumps(
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
        ).encode()
        if len(_counts_bodies) > 100:
            _counts_bodies.clear()
        _counts_bodies[key] = body
    return HttpResponse(body, content_type="application/json")


_counts_bodies: dict[tuple, bytes] = {}
selectors.forget_with_reads(_counts_bodies.clear)


@require_GET
@reads_from_replica
def signatories(request: HttpRequest, slug: str) -> HttpResponse:
    statement = selectors.statement_get(slug)
    search = search_text(request.GET.get("q", ""))
    organisations = Paginator(selectors.public_organisations(statement, search=search), 50)
    individuals = Paginator(selectors.public_individuals(statement, search=search), 100)
    org_page = organisations.get_page(request.GET.get("org_page"))
    ind_page = individuals.get_page(request.GET.get("page"))
    groups: dict[str, list[Signature]] = {}
    for organisation in org_page:
        groups.setdefault(organisation.country.name, []).append(organisation)
    context = {
        "st": selectors.statement_text(statement, get_language()),
        "counts": counters.get_counts(statement.pk),
        "search": search,
        "org_page": org_page,
        "org_groups": groups,
        "ind_page": ind_page,
    }
    return render(request, "statements/signatories.html", context)


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    """The privacy notice, with the retention period the site is configured with."""
    context = {"retention_days": settings.SIGNATURE_RETENTION.days}
    return render(request, "privacy.html", context)
