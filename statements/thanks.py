"""The thanks page after signing: where the email went, what to do if it does not arrive, and
a button that sends it again.

The thanks page at its plain address is the same for everyone, shared by nginx and CDNs like
the statement page. The sign POST redirects to it with a short-lived signed value (`?t=…`)
that names the address typed, the kind of signature and the organisation: only the browser
that signed ever has that address, and with it the page is that signer's own — rendered for
them, `Cache-Control: private, no-store`, never shared, no cookie. The value is signed, so
nobody can make the site show an address or a name of their choosing; it names the statement
it was made for, and expires after THANKS_LINK_MAX_AGE (the page then says only what it says
to everyone). Access logs drop query strings (petition/access_log.py), and pages leave no
Referer to other sites (Referrer-Policy: same-origin).

The page says the same whatever happened to the submission (a first signature, a second one
with the same address, a form filled in by a bot), and so does sending again: the email goes
out through the outbox as signing again would send it (services.signature_resend), within the
per-signature cap and the sign form's rate limits, or does not, and the answer is the same.
"""

from dataclasses import dataclass, replace
from email.utils import parseaddr
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from statements import selectors, services
from statements.caching import not_shared
from statements.http import sign_rate_limited
from statements.models import Signature, Statement
from statements.normalise import email_key

SALT = "statements.thanks"
PARAMETER = "t"


@dataclass(frozen=True)
class Sent:
    """What the signer submitted, as far as the thanks page tells it back to them."""

    statement: str  # the statement's slug
    email: str
    kind: str
    organisation_name: str = ""
    # Sent again from the thanks page.
    again: bool = False

    @property
    def is_organisation(self) -> bool:
        return self.kind == Signature.Kind.ORGANISATION


def make_token(sent: Sent) -> str:
    return signing.dumps(
        [sent.statement, sent.email, sent.kind, sent.organisation_name, int(sent.again)],
        salt=SALT,
        compress=True,
    )


def read_token(token: str | None, statement: Statement) -> Sent | None:
    """The submission a thanks page's value names, or None: missing, forged, expired, or
    made for another statement."""
    if not token:
        return None
    try:
        slug, email, kind, organisation_name, again = signing.loads(
            token, salt=SALT, max_age=settings.THANKS_LINK_MAX_AGE
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if slug != statement.slug or kind not in Signature.Kind.values:
        return None
    return Sent(slug, email, kind, organisation_name, bool(again))


def address_for(thanks_url: str, sent: Sent) -> str:
    """Where a signer goes after signing: the thanks page with their value. The empty
    fragment keeps the browser from carrying over the form's (#sign-problem)."""
    return f"{thanks_url}?{urlencode({PARAMETER: make_token(sent)})}#"


def thanks_response(
    request: HttpRequest, slug: str, *, template: str, url_name: str, form_url_name: str
) -> HttpResponse:
    """The thanks page (GET) and its "send the email again" button (POST), for the statement
    page's form and the embedded one alike (`form_url_name` names the form's page)."""
    statement = selectors.statement_get_cached(slug)
    context = {
        "st": selectors.statement_text_cached(statement, get_language()),
        "here": reverse(url_name, kwargs={"slug": slug}),
        "form_url": reverse(form_url_name, kwargs={"slug": slug}) + "#sign",
    }
    if request.method == "POST":
        return _send_again(request, statement, context, template=template)
    token = request.GET.get(PARAMETER)
    if token is None:
        # The page everyone gets at this address: shared.
        return render(request, template, context)
    sent = read_token(token, statement)
    if sent is not None:
        context = _personal(context, sent, token)
    return _private(request, render(request, template, context))


def _send_again(request, statement, context: dict, *, template: str) -> HttpResponse:
    token = request.POST.get(PARAMETER)
    sent = read_token(token, statement)
    if sent is None:
        notice = _(
            "This page is too old to send the email again. Sign again with the same address: "
            "a new email goes out."
        )
        context = {**context, "notice": notice}
        return _private(request, render(request, template, context, status=400))
    # Counted like a sign POST: the same budgets per client and per address.
    if sign_rate_limited(request, email_key(sent.email)):
        notice = _("Too many attempts. Please wait a few minutes and try again.")
        context = {**_personal(context, sent, token), "notice": notice}
        return _private(request, render(request, template, context, status=429))
    services.signature_resend(statement=statement, kind=sent.kind, email=sent.email)
    return _private(request, redirect(address_for(context["here"], replace(sent, again=True))))


def _personal(context: dict, sent: Sent, token: str) -> dict:
    form_url = context["form_url"]
    if sent.is_organisation:
        form_url = form_url.replace("#sign", "?as=organisation#sign")
    return {
        **context,
        "sent": sent,
        "token": token,
        "form_url": form_url,
        # The address the emails come from, to look for in a spam folder.
        "sender_address": parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
    }


def _private(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    not_shared(request)
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex"
    return response
