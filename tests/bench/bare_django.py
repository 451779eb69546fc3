"""The issue's yardstick, "a bare Django view that validates a form and inserts one row",
served by the same gunicorn, settings and middleware as the site:

    DJANGO_SETTINGS_MODULE=tests.bench.bare_django gunicorn petition.wsgi …

The view answers the sign URL: the POST (without a token, as the site's sign form since it
is protected by Fetch Metadata) is validated by a plain form and saved with one ORM create();
no rate limit, no cross-site check, no task, no duplicate handling. It shows what this
machine does for the least a sign POST must do; the benchmark prints it beside the real one.
"""

import functools

from django import forms
from django.http import HttpResponseRedirect
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from petition.settings import *  # noqa: F403 - the site's settings, one URLconf changed

ROOT_URLCONF = "tests.bench.bare_django"


class BareForm(forms.Form):
    full_name = forms.CharField(max_length=200)
    email = forms.EmailField(max_length=254)
    country = forms.CharField(max_length=2)


@functools.cache
def _statement_id(slug: str) -> int:
    from statements.models import Statement

    return Statement.objects.get(slug=slug).pk


@csrf_exempt
@require_POST
def bare_sign(request, lang, slug):
    from statements.models import Signature

    form = BareForm({k.removeprefix("individual-"): v for k, v in request.POST.items()})
    if not form.is_valid():
        return HttpResponseRedirect("/invalid/")
    now = timezone.now()
    Signature.objects.create(
        statement_id=_statement_id(slug),
        kind="individual",
        full_name=form.cleaned_data["full_name"],
        email=form.cleaned_data["email"],
        email_key=form.cleaned_data["email"].lower(),
        country=form.cleaned_data["country"],
        consent_version="bare",
        consent_at=now,
        created_at=now,
    )
    return HttpResponseRedirect("/thanks/")


def healthz(request):
    from django.http import HttpResponse

    return HttpResponse("ok")


urlpatterns = [
    path("<str:lang>/s/<slug:slug>/sign/", bare_sign),
    path("healthz", healthz),
]
