"""Statements in the staff area: opening and closing signing."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import staff_required
from statements import counters
from statements.models import Statement
from statements.staff import selectors
from statements.staff.forms import SigningSwitchForm
from statements.staff.services import signing


@staff_required("statements.open_close_signing")
@require_GET
def statement_list(request: HttpRequest) -> HttpResponse:
    statements = selectors.statements_with_texts()
    rows = []
    for statement in statements:
        texts = {t.language: t for t in statement.translations.all()}
        text = texts.get(get_language()) or texts.get(statement.original_language)
        rows.append((statement, text, counters.get_counts(statement.pk)))
    return render(request, "staff/statements.html", {"rows": rows})


@staff_required("statements.open_close_signing")
@require_POST
def statement_signing(request: HttpRequest, pk: int) -> HttpResponse:
    statement = get_object_or_404(Statement, pk=pk)
    switch = SigningSwitchForm(request.POST)
    if not switch.is_valid():
        messages.error(request, _("Invalid selection."))
        return redirect("staff:statements")
    signing_open = switch.cleaned_data["signing_open"]
    changed = signing.statement_signing_set(
        statement_id=statement.pk, signing_open=signing_open, actor=request.user
    )
    if changed and signing_open:
        messages.success(request, _("Signing is open for %(slug)s.") % {"slug": statement.slug})
    elif changed:
        messages.success(request, _("Signing is closed for %(slug)s.") % {"slug": statement.slug})
    return redirect("staff:statements")
