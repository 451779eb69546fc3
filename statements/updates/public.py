"""The one-click stop for campaign updates (RFC 8058).

Mail programs that show an "Unsubscribe" button POST `List-Unsubscribe=One-Click` to the
address in the message's List-Unsubscribe header, from their own servers: with no cookie,
no CSRF token and no browser headers. So the POST needs none of them (the signed token in
the address is the credential, and what it allows is to stop emails, nothing else); a GET,
which mail scanners make to every link, only shows a page with the button.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from statements import tokens
from statements.models import Signature
from statements.updates.services import updates_stop


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        public_id = tokens.read_token(token, tokens.UNSUBSCRIBE, None)
    except (tokens.TokenInvalid, tokens.TokenExpired):
        return render(request, "statements/link_invalid.html", status=404)
    signature_id = (
        Signature.objects.filter(public_id=public_id).values_list("pk", flat=True).first()
    )
    if signature_id is None:
        return render(request, "statements/link_invalid.html", status=404)
    if request.method == "POST":
        updates_stop(signature_id=signature_id)
        return render(request, "statements/unsubscribed.html")
    return render(request, "statements/unsubscribe.html")
