"""The moderation queue and a signature's page: decide one, decide a page of them, release an
address."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import staff_required
from statements.models import Signature
from statements.staff import audit, rules, selectors
from statements.staff.forms import (
    BulkDecisionForm,
    DecisionForm,
    QueueFilterForm,
    QueuePageForm,
    SingleApprovalForm,
)
from statements.staff.selectors import QueueFilters
from statements.staff.services import moderation

MODERATE = "statements.moderate_signature"
QUEUE_PAGE_SIZE = 50


def _back(request: HttpRequest, fallback: str) -> str:
    """Where to return after a POST: the page it came from, if it is ours."""
    target = request.POST.get("next", "")
    # A path of ours; anything else (a view name, say) would be looked up by redirect().
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@staff_required(MODERATE)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    filter_form = QueueFilterForm(request.GET)
    filters = filter_form.filters()
    paging = QueuePageForm(request.GET)
    valid = paging.is_valid()
    page = Paginator(selectors.moderation_queue(filters), QUEUE_PAGE_SIZE).get_page(
        paging.cleaned_data.get("page") if valid else 1
    )
    titles = selectors.statement_titles(get_language())
    page.object_list = list(page.object_list)
    for signature in page.object_list:
        signature.statement_title = titles.get(signature.statement_id, signature.statement.slug)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("select", None)
    # After a decision, back to the same filters and page, but with nothing ticked: the rows
    # there may be others by then.
    back = query.copy()
    if page.number > 1:
        back["page"] = str(page.number)
    context = {
        "filter_form": filter_form,
        "page": page,
        # Nothing waits at all (the queue's own view), or nothing matches what was asked.
        "queue_is_empty": filters == QueueFilters() and not page.paginator.count,
        "filtered": filters != QueueFilters(),
        "query": query.urlencode(),
        "back": reverse("staff:queue") + ("?" + back.urlencode() if back else ""),
        "select_all": valid and paging.cleaned_data["select"] == "all",
        "decisions": rules.Decision.choices,
        "approvable": rules.APPROVABLE,
    }
    return render(request, "staff/queue.html", context, status=200 if valid else 400)


def _report(request: HttpRequest, outcome: moderation.BulkOutcome, action: str) -> None:
    label = rules.Decision(action).label
    if outcome.changed:
        messages.success(
            request,
            ngettext(
                "%(action)s: %(count)d signature changed.",
                "%(action)s: %(count)d signatures changed.",
                len(outcome.changed),
            )
            % {"action": label, "count": len(outcome.changed)},
        )
    if outcome.unchanged:
        messages.info(
            request,
            ngettext(
                "%(count)d signature already had that decision.",
                "%(count)d signatures already had that decision.",
                len(outcome.unchanged),
            )
            % {"count": len(outcome.unchanged)},
        )
    for refusal in outcome.refused:
        messages.error(request, refusal)


@staff_required(MODERATE)
@require_POST
def queue_decide(request: HttpRequest) -> HttpResponse:
    """The queue's one form: a row's own Approve button, or a decision for the ticked rows."""
    back = _back(request, reverse("staff:queue"))
    if "single" in request.POST:
        single = SingleApprovalForm(request.POST)
        if not single.is_valid():
            messages.error(request, _("Invalid selection."))
            return redirect(back)
        outcome = moderation.signatures_moderate(
            signature_ids=[single.cleaned_data["single"]],
            action=rules.Decision.APPROVE,
            actor=request.user,
        )
        _report(request, outcome, rules.Decision.APPROVE)
        return redirect(back)
    form = BulkDecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    outcome = moderation.signatures_moderate(
        signature_ids=form.cleaned_data["selected"],
        action=form.cleaned_data["action"],
        actor=request.user,
        reason=form.cleaned_data["reason"],
    )
    _report(request, outcome, form.cleaned_data["action"])
    return redirect(back)


@staff_required(MODERATE)
@require_GET
def signature_detail(request: HttpRequest, pk: int) -> HttpResponse:
    signature = get_object_or_404(selectors.signatures_with_statement(), pk=pk)
    events = selectors.signature_history(signature)
    titles = selectors.statement_titles(get_language())
    context = {
        "signature": signature,
        "statement_title": titles.get(signature.statement_id, signature.statement.slug),
        "history": [(event, audit.describe(event, in_history=True)) for event in events],
        "same_organisation": (
            selectors.same_organisation(signature).order_by("created_at")
            if signature.kind == Signature.Kind.ORGANISATION
            else []
        ),
        "releasable": signature.state in rules.RELEASABLE and signature.key_released_at is None,
        "decide_form": DecisionForm(),
        "allowed": {
            action: signature.state in allowed and signature.state != target
            for action, (allowed, target) in rules.TRANSITIONS.items()
        },
    }
    return render(request, "staff/signature.html", context)


@staff_required(MODERATE)
@require_POST
def signature_decide(request: HttpRequest, pk: int) -> HttpResponse:
    signature = get_object_or_404(Signature, pk=pk)
    back = _back(request, reverse("staff:signature", kwargs={"pk": signature.pk}))
    form = DecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    action = form.cleaned_data["action"]
    try:
        outcome = moderation.signature_moderate(
            signature_id=signature.pk,
            action=action,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            send_reason=form.cleaned_data["send_reason"],
        )
    except moderation.ModerationRefused as exc:
        messages.error(request, str(exc))
        return redirect(back)
    name = outcome.signature.display_name
    if not outcome.changed:
        messages.info(request, _("“%(name)s” already had that decision.") % {"name": name})
        return redirect(back)
    messages.success(
        request,
        _("“%(name)s”: %(from)s → %(to)s.")
        % {
            "name": name,
            "from": Signature.State(outcome.from_state).label,
            "to": outcome.signature.get_state_display(),
        },
    )
    # On to the next signature waiting for a decision, as a moderator works through a queue.
    following = selectors.next_in_queue(after=signature.pk)
    if following is None:
        return redirect("staff:queue")  # which says that it is empty
    return redirect("staff:signature", pk=following.pk)


@staff_required(MODERATE)
@require_POST
def signature_release(request: HttpRequest, pk: int) -> HttpResponse:
    signature = get_object_or_404(Signature, pk=pk)
    if moderation.signature_key_release(signature_id=signature.pk, actor=request.user):
        messages.success(
            request,
            _("The address of “%(name)s” may sign again.") % {"name": signature.display_name},
        )
    return redirect("staff:signature", pk=signature.pk)
