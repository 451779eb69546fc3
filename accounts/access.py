"""Who may reach the staff area, and the check every staff view goes through.

Defends against: anonymous or non-staff users reaching staff pages (refused with 403 after
login), staff without a second factor (sent to enrol TOTP before any staff page, unless
STAFF_REQUIRE_MFA is off in the embedded default), and moderators using organiser-only tools
(refused by permission). Staff pages show personal data, so no cache may keep them.
"""

from collections.abc import Callable
from functools import wraps

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers

from accounts.models import StaffRole

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


def needs_totp(user) -> bool:
    """Whether this user must enrol TOTP before reaching any staff page."""
    return settings.STAFF_REQUIRE_MFA and not has_totp(user)


def forbidden(request):
    return render(request, "staff/forbidden.html", status=403)


def staff_required(permission: str | None = None) -> Callable:
    """Decorate a staff view; `permission` ("exports.export_signatories") narrows it."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            response = _check(request, permission) or view(request, *args, **kwargs)
            add_never_cache_headers(response)
            return response

        return wrapped

    return decorator


def _check(request, permission: str | None):
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if staff_role(user) is None:
        return forbidden(request)
    if needs_totp(user):
        return redirect("mfa_activate_totp")
    if permission and not user.has_perm(permission):
        return forbidden(request)
    return None
