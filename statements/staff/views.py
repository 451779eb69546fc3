"""Staff views: HTTP in, one service call, HTTP out. Every view goes through `staff_required`
(sign-in, a staff role, TOTP enrolled, then the view's permission); the invitation page is the
one exception, since the person invited has no account yet."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_countries import countries

from ops.routers import reads_from_replica
from statements import counters
from statements.models import (
    AuditEvent,
    InvalidationRun,
    Signature,
    StaffInvitation,
    StaffRole,
    Statement,
)
from statements.staff import accounts, audit, selectors, services
from statements.staff.access import ROLE_GROUPS, has_totp, staff_required, staff_role
from statements.staff.charts import day_chart
from statements.staff.forms import (
    BulkDecisionForm,
    DecisionForm,
    InvalidationForm,
    InvitationForm,
    JoinForm,
    QueueFilterForm,
)
from statements.staff.selectors import QueueFilters

MODERATE = "statements.moderate_signature"
QUEUE_PAGE_SIZE = 50


def _back(request: HttpRequest, fallback: str) -> str:
    """Where to return after a POST: the page it came from, if it is ours."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- Dashboard --------------------------------------------------------------------------------


@staff_required(MODERATE)
@require_GET
@reads_from_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    statements = list(Statement.objects.all())
    chosen = next((s for s in statements if str(s.pk) == request.GET.get("statement")), None)
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
    }
    return render(request, "staff/dashboard.html", context)


# --- Moderation -------------------------------------------------------------------------------


@staff_required(MODERATE)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    filter_form = QueueFilterForm(request.GET)
    filters = filter_form.filters()
    page = Paginator(selectors.moderation_queue(filters), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
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
        "select_all": request.GET.get("select") == "all",
        "decisions": services.Decision.choices,
        "approvable": services.APPROVABLE,
    }
    return render(request, "staff/queue.html", context)


