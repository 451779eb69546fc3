"""Staff views for signatory exports: HTTP in, one service call, HTTP out.

Every view needs the organiser's permission `exports.export_signatories` (moderators get
403, anonymous visitors the login page). Exports are found by random UUID only.
"""

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_countries import countries

from accounts.access import staff_required
from exports import services
from exports.forms import ExportRequestForm
from exports.models import SignatoryExport
from exports.selectors import ExportFilters
from statements.models import Signature, Statement
from statements.staff.selectors import statement_titles

PERMISSION = "exports.export_signatories"
RECENT = 50
LANGUAGE_NAMES = dict(settings.LANGUAGES)


def describe_filters(export: SignatoryExport) -> dict:
    """The export's filters in words, in the organiser's language."""
    filters = ExportFilters.from_json(export.filters)
    kinds = dict(Signature.Kind.choices)
    states = dict(Signature.State.choices)
    return {
        "kinds": ", ".join(str(kinds.get(k, k)) for k in filters.kinds),
        "states": ", ".join(str(states.get(s, s)) for s in filters.states),
        "countries": ", ".join(countries.name(c) or c for c in filters.countries),
        "date_from": filters.date_from,
        "date_to": filters.date_to,
        "language": str(LANGUAGE_NAMES.get(filters.language, filters.language)),
        "bom": filters.bom,
        "notify": filters.notify,
    }


def _listed(exports, titles: dict[int, str]) -> list[dict]:
    return [
        {
            "export": export,
            "statement_title": titles.get(export.statement_id, export.statement.slug),
            "filters": describe_filters(export),
        }
        for export in exports
    ]


def progress_data(export: SignatoryExport) -> dict:
    """What the progress bar shows; the page renders it and the endpoint returns it."""
    downloadable = services.is_downloadable(export)
    return {
        "state": export.state,
        "state_label": str(export.get_state_display()),
        "progress": export.progress,
        "rows_done": export.rows_done,
        "total_rows": export.total_rows,
        "error": export.error if export.state == SignatoryExport.State.FAILED else "",
        "download_url": (
            reverse("staff:export_download", kwargs={"export_id": export.pk})
            if downloadable
            else None
        ),
    }


@never_cache
@staff_required(PERMISSION)
@require_http_methods(["GET", "POST"])
def exports(request: HttpRequest) -> HttpResponse:
    """The request form and the latest exports."""
    status = 200
    if request.method == "POST":
        form = ExportRequestForm(request.POST)
        if form.is_valid():
            try:
                export = services.export_request(
                    statement=form.cleaned_data["statement"],
                    requested_by=request.user,
                    format=form.cleaned_data["format"],
                    filters=form.to_filters(email_language=get_language()),
                )
            except services.TooManyExports:
                form.add_error(
                    None,
                    _(
                        "You already have %(count)d exports waiting or running. Please wait "
                        "for one to finish."
                    )
                    % {"count": services.MAX_ACTIVE_PER_USER},
                )
            else:
                if form.cleaned_data["notify"]:
                    told = _("Your list has been requested. We will email you when it is ready.")
                else:
                    told = _("Your list has been requested. This page shows its progress.")
                messages.success(request, told)
                return redirect("staff:export_detail", export_id=export.pk)
        status = 400
    else:
        form = ExportRequestForm(initial={"statement": Statement.objects.first()})
    recent = SignatoryExport.objects.select_related("statement", "requested_by")[:RECENT]
    context = {
        "form": form,
        "exports": _listed(recent, statement_titles(get_language())),
        "expiry_days": max(settings.EXPORT_MAX_AGE.days, 1),
    }
    return render(request, "exports/list.html", context, status=status)


@never_cache
@staff_required(PERMISSION)
@require_GET
def export_detail(request: HttpRequest, export_id) -> HttpResponse:
    export = get_object_or_404(
        SignatoryExport.objects.select_related("statement", "requested_by"), pk=export_id
    )
    titles = statement_titles(get_language())
    context = {
        "export": export,
        "statement_title": titles.get(export.statement_id, export.statement.slug),
        "filters": describe_filters(export),
        "status": progress_data(export),
        "download_name": services.download_name(export),
    }
    return render(request, "exports/detail.html", context)


@never_cache
@staff_required(PERMISSION)
@require_GET
def export_progress(request: HttpRequest, export_id) -> JsonResponse:
    """Polled by static/js/export-progress.js every second or two."""
    export = get_object_or_404(SignatoryExport, pk=export_id)
    return JsonResponse(progress_data(export))


@staff_required(PERMISSION)
@require_GET
def export_download(request: HttpRequest, export_id) -> HttpResponse:
    """Serve the file, once per request audited. Not ready → 404; past its expiry → 410."""
    export = get_object_or_404(SignatoryExport.objects.select_related("statement"), pk=export_id)
    if export.state not in {SignatoryExport.State.DONE, SignatoryExport.State.EXPIRED}:
        return render(request, "exports/unavailable.html", {"export": export}, status=404)
    path = services.export_path(export)
    if not services.is_downloadable(export) or not path.is_file():
        return render(request, "exports/unavailable.html", {"export": export}, status=410)
    services.export_download_record(export=export, user=request.user)
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=services.download_name(export),
        content_type=services.CONTENT_TYPES[export.format],
    )
    # Personal data: no shared cache may keep it, and the browser should not either.
    response["Cache-Control"] = "private, no-store"
    return response
