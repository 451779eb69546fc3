"""The staff dashboard: counts by state, signatures per day, countries, and what looks like
abuse in the last hour."""

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_GET
from django_countries import countries

from accounts.access import staff_required
from ops.routers import reads_from_replica
from statements import counters
from statements.outbox import selectors as outbox_selectors
from statements.partners.selectors import signatures_by_referrer
from statements.staff import selectors
from statements.staff.charts import day_chart
from statements.staff.forms import DashboardForm

MODERATE = "statements.moderate_signature"


@staff_required(MODERATE)
@require_GET
@reads_from_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    statements = list(selectors.statements())
    choice = DashboardForm(request.GET)
    chosen = choice.cleaned_data["statement"] if choice.is_valid() else None
    statement_id = chosen.pk if chosen else None
    hour_ago = timezone.now() - timedelta(hours=1)
    per_day = selectors.signatures_per_day(statement_id=statement_id)
    titles = selectors.statement_titles(get_language())
    context = {
        "statements": [(s, titles.get(s.pk, s.slug)) for s in statements],
        "chosen": chosen,
        "state_rows": selectors.counts_by_state(statement_id),
        "public_counts": [
            (s, titles.get(s.pk, s.slug), counters.get_counts(s.pk)) for s in statements
        ],
        "chart": day_chart(per_day),
        "top_countries": [
            (countries.name(code), code, n)
            for code, n in selectors.top_countries(statement_id=statement_id)
        ],
        "domains": selectors.trending_domains(since=hour_ago, statement_id=statement_id),
        "ip_hashes": selectors.trending_ip_hashes(since=hour_ago, statement_id=statement_id),
        "can_invalidate": request.user.has_perm("statements.invalidate_signatures"),
        "outbox": outbox_selectors.outbox_figures(),
        "refused_emails": outbox_selectors.failed_emails(limit=10),
        "referrers": signatures_by_referrer(statement_id),
    }
    return render(request, "staff/dashboard.html", context, status=400 if choice.errors else 200)
