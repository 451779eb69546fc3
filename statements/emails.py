"""Render and send the site's emails: each is a triple of templates under templates/emails/
(<name>_subject.txt, <name>_message.txt, <name>_message.html), in the recipient's language."""

import contextlib
import email.policy
import functools
import smtplib
import threading
import time
from email.headerregistry import HeaderRegistry

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends import smtp
from django.template.loader import render_to_string
from django.utils import translation

from statements.site import email_headers, sender

# A connection idle longer than this is reopened before use rather than trusted: mail servers
# drop idle clients after a while (often a minute or more).
MAILER_IDLE_SECONDS = 30


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
    with translation.override(language):
        from_email = sender()
    message = EmailMultiAlternatives(subject, text, from_email, [to], headers=email_headers())
    message.attach_alternative(html, "text/html")
    _send(message)


class PermanentDeliveryError(Exception):
    """The mail server refused the message for good: retrying cannot help."""


def deliver(name: str, *, to: str, context: dict, language: str) -> None:
    """send_email, with the mail server's refusals sorted for the tasks that call it.

    A permanent refusal (5xx) raises PermanentDeliveryError, for the caller to record; a
    transient one (4xx) is raised as it is, an OSError, for Celery to retry with backoff.
    """
    try:
        send_email(name, to=to, context=context, language=language)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _message in exc.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            raise
        raise PermanentDeliveryError(f"recipient refused ({', '.join(map(str, codes))})") from exc
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise
        raise PermanentDeliveryError(f"refused by the mail server ({exc.smtp_code})") from exc


class _Mailer:
    """The default mailer of this process, with its connection kept open between emails.

    A Celery worker process sends one email per task; opening an SMTP connection for each
    (TCP handshake, greeting, EHLO, perhaps STARTTLS and AUTH, then QUIT) costs the worker and
    the mail server more than the email. So the connection stays open, is reopened when it has
    been idle for MAILER_IDLE_SECONDS, and is dropped after any error: the task's retry then
    starts on a fresh one, and nothing is resent here.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.config = None
        self.backend = None
        self.used = 0.0

    def _close(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            with contextlib.suppress(Exception):  # a broken connection is dropped either way
                backend.close()

    def send(self, message) -> None:
        with self.lock:
            config = settings.MAILERS.get("default")
            if config != self.config or time.monotonic() - self.used > MAILER_IDLE_SECONDS:
                self._close()
                self.config = config
            if self.backend is None:
                self.backend = mailers.default
                self.backend.open()
            try:
                self.backend.send_messages([message])
            except BaseException:
                self._close()
                raise
            self.used = time.monotonic()


_send = _Mailer().send


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, remembering the class it makes for each header name:
    the stock one builds a new class for every header of every message, which is most of
    the cost of building an email."""

    @functools.lru_cache(maxsize=256)  # noqa: B019 - one registry for the process's life
    def __getitem__(self, name):
        return super().__getitem__(name)


SMTP_POLICY = email.policy.SMTP.clone(header_factory=_HeaderClasses())


class SMTPBackend(smtp.EmailBackend):
    """Django's SMTP backend, building each message with SMTP_POLICY (the same policy, the
    same headers and bytes, without a new class per header)."""

    def _send(self, email_message):
        if not email_message.recipients():
            return False
        from_email = self.prep_address(email_message.from_email)
        recipients = [self.prep_address(address) for address in email_message.recipients()]
        message = email_message.message(policy=SMTP_POLICY)
        try:
            self.connection.sendmail(from_email, recipients, message.as_bytes())
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True
