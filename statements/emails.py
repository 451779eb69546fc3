"""Render and build the site's emails: each is a triple of templates under templates/emails/
(<name>_subject.txt, <name>_message.txt, <name>_message.html), in the recipient's language.

Emails to signers and organisers leave through the outbox (statements/outbox/); only the
staff invitation is sent from here directly, because its link is a credential that is never
stored (see statements/staff/services.py).
"""

import email.policy
import functools
from email.headerregistry import HeaderRegistry

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def render_email(name: str, context: dict, *, language: str) -> tuple[str, str, str]:
    with translation.override(language):
        subject = render_to_string(f"emails/{name}_subject.txt", context)
        text = render_to_string(f"emails/{name}_message.txt", context)
        html = render_to_string(f"emails/{name}_message.html", context)
    # A subject is one line: whatever the context holds, no header can be injected through it.
    subject = " ".join(subject.split())
    return subject, text, html


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, remembering the class it makes for each header name:
    the stock one builds a new class for every header of every message, which is most of
    the cost of building an email."""

    @functools.lru_cache(maxsize=256)  # noqa: B019 - one registry for the process's life
    def __getitem__(self, name):
        return super().__getitem__(name)


_HEADERS = _HeaderClasses()
# The same policies, the same headers and bytes, without a new class per header.
_FAST_POLICIES = {
    email.policy.SMTP: email.policy.SMTP.clone(header_factory=_HEADERS),
    email.policy.default: email.policy.default.clone(header_factory=_HEADERS),
}


class FastEmailMessage(EmailMultiAlternatives):
    """A text email with an HTML alternative, built with the policies above."""

    def message(self, *, policy=email.policy.default):
        return super().message(policy=_FAST_POLICIES.get(policy, policy))

    @classmethod
    def build(cls, subject: str, text: str, html: str, *, to: str) -> "FastEmailMessage":
        message = cls(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
        message.attach_alternative(html, "text/html")
        return message


def send_email(name: str, *, to: str, context: dict, language: str) -> None:
    """Render and send one email at once, on a connection of its own."""
    FastEmailMessage.build(*render_email(name, context, language=language), to=to).send()
