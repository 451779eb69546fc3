"""Public views: HTTP in, one service call, HTTP out."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from statements import counters, selectors, services, tokens
from statements.forms import SIGN_FORMS
from statements.http import client_ip, email_rate_limited, ip_rate_limited
from statements.models import Signature
from statements.normalise import email_key

logger = logging.getLogger(__name__)

Kind = Signature.Kind


def _chosen_kind(value: str | None) -> str:
    return Kind.ORGANISATION if value == Kind.ORGANISATION else Kind.INDIVIDUAL


def _render_statement(request, statement, *, form=None, kind=None, status=200, notice=""):
    kind = kind or _chosen_kind(request.GET.get("as"))
    form = form or SIGN_FORMS[kind](prefix=kind)
    context = {
        "st": selectors.statement_text(statement, get_language()),
        "counts": counters.get_counts(statement.pk),
        "form": form,
        "kind": kind,
        "kinds": [
            (Kind.INDIVIDUAL, _("I sign as an individual")),
            (Kind.ORGANISATION, _("I sign on behalf of an organisation")),
        ],
        "latest": selectors.latest_endorsements(statement),
        "notice": notice,
        "page_url": settings.SITE_URL + request.path,
    }
    return render(request, "statements/detail.html", context, status=status)


@require_GET
def statement_detail(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    return _render_statement(request, selectors.statement_get(slug))


@require_POST
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    statement = selectors.statement_get(slug)
    kind = _chosen_kind(request.POST.get("kind"))
    form = SIGN_FORMS[kind](request.POST, prefix=kind)
    if not statement.signing_open:
        notice = _("Signing is closed for this statement.")
        return _render_statement(
            request, statement, form=form, kind=kind, status=403, notice=notice
        )
    too_many = _("Too many attempts. Please wait a few minutes and try again.")
    if ip_rate_limited(request):
        return _render_statement(
            request, statement, form=form, kind=kind, status=429, notice=too_many
        )
    if not form.is_valid():
        return _render_statement(request, statement, form=form, kind=kind, status=400)
    if email_rate_limited(request, email_key(form.cleaned_data["email"])):
        return _render_statement(
            request, statement, form=form, kind=kind, status=429, notice=too_many
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
    statement = selectors.statement_get(slug)
    st = selectors.statement_text(statement, get_language())
    return render(request, "statements/thanks.html", {"st": st})


def _signature_from_token(token: str, action: str, max_age):
    """Return (signature, error_template, status)."""
    try:
        public_id = tokens.read_token(token, action, max_age)
    except tokens.TokenExpired:
        return None, "statements/link_expired.html", 410
    except tokens.TokenInvalid:
        return None, "statements/link_invalid.html", 404
    signature = Signature.objects.select_related("statement").filter(public_id=public_id).first()
    if signature is None:
        return None, "statements/link_invalid.html", 404
    return signature, None, 200


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; only the POST confirms, because mail scanners follow links."""
    signature, error, status = _signature_from_token(
        token, tokens.CONFIRM, settings.SIGNATURE_TOKEN_MAX_AGE
    )
    if signature is None:
        return render(request, error, status=status)
    if signature.state == Signature.State.WITHDRAWN:
        return render(request, "statements/link_invalid.html", status=404)
    st = selectors.statement_text(signature.statement, get_language())
    if request.method == "POST":
        signature = services.signature_confirm(signature_id=signature.pk)
        return render(request, "statements/confirmed.html", {"st": st, "signature": signature})
    return render(
        request, "statements/confirm.html", {"st": st, "signature": signature, "token": token}
    )


@never_cache
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    """Two steps like confirmation: the GET asks, the POST withdraws and erases."""
    signature, error, status = _signature_from_token(
        token, tokens.WITHDRAW, settings.WITHDRAW_TOKEN_MAX_AGE
    )
    if signature is None:
        return render(request, error, status=status)
    st = selectors.statement_text(signature.statement, get_language())
    if request.method == "POST" or signature.state == Signature.State.WITHDRAWN:
        services.signature_withdraw(signature_id=signature.pk)
        return render(request, "statements/withdrawn.html", {"st": st})
    return render(request, "statements/withdraw.html", {"st": st, "token": token})


@require_GET
@cache_control(public=True, max_age=10)
def counts_json(request: HttpRequest, slug: str) -> JsonResponse:
    statement = selectors.statement_get(slug)
    counts = counters.get_counts(statement.pk)
    return JsonResponse(
        {
            "statement": statement.slug,
            "individuals": counts[Kind.INDIVIDUAL],
            "organisations": counts[Kind.ORGANISATION],
            "signing_open": statement.signing_open,
        }
    )


@require_GET
def signatories(request: HttpRequest, slug: str) -> HttpResponse:
    statement = selectors.statement_get(slug)
    search = request.GET.get("q", "").strip()[:100]
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


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, cache and broker status for load balancers and monitoring."""
    checks = {"database": _check_database(), "cache": _check_cache(), "broker": _check_broker()}
    healthy = all(value in {"ok", "eager"} for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception:
        logger.warning("health check: database unavailable")
        return "unavailable"


def _check_cache() -> str:
    try:
        cache.set("healthz", "1", 10)
        return "ok" if cache.get("healthz") == "1" else "unavailable"
    except Exception:
        logger.warning("health check: cache unavailable")
        return "unavailable"


def _check_broker() -> str:
    from petition.celery import app

    if app.conf.task_always_eager:
        return "eager"
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
        return "ok"
    except Exception:
        logger.warning("health check: broker unavailable")
        return "unavailable"
