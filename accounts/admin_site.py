"""The Django admin behind the same door as the staff area.

Its login form would bypass allauth (no rate limits, no TOTP step), so the login is routed
through allauth; and an admin page is a staff page, so it needs a staff role and, where
required, an enrolled second factor.
"""

from allauth.account.decorators import secure_admin_login
from django.contrib.admin import AdminSite
from django.shortcuts import redirect

from accounts.access import needs_totp, staff_role


def secure_admin(site: AdminSite) -> AdminSite:
    allowed = site.has_permission
    login = site.login

    def has_permission(request) -> bool:
        user = request.user
        return allowed(request) and staff_role(user) is not None and not needs_totp(user)

    def login_or_enrol(request, extra_context=None):
        user = request.user
        if user.is_authenticated and user.is_staff and needs_totp(user):
            return redirect("mfa_activate_totp")
        return login(request, extra_context)

    site.has_permission = has_permission
    site.login = secure_admin_login(login_or_enrol)
    return site
