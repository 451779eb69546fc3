"""Staff pages for paper signatures: upload with a per-row report, the list of imports, undo."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import staff_required
from statements.paper import services
from statements.paper.forms import UploadForm
from statements.paper.models import PaperImport
from statements.paper.reading import COLUMNS

IMPORT = "statements.import_paper"


@staff_required(IMPORT)
@require_http_methods(["GET", "POST"])
def paper_imports(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    outcome = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        outcome = services.paper_import_create(
            statement=form.cleaned_data["statement"],
            file_name=upload.name,
            data=upload.read(),
            actor=request.user,
            language=get_language(),
        )
        if outcome.imported:
            messages.success(
                request,
                _("%(imported)d signatures imported, %(duplicates)d duplicates skipped.")
                % {
                    "imported": outcome.paper_import.imported_count,
                    "duplicates": outcome.paper_import.duplicate_count,
                },
            )
            return render(
                request,
                "staff/paper_detail.html",
                {"paper_import": outcome.paper_import, "duplicates": outcome.duplicates},
            )
    imports = Paginator(PaperImport.objects.select_related("statement", "imported_by"), 25)
    context = {
        "form": form,
        "outcome": outcome,
        "columns": COLUMNS,
        "imports": imports.get_page(request.GET.get("page")),
    }
    failed = form.errors or (outcome is not None and not outcome.imported)
    return render(request, "staff/paper.html", context, status=400 if failed else 200)


@staff_required(IMPORT)
@require_http_methods(["GET"])
def paper_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    paper_import = get_object_or_404(
        PaperImport.objects.select_related("statement", "imported_by", "undone_by"), pk=pk
    )
    return render(request, "staff/paper_detail.html", {"paper_import": paper_import})


@staff_required(IMPORT)
@require_POST
def paper_import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    paper_import = get_object_or_404(PaperImport, pk=pk)
    if services.paper_import_undo(import_id=paper_import.pk, actor=request.user):
        messages.success(request, _("The import is undone: its signatures are deleted."))
    return redirect("staff:paper_import", pk=paper_import.pk)
