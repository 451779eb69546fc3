"""django-allauth adapters: staff accounts are invitation-only, so public sign-up is closed,
and the second factor they must have cannot be switched off.

It also gives allauth's rate limits the site's trusted-proxy rule for the client address (the
one signing uses), audits sign-ins and every change to a staff member's credentials, and lets
a fresh password sign-in stand for the password check while enrolling a first authenticator
and reading the recovery codes that come with it.
"""

import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Min
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.services import account_event_record
from statements.http import client_ip
from statements.site import email_headers, sender, site_name


@dataclass(frozen=True)
class Site:
    """What allauth's emails say the site is ("Hello from …"): SITE_URL's host, never the
    request's Host header, which any port of an allowed host passes."""

    domain: str
    name: str


def site() -> Site:
    return Site(domain=urlsplit(settings.SITE_URL).netloc, name=str(site_name()))


def _current_request():
    return context.request


def _on_site(url: str, request) -> str:
    """An absolute URL allauth built from the request, moved to SITE_URL."""
    parts = urlsplit(url)
    if request is None or not parts.netloc or parts.netloc != request.get_host():
        return url
    return settings.SITE_URL + url[url.index(parts.netloc) + len(parts.netloc) :]


class StaffAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    # Every absolute link in allauth's emails is built from SITE_URL (password reset, email
    # verification, and any other link it puts in an email's context).
    def get_reset_password_from_key_url(self, key: str) -> str:
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return settings.SITE_URL + path.replace("UID-KEY", quote(key))

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        return settings.SITE_URL + reverse("account_confirm_email", args=[emailconfirmation.key])

    def format_email_subject(self, subject: str) -> str:
        return f"[{site_name()}] {subject}"

    def get_from_email(self) -> str:
        return sender()

    def render_mail(self, template_prefix, email, context, headers=None) -> EmailMessage:
        return super().render_mail(
            template_prefix, email, context, headers={**email_headers(), **(headers or {})}
        )

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        request = context.get("request") or _current_request()
        moved = {
            key: _on_site(value, request) if isinstance(value, str) else value
            for key, value in context.items()
        }
        super().send_mail(template_prefix, email, {**moved, "current_site": site()})

    def get_client_ip(self, request) -> str:
        # allauth's own reading of X-Forwarded-For errors out when the header has fewer
        # entries than TRUSTED_PROXY_COUNT; ours falls back to the connecting address.
        return client_ip(request)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """New staff are sent to enrol TOTP straight after signing in, and then to their
        recovery codes, where allauth would ask for the password a second time. A password
        sign-in within the reauthentication timeout already proves it, as long as every
        second factor of the account was added after that sign-in (by this session, in the
        same few minutes); a session older than that, or an account that had a factor
        before, is asked again."""
        if app == "allauth.mfa" and self._signed_in_before_every_factor():
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def _signed_in_before_every_factor(self) -> bool:
        request = context.request
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        window = account_settings.REAUTHENTICATION_TIMEOUT
        sign_ins = [
            record["at"]
            for record in get_authentication_records(request, user)
            if record.get("method") == "password" and time.time() - record["at"] < window
        ]
        if not sign_ins:
            return False
        first_factor = Authenticator.objects.filter(user=user).aggregate(Min("created_at"))
        added = first_factor["created_at__min"]
        return added is None or added.timestamp() >= max(sign_ins)

    def post_login(self, request, user, **kwargs):
        """Runs once every login stage (password, then TOTP) has passed."""
        response = super().post_login(request, user, **kwargs)
        account_event_record(user=user, action="account.login", data={"mfa": is_mfa_enabled(user)})
        return response

    def send_notification_mail(self, template_prefix, user, context=None, email=None):
        """allauth calls this for each security event on an account (password changed or
        reset, TOTP activated or removed, recovery codes generated): audit them all, whether
        or not the notification email is enabled."""
        account_event_record(user=user, action="account." + template_prefix.rsplit("/", 1)[-1])
        return super().send_notification_mail(template_prefix, user, context, email)


class StaffMFAAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": _(
            "Two-factor authentication is required for staff accounts: the authenticator "
            "app cannot be switched off."
        ),
    }

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """Staff must have TOTP (STAFF_REQUIRE_MFA), so it is never removed; a lost phone is
        replaced by signing in with a recovery code; an operator then removes the old
        authenticator, and the next sign-in enrols a new one."""
        if authenticator.type == Authenticator.Type.TOTP and settings.STAFF_REQUIRE_MFA:
            return False
        return super().can_delete_authenticator(authenticator)
