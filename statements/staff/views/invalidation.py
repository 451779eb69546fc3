"""Bulk invalidations: conditions with a dry run, then run, cancel or revert."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_countries import countries

from accounts.access import staff_required
from statements.models import InvalidationRun
from statements.staff import audit, rules, selectors
from statements.staff.forms import (
    InvalidationForm,
    PageForm,
)
from statements.staff.services import invalidation

INVALIDATE = "statements.invalidate_signatures"


@staff_required(INVALIDATE)
@require_http_methods(["GET", "POST"])
def invalidations(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = InvalidationForm(request.POST)
        if form.is_valid():
            run = invalidation.invalidation_prepare(
                conditions=form.conditions(), actor=request.user
            )
            return redirect("staff:invalidation", pk=run.pk)
    else:
        # Links from the dashboard pre-fill a condition (?email_domain=… or ?ip_hash=…).
        form = InvalidationForm(initial=request.GET.dict())
    paging = PageForm(request.GET)
    valid = paging.is_valid()
    runs = Paginator(selectors.invalidation_runs(), 25)
    context = {"form": form, "runs": runs.get_page(paging.cleaned_data["page"] if valid else 1)}
    status = 400 if form.errors or not valid else 200
    return render(request, "staff/invalidations.html", context, status=status)


@staff_required(INVALIDATE)
@require_GET
def invalidation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.invalidation_runs(), pk=pk)
    conditions = selectors.invalidation_conditions(run)
    sample = None
    current = None
    if run.state == InvalidationRun.State.DRAFT:
        matches = selectors.invalidation_matches(conditions)
        current = matches.count()
        sample = selectors.invalidation_sample(matches)
    revertible = run.state in rules.REVERTIBLE and run.changed_count > 0
    context = {
        "run": run,
        "conditions": conditions,
        "country_name": countries.name(conditions.country) if conditions.country else "",
        "current": current,
        "sample": sample,
        "states": InvalidationRun.State,
        "can_revert": revertible and run.reverted_at is None,
        # A revert whose chain of background tasks stopped can be set going again.
        "can_resume_revert": revertible and run.reverted_at is not None,
        "events": [
            (event, audit.describe(event)) for event in selectors.invalidation_events(run.pk)
        ],
    }
    return render(request, "staff/invalidation.html", context)


@staff_required(INVALIDATE)
@require_POST
def invalidation_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(InvalidationRun, pk=pk)
    invalidation.invalidation_start(run_id=run.pk, actor=request.user)
    messages.success(request, _("The invalidation runs in the background."))
    return redirect("staff:invalidation", pk=run.pk)


@staff_required(INVALIDATE)
@require_POST
def invalidation_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(InvalidationRun, pk=pk)
    if invalidation.invalidation_cancel(run_id=run.pk, actor=request.user):
        messages.success(request, _("The invalidation is cancelled."))
    return redirect("staff:invalidation", pk=run.pk)


@staff_required(INVALIDATE)
@require_POST
def invalidation_revert(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(InvalidationRun, pk=pk)
    if invalidation.invalidation_revert(run_id=run.pk, actor=request.user):
        messages.success(request, _("The invalidation is being reverted in the background."))
    return redirect("staff:invalidation", pk=run.pk)
