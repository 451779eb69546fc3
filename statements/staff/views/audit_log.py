"""The audit log, filtered by action."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from statements.staff import audit, selectors
from statements.staff.access import staff_required


@staff_required("statements.view_auditevent")
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    action = request.GET.get("action", "").strip()[:50]
    page = Paginator(selectors.audit_events(action=action), 100).get_page(request.GET.get("page"))
    actions = selectors.audit_actions()
    titles = selectors.statement_titles(get_language(), by_slug=True)
    context = {
        "page": page,
        "sentences": [(event, audit.describe(event, titles=titles)) for event in page],
        "action": action,
        "actions": audit.action_choices(actions),
        "query": urlencode({"action": action}) if action else "",
    }
    return render(request, "staff/audit.html", context)
