"""Staff accounts for tests: real users, real groups, real TOTP authenticators."""

import time

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.contrib.auth import get_user_model

from accounts.roles import assign_role

PASSWORD = "correct horse battery staple 42"


def totp_code(secret: str, *, at: float | None = None) -> str:
    """The code an authenticator app shows now for `secret` (allauth's own algorithm)."""
    return format_hotp_value(hotp_value(secret, int(at or time.time()) // 30))


def make_user(email: str, *, role: str | None = None, totp: bool = True):
    """A user with a verified address, `role` (or none) and, unless told, enrolled TOTP.
    The TOTP secret is kept on the returned object as `totp_secret`."""
    user = get_user_model().objects.create_user(email, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if role:
        assign_role(user, role)
    user.totp_secret = None
    if totp:
        user.totp_secret = generate_totp_secret()
        TOTP.activate(user, user.totp_secret)
    return user
