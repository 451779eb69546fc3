"""Render and build the site's emails: each is a triple of templates under templates/emails/
(<name>_subject.txt, <name>_message.txt, <name>_message.html), in the recipient's language.

Emails to signers and organisers leave through the outbox (statements/outbox/); only the
staff invitation is sent from here directly, because its link is a credential that is never
stored (see statements/staff/services.py).
"""

import email.policy
from email.charset import QP, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
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


# UTF-8 bodies sent as they are ("8bit", as Django did before 6.0), or quoted-printable when
# a line is too long for SMTP.
_UTF8_8BIT = Charset("utf-8")
_UTF8_8BIT.body_encoding = None
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP
_CRLF = email.policy.compat32.clone(linesep="\r\n")
_LF = email.policy.compat32


def _address(value: str) -> str:
    """A header address: the display name RFC 2047-encoded if need be, the domain in IDNA."""
    name, address = parseaddr(value)
    local, _at, domain = address.rpartition("@")
    if domain and not domain.isascii():
        address = f"{local}@{domain.encode('idna').decode('ascii')}"
    return formataddr((name, address), charset="utf-8")


def _text_part(content: str, subtype: str) -> MIMEText:
    if not content.endswith("\n"):
        content += "\n"  # as the email package's set_content() does
    longest = max((len(line.encode()) for line in content.splitlines()), default=0)
    return MIMEText(content, subtype, _UTF8_8BIT if longest < 990 else _UTF8_QP)


class FastEmailMessage(EmailMultiAlternatives):
    """A text email with one HTML alternative, built with the standard library's MIME classes.

    Django 6 builds messages with the email package's modern API, which parses and refolds
    every header of every message: 1.2 ms an email here, most of what a sender spends on
    one, against 0.3 ms for the same message built this way (tests/bench: emails). Anything
    but the plain shape this site sends (attachments, Cc, extra headers) takes the stock
    path; tests/test_emails.py compares both, header by header and part by part.
    """

    def message(self, *, policy=email.policy.default):
        plain = (
            len(self.alternatives) == 1
            and self.alternatives[0].mimetype == "text/html"
            and not (self.attachments or self.cc or self.reply_to or self.extra_headers)
        )
        if not plain or policy not in (email.policy.SMTP, email.policy.default):
            return super().message(policy=policy)
        message = MIMEMultipart("alternative", policy=_CRLF if policy.linesep == "\r\n" else _LF)
        message.attach(_text_part(self.body, "plain"))
        message.attach(_text_part(self.alternatives[0].content, "html"))
        subject = str(self.subject)
        message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")
        message["From"] = _address(self.from_email)
        message["To"] = ", ".join(_address(address) for address in self.to)
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=DNS_NAME)
        return message

    @classmethod
    def build(cls, subject: str, text: str, html: str, *, to: str) -> "FastEmailMessage":
        message = cls(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
        message.attach_alternative(html, "text/html")
        return message


def send_email(name: str, *, to: str, context: dict, language: str) -> None:
    """Render and send one email at once, on a connection of its own."""
    FastEmailMessage.build(*render_email(name, context, language=language), to=to).send()
