"""Who may reach the staff area, and the check every staff view goes through.

Defends against: anonymous or non-staff users reaching staff pages (refused with 403 after
login), staff without a second factor (sent to enrol TOTP before any staff page, unless
STAFF_REQUIRE_MFA is off in the embedded default), and moderators using organiser-only tools
(refused by permission).
"""

from collections.abc import Callable
from functools import wraps

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from statements.models import StaffRole

ROLE_GROUPS = {StaffRole.ORGANISER: "organisers", StaffRole.MODERATOR: "moderators"}


def staff_role(user) -> str | None:
    if not user.is_authenticated or not user.is_active:
        return None
    names = {group.name for group in user.groups.all()}
    if ROLE_GROUPS[StaffRole.ORGANISER] in names or user.is_superuser:
        return StaffRole.ORGANISER
    if ROLE_GROUPS[StaffRole.MODERATOR] in names:
        return StaffRole.MODERATOR
    return None


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def staff_required(permission: str | None = None) -> Callable:
    """Decorate a staff view; `permission` ("statements.export_signatories") narrows it."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if staff_role(user) is None:
                raise PermissionDenied
            if settings.STAFF_REQUIRE_MFA and not has_totp(user):
                return redirect("mfa_activate_totp")
            if permission and not user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