def _report(request: HttpRequest, outcome: services.BulkOutcome, action: str) -> None:
    label = services.Decision(action).label
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
    single = request.POST.get("single", "")
    if single.isdigit():
        outcome = services.signatures_moderate(
            signature_ids=[int(single)], action=services.Decision.APPROVE, actor=request.user
        )
        _report(request, outcome, services.Decision.APPROVE)
        return redirect(back)
    form = BulkDecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    outcome = services.signatures_moderate(
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
    signature = get_object_or_404(Signature.objects.select_related("statement"), pk=pk)
    events = signature.audit_events.select_related("actor").order_by("-created_at", "-pk")
    titles = selectors.statement_titles(get_language())
    context = {
        "signature": signature,
        "statement_title": titles.get(signature.statement_id, signature.statement.slug),
        "history": [(event, audit.describe(event, in_history=True)) for event in events],
        "same_organisation": (
            services.same_organisation(signature).order_by("created_at")
            if signature.kind == Signature.Kind.ORGANISATION
            else []
        ),
        "releasable": signature.state in services.RELEASABLE and signature.key_released_at is None,
        "decide_form": DecisionForm(),
        "allowed": {
            action: signature.state in allowed and signature.state != target
            for action, (allowed, target) in services.TRANSITIONS.items()
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
        outcome = services.signature_moderate(
            signature_id=signature.pk,
            action=action,
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except services.ModerationRefused as exc:
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
    following = selectors.moderation_queue(QueueFilters()).exclude(pk=signature.pk).first()
    if following is None:
        return redirect("staff:queue")  # which says that it is empty
    return redirect("staff:signature", pk=following.pk)


@staff_required(MODERATE)
@require_POST
def signature_release(request: HttpRequest, pk: int) -> HttpResponse:
    signature = get_object_or_404(Signature, pk=pk)
    if services.signature_key_release(signature_id=signature.pk, actor=request.user):
        messages.success(
            request,
            _("The address of “%(name)s” may sign again.") % {"name": signature.display_name},
        )
    return redirect("staff:signature", pk=signature.pk)


# --- Statements: opening and closing signing --------------------------------------------------


@staff_required("statements.open_close_signing")
@require_GET
def statement_list(request: HttpRequest) -> HttpResponse:
    statements = Statement.objects.prefetch_related("translations")
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
    signing_open = request.POST.get("signing_open") == "1"
    changed = services.statement_signing_set(
        statement_id=statement.pk, signing_open=signing_open, actor=request.user
    )
    if changed and signing_open:
        messages.success(request, _("Signing is open for %(slug)s.") % {"slug": statement.slug})
    elif changed:
        messages.success(request, _("Signing is closed for %(slug)s.") % {"slug": statement.slug})
    return redirect("staff:statements")


# --- Invitations ------------------------------------------------------------------------------


@staff_required("statements.invite_staff")
@require_http_methods(["GET", "POST"])
def invitations(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        try:
            sent = accounts.staff_invite(
                email=email,
                role=form.cleaned_data["role"],
                invited_by=request.user,
                language=get_language(),
            )
        except accounts.AlreadyStaff:
            form.add_error("email", _("This address already belongs to a staff account."))
        except accounts.AddressTaken:
            form.add_error(
                "email",
                _(
                    "This address already belongs to an account on this site; an invitation "
                    "only creates a new account."
                ),
            )
        else:
            if sent.emailed:
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": email})
            else:
                messages.error(
                    request,
                    _(
                        "The invitation to %(email)s was saved but could not be emailed. "
                        "Revoke it and try again later."
                    )
                    % {"email": email},
                )
            return redirect("staff:invitations")
    User = get_user_model()
    staff = (
        User.objects.filter(groups__name__in=ROLE_GROUPS.values(), is_active=True)
        .prefetch_related(Prefetch("groups"))
        .distinct()
        .order_by("email")
    )
    context = {
        "form": form,
        "pending": StaffInvitation.objects.filter(
            accepted_at__isnull=True, expires_at__gt=timezone.now()
        ).select_related("invited_by"),
        "recent": StaffInvitation.objects.exclude(
            accepted_at__isnull=True, expires_at__gt=timezone.now()
        ).select_related("invited_by", "accepted_user")[:20],
        "staff": [
            (user, StaffRole(staff_role(user)).label, has_totp(user))
            for user in staff
            if staff_role(user)
        ],
        "max_age_days": settings.STAFF_INVITATION_MAX_AGE.days,
    }
    return render(request, "staff/invitations.html", context, status=400 if form.errors else 200)


@staff_required("statements.invite_staff")
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(StaffInvitation, pk=pk)
    if accounts.staff_invitation_revoke(invitation_id=invitation.pk, actor=request.user):
        messages.success(
            request, _("The invitation to %(email)s is revoked.") % {"email": invitation.email}
        )
    return redirect("staff:invitations")


@never_cache
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    """Accept an invitation: choose a password, then sign in (and enrol TOTP)."""
    try:
        invitation = accounts.staff_invitation_get(token=token)
    except accounts.InvitationInvalid:
        return render(request, "staff/join_unusable.html", {"reason": "invalid"}, status=404)
    except accounts.InvitationExpired:
        return render(request, "staff/join_unusable.html", {"reason": "expired"}, status=410)
    except accounts.InvitationUsed:
        return render(request, "staff/join_unusable.html", {"reason": "used"}, status=410)
    except accounts.InvitationAddressTaken:
        return _address_taken(request)
    form = JoinForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.staff_invitation_accept(token=token, password=form.cleaned_data["password1"])
        except accounts.InvitationAddressTaken:
            return _address_taken(request)
        except accounts.InvitationError:
            return render(request, "staff/join_unusable.html", {"reason": "used"}, status=410)
        if request.user.is_authenticated:
            logout(request)
        messages.success(
            request,
            _("Your staff account is ready. Sign in with %(email)s and your new password.")
            % {"email": invitation.email},
        )
        return redirect(reverse("account_login") + "?next=" + reverse("staff:home"))
    context = {"invitation": invitation, "form": form, "role": StaffRole(invitation.role).label}
    return render(request, "staff/join.html", context, status=400 if form.errors else 200)


def _address_taken(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/join_unusable.html", {"reason": "taken"}, status=409)


# --- Invalidation -----------------------------------------------------------------------------

INVALIDATE = "statements.invalidate_signatures"


@staff_required(INVALIDATE)
@require_http_methods(["GET", "POST"])
def invalidations(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = InvalidationForm(request.POST)
        if form.is_valid():
            run = services.invalidation_prepare(conditions=form.conditions(), actor=request.user)
            return redirect("staff:invalidation", pk=run.pk)
    else:
        # Links from the dashboard pre-fill a condition (?email_domain=… or ?ip_hash=…).
        form = InvalidationForm(initial=request.GET.dict())
    runs = Paginator(InvalidationRun.objects.select_related("created_by", "statement"), 25)
    context = {"form": form, "runs": runs.get_page(request.GET.get("page"))}
    return render(request, "staff/invalidations.html", context, status=400 if form.errors else 200)


@staff_required(INVALIDATE)
@require_GET
def invalidation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(
        InvalidationRun.objects.select_related("created_by", "statement"), pk=pk
    )
    conditions = services.invalidation_conditions(run)
    sample = None
    current = None
    if run.state == InvalidationRun.State.DRAFT:
        matches = services.invalidation_matches(conditions)
        current = matches.count()
        sample = matches.select_related("statement").order_by("-created_at")[:20]
    context = {
        "run": run,
        "conditions": conditions,
        "country_name": countries.name(conditions.country) if conditions.country else "",
        "current": current,
        "sample": sample,
        "states": InvalidationRun.State,
        "can_revert": run.state in services.REVERTIBLE
        and run.reverted_at is None
        and run.changed_count > 0,
        "events": [
            (event, audit.describe(event))
            for event in AuditEvent.objects.filter(
                action__startswith="invalidation.", data__run=run.pk
            ).select_related("actor")
        ],
    }
    return render(request, "staff/invalidation.html", context)


@staff_required(INVALIDATE)
@require_POST
def invalidation_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(InvalidationRun, pk=pk)
    services.invalidation_start(run_id=run.pk, actor=request.user)
    messages.success(request, _("The invalidation runs in the background."))
    return redirect("staff:invalidation", pk=run.pk)


@staff_required(INVALIDATE)
@require_POST
def invalidation_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(InvalidationRun, pk=pk)
    if services.invalidation_cancel(run_id=run.pk, actor=request.user):
        messages.success(request, _("The invalidation is cancelled."))
    return redirect("staff:invalidation", pk=run.pk)


@staff_required(INVALIDATE)
@require_POST
def invalidation_revert(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(InvalidationRun, pk=pk)
    if services.invalidation_revert(run_id=run.pk, actor=request.user):
        messages.success(request, _("The invalidation is being reverted in the background."))
    return redirect("staff:invalidation", pk=run.pk)


# --- Audit log --------------------------------------------------------------------------------


@staff_required("statements.view_auditevent")
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.select_related("actor", "signature")
    action = request.GET.get("action", "").strip()[:50]
    if action:
        events = events.filter(action__startswith=action)
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    actions = (
        AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()[:100]
    )
    titles = selectors.statement_titles(get_language(), by_slug=True)
    context = {
        "page": page,
        "sentences": [(event, audit.describe(event, titles=titles)) for event in page],
        "action": action,
        "actions": audit.action_choices(actions),
        "query": urlencode({"action": action}) if action else "",
    }
    return render(request, "staff/audit.html", context)
