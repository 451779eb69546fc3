"""Render and send the site's emails: each is a triple of templates under templates/emails/
(<name>_subject.txt, <name>_message.txt, <name>_message.html), in the recipient's language."""

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


def send_email(name: str, *, to: str, context: dict, language: str) -> None:
    subject, text, html = render_email(name, context, language=language)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.send()
