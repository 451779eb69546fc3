"""The audit log, filtered by action."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from accounts.access import staff_required
from statements.staff import audit, selectors
from statements.staff.forms import AuditFilterForm


@staff_required("statements.view_auditevent")
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    query = AuditFilterForm(request.GET)
    valid = query.is_valid()
    action = query.cleaned_data["action"].strip() if valid else ""
    page = Paginator(selectors.audit_events(action=action), 100).get_page(
        query.cleaned_data["page"] if valid else 1
    )
    actions = selectors.audit_actions()
    titles = selectors.statement_titles(get_language(), by_slug=True)
    context = {
        "page": page,
        "sentences": [(event, audit.describe(event, titles=titles)) for event in page],
        "action": action,
        "actions": audit.action_choices(actions),
        "query": urlencode({"action": action}) if action else "",
    }
    return render(request, "staff/audit.html", context, status=200 if valid else 400)
