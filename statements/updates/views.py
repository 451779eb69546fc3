"""Staff pages for campaign updates: draft, review (who gets which language), send once."""

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language_info, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import staff_required
from statements.updates import services
from statements.updates.forms import UpdateForm
from statements.updates.models import CampaignUpdate

SEND = "statements.send_campaign_update"


@staff_required(SEND)
@require_http_methods(["GET", "POST"])
def update_list(request: HttpRequest) -> HttpResponse:
    form = UpdateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        update = services.update_create(
            statement=form.cleaned_data["statement"],
            original_language=form.cleaned_data["original_language"],
            texts=form.cleaned_data["texts"],
            actor=request.user,
        )
        messages.success(request, _("Draft saved. Check it, then send it."))
        return redirect("staff:update", pk=update.pk)
    updates = CampaignUpdate.objects.select_related("statement").prefetch_related("texts")[:50]
    status = 400 if form.errors else 200
    return render(request, "staff/updates.html", {"form": form, "updates": updates}, status=status)


@staff_required(SEND)
@require_http_methods(["GET"])
def update_detail(request: HttpRequest, pk: int) -> HttpResponse:
    update = get_object_or_404(
        CampaignUpdate.objects.select_related("statement").prefetch_related("texts"), pk=pk
    )
    texts = {text.language for text in update.texts.all()}
    counts: dict[str, int] = {}
    if update.state == CampaignUpdate.State.DRAFT:
        rows = (
            services.recipients(update.statement_id)
            .values("language")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            chosen = services.language_for(row["language"], texts, update.original_language)
            counts[chosen] = counts.get(chosen, 0) + row["n"]
    context = {
        "update": update,
        "texts": [
            (get_language_info(text.language)["name_local"], text) for text in update.texts.all()
        ],
        "counts": [
            (get_language_info(code)["name_local"], n) for code, n in sorted(counts.items())
        ],
        "total": sum(counts.values()),
    }
    return render(request, "staff/update.html", context)


@staff_required(SEND)
@require_POST
def update_send(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(CampaignUpdate, pk=pk)
    outcome = services.update_send(update_id=pk, actor=request.user)
    if outcome.sent:
        messages.success(
            request,
            ngettext(
                "The update is on its way to %(count)d signer.",
                "The update is on its way to %(count)d signers.",
                outcome.recipients,
            )
            % {"count": outcome.recipients},
        )
    else:
        messages.info(request, _("This update has already been sent."))
    return redirect("staff:update", pk=pk)
