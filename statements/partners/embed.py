"""The sign form that partner sites put in an iframe: `/<lang>/embed/<slug>/?ref=<code>`.

Framing is allowed on these pages alone (the form, its answers with errors, its thanks page),
and only to the origins of active partners (`frame-ancestors` in their Content-Security-Policy;
X-Frame-Options, which cannot name origins, is left off them). Everything else about them is
the main form's: the same fields, the same service, the same rate limits, and the same
Fetch-Metadata check. A POST from the form inside a partner's frame is same-origin, as the
framed document is ours; a form on the partner's own page posting here is cross-site, and
refused.

The form page is the same bytes for everyone who asks for the same address, so it is shared
like the statement page (nginx keeps it per language, kind and code). An unknown or inactive
code redirects to the address without one, so made-up codes cannot each make a new page.
"""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.csp import CSP
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_http_methods, require_safe

from statements import counters, goals, selectors, thanks, views
from statements.caching import shared
from statements.crossorigin import refuse_cross_site
from statements.partners.selectors import active_partner, frame_ancestors


def framable_by_partners(view: Callable) -> Callable:
    """The site's policy with `frame-ancestors` naming the active partners' origins ('none'
    without any), through Django's per-view override; no X-Frame-Options."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        policy = {**settings.SECURE_CSP, "frame-ancestors": frame_ancestors() or [CSP.NONE]}
        return csp_override(policy)(xframe_options_exempt(view))(request, *args, **kwargs)

    return wrapped


def _embed_page(request, statement, *, kind, ref, form=None, notice="", status=200):
    counts = counters.get_counts(statement.pk)
    context = {
        "st": selectors.statement_text_cached(statement, get_language()),
        "form": form,
        "kind": kind,
        "kinds": views.sign_kinds(),
        "counts": counts,
        "progress": goals.progress(counts, statement.signature_goal),
        "notice": notice,
        "ref": ref,
    }
    return render(request, "statements/embed.html", context, status=status)


@shared
@framable_by_partners
@require_safe
def embed(request: HttpRequest, slug: str) -> HttpResponse:
    statement = selectors.statement_get_cached(slug)
    kind = views.chosen_kind(request.GET.get("as"))
    asked = request.GET.get("ref")
    partner = active_partner(asked)
    if asked is not None and partner is None:
        query = urlencode({"as": kind}) if kind != views.Kind.INDIVIDUAL else ""
        target = reverse("statements:embed", kwargs={"slug": slug})
        return redirect(f"{target}?{query}" if query else target)
    return _embed_page(request, statement, kind=kind, ref=partner[1] if partner else "")


@never_cache
@framable_by_partners
@refuse_cross_site
@require_http_methods(["GET", "HEAD", "POST"])
def embed_sign(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "POST":
        return redirect("statements:embed", slug=slug)
    partner = active_partner(request.POST.get("ref"))
    ref = partner[1] if partner else ""

    def page(statement, *, form, kind, status, notice=""):
        return _embed_page(
            request, statement, kind=kind, ref=ref, form=form, notice=notice, status=status
        )

    return views.sign_submission(
        request,
        slug,
        page=page,
        thanks_url=reverse("statements:embed_thanks", kwargs={"slug": slug}),
        referrer_id=partner[0] if partner else None,
    )


@shared
@framable_by_partners
@refuse_cross_site
@require_http_methods(["GET", "HEAD", "POST"])
def embed_thanks(request: HttpRequest, slug: str) -> HttpResponse:
    """Like the statement page's thanks page (statements/thanks.py), inside the frame."""
    return thanks.thanks_response(
        request,
        slug,
        template="statements/embed_thanks.html",
        url_name="statements:embed_thanks",
        form_url_name="statements:embed",
    )
