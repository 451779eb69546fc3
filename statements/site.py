"""The site's name and contact, as emails and pages show them."""

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.utils.translation import gettext


def site_name() -> str:
    """SITE_NAME if set (a proper name, the same in every language), else the site's
    description in the active language."""
    return settings.SITE_NAME or gettext("Solidarity petition")


def sender() -> str:
    """DEFAULT_FROM_EMAIL's address under the site's name in the active language, so the
    inbox shows who wrote in the reader's language."""
    return formataddr((site_name(), parseaddr(settings.DEFAULT_FROM_EMAIL)[1]), charset="utf-8")


def email_headers() -> dict[str, str]:
    """Headers of every email the site sends: where replies go, and that a program sent it
    (RFC 3834), so auto-responders and out-of-office replies stay quiet."""
    return {"Reply-To": settings.CONTACT_EMAIL, "Auto-Submitted": "auto-generated"}
