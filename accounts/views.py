"""Invitations to the staff: send, revoke, and the page where an invited person joins."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.access import has_totp, staff_required, staff_role
from accounts.forms import InvitationForm, JoinForm
from accounts.models import StaffInvitation, StaffRole


@staff_required("accounts.invite_staff")
@require_http_methods(["GET", "POST"])
def invitations(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        try:
            sent = services.staff_invite(
                email=email,
                role=form.cleaned_data["role"],
                invited_by=request.user,
                language=get_language(),
            )
        except services.AlreadyStaff:
            form.add_error("email", _("This address already belongs to a staff account."))
        except services.AddressTaken:
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
    staff = selectors.staff_members()
    context = {
        "form": form,
        "pending": selectors.invitations_pending(),
        "recent": selectors.invitations_settled()[:20],
        "staff": [
            (user, StaffRole(staff_role(user)).label, has_totp(user))
            for user in staff
            if staff_role(user)
        ],
        "max_age_days": settings.STAFF_INVITATION_MAX_AGE.days,
    }
    return render(request, "staff/invitations.html", context, status=400 if form.errors else 200)


@staff_required("accounts.invite_staff")
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(StaffInvitation, pk=pk)
    if services.staff_invitation_revoke(invitation_id=invitation.pk, actor=request.user):
        messages.success(
            request, _("The invitation to %(email)s is revoked.") % {"email": invitation.email}
        )
    return redirect("staff:invitations")


@never_cache
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    """Accept an invitation: choose a password, then sign in (and enrol TOTP)."""
    try:
        invitation = services.staff_invitation_get(token=token)
    except services.InvitationInvalid:
        return render(request, "staff/join_unusable.html", {"reason": "invalid"}, status=404)
    except services.InvitationExpired:
        return render(request, "staff/join_unusable.html", {"reason": "expired"}, status=410)
    except services.InvitationUsed:
        return render(request, "staff/join_unusable.html", {"reason": "used"}, status=410)
    except services.InvitationAddressTaken:
        return _address_taken(request)
    form = JoinForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_invitation_accept(token=token, password=form.cleaned_data["password1"])
        except services.InvitationAddressTaken:
            return _address_taken(request)
        except services.InvitationError:
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
