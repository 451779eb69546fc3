"""Render and build the site's emails: each is a triple of templates under templates/emails/
(<name>_subject.txt, <name>_message.txt, <name>_message.html), in the recipient's language.

Emails to signers and organisers leave through the outbox (statements/outbox/); only the
staff invitation is sent from here directly, because its link is a credential that is never
stored (see statements/staff/services.py).
"""

import email.policy
import functools
import re
import secrets
import smtplib
from email.charset import QP, Charset
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.utils import translation

from statements.site import email_headers, sender


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


class _Compat32(email.policy.Compat32):
    """The compat32 policy, writing a header that needs no folding or encoding as it is,
    and encoding a header with non-ASCII text (the subject in most languages, the same in
    every email of a batch) once per process.

    The stock fold_binary() runs every header through email.header.Header, which takes
    longer than everything else the generator does for a message: 15 headers an email, most
    of them short ASCII lines that come out unchanged. tests/test_emails.py compares both.
    """

    def fold_binary(self, name, value):
        if not isinstance(value, str):
            return super().fold_binary(name, value)
        if not value.isascii():
            return _fold_binary(self, name, value)
        if (
            value.isprintable()  # no line breaks, no control characters
            and value == value.strip()  # Header would drop a trailing space
            and len(name) + 2 + len(value) <= (self.max_line_length or 0)
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


@functools.lru_cache(maxsize=256)
def _fold_binary(policy: email.policy.Compat32, name: str, value: str) -> bytes:
    return email.policy.Compat32.fold_binary(policy, name, value)


_CRLF = _Compat32(linesep="\r\n")
_LF = _Compat32()


def _address(value: str) -> str:
    """A header address: the display name RFC 2047-encoded if need be, the domain in IDNA.
    A plain ASCII addr-spec is all of that already."""
    if _PLAIN_ADDRESS.match(value):
        return value
    return _encoded_address(value)


@functools.lru_cache(maxsize=64)  # the sender's address, the same in every email
def _encoded_address(value: str) -> str:
    name, address = parseaddr(value)
    local, _at, domain = address.rpartition("@")
    if domain and not domain.isascii():
        address = f"{local}@{domain.encode('idna').decode('ascii')}"
    return formataddr((name, address), charset="utf-8")


def _text_part(content: str, subtype: str) -> MIMEText:
    if not content.endswith("\n"):
        content += "\n"  # as the email package's set_content() does
    # In bytes, between the line breaks SMTP knows.
    longest = max(map(len, content.encode().splitlines()), default=0)
    return MIMEText(content, subtype, _UTF8_8BIT if longest < 990 else _UTF8_QP)


def _boundary() -> str:
    # Chosen here, not by the generator: it would compile a regular expression per message
    # to prove its own boundary absent from the parts, where 128 random bits (unknown to
    # anyone writing a name into the form) cannot meet the text.
    return "=_" + secrets.token_hex(16)


def _smtp_text(content: str) -> tuple[bytes, bytes] | None:
    """A text part's transfer encoding and body on the wire (UTF-8, CRLF line ends, as
    _text_part() and the generator make them), or None if it needs quoted-printable."""
    if not content.endswith("\n"):
        content += "\n"
    body = content.encode()
    if max(map(len, body.splitlines()), default=0) >= 990:
        return None
    body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    return (b"7bit" if body.isascii() else b"8bit"), body


class FastEmailMessage(EmailMultiAlternatives):
    """A text email with one HTML alternative, built with the standard library's MIME classes.

    Django 6 builds messages with the email package's modern API, which parses and refolds
    every header of every message: 1.2 ms an email here, most of what a sender spends on
    one, against 0.3 ms for the same message built this way (tests/bench: emails), and
    0.06 ms for its bytes written by smtp_bytes(), which is what the outbox sends. Anything
    but the plain shape this site sends (attachments, Cc, extra headers) takes the stock
    path; tests/test_emails.py compares both, header by header and part by part.
    """

    def _plain(self) -> bool:
        # The headers every email of the site carries (statements/site.py) are part of the
        # plain shape; any other extra header takes the stock path.
        return (
            len(self.alternatives) == 1
            and self.alternatives[0].mimetype == "text/html"
            and not (self.attachments or self.cc or self.reply_to)
            and set(self.extra_headers) <= STANDARD_HEADERS
        )

    def _headers(self) -> list[tuple[str, str]]:
        headers = [
            ("Subject", str(self.subject)),  # RFC 2047-encoded by the policy if need be
            ("From", _address(self.from_email)),
            ("To", ", ".join(_address(address) for address in self.to)),
            ("Date", formatdate(usegmt=True)),
            ("Message-ID", make_msgid(domain=DNS_NAME)),
        ]
        for name, value in self.extra_headers.items():
            headers.append((name, _address(value) if name == "Reply-To" else value))
        return headers

    def message(self, *, policy=email.policy.default):
        if not self._plain() or policy not in (email.policy.SMTP, email.policy.default):
            return super().message(policy=policy)
        message = MIMEMultipart(
            "alternative",
            boundary=_boundary(),
            policy=_CRLF if policy.linesep == "\r\n" else _LF,
        )
        message.attach(_text_part(self.body, "plain"))
        message.attach(_text_part(self.alternatives[0].content, "html"))
        for name, value in self._headers():
            message[name] = value
        return message

    def smtp_bytes(self) -> bytes:
        """`message(policy=SMTP).as_bytes()`, written here for the plain shape with both
        parts 8-bit (or 7-bit) text: the email package's generator writes a message line by
        line, header by header, in more time than building it takes. A part that needs
        quoted-printable takes the email package's path; tests/test_emails.py compares both,
        byte for byte."""
        parts = [_smtp_text(self.body), _smtp_text(self.alternatives[0].content)]
        if not self._plain() or None in parts:
            return self.message(policy=email.policy.SMTP).as_bytes()
        boundary = _boundary().encode("ascii")
        fold = _CRLF.fold_binary
        written = [
            b'Content-Type: multipart/alternative;\r\n boundary="%s"\r\n' % boundary,
            b"MIME-Version: 1.0\r\n",
            *(fold(name, value) for name, value in self._headers()),
            b"\r\n",
        ]
        for subtype, (encoding, body) in zip((b"plain", b"html"), parts, strict=True):
            written.append(
                b'--%s\r\nContent-Type: text/%s; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
                b"Content-Transfer-Encoding: %s\r\n\r\n%s\r\n" % (boundary, subtype, encoding, body)
            )
        written.append(b"--%s--\r\n" % boundary)
        return b"".join(written)

    @classmethod
    def build(
        cls, subject: str, text: str, html: str, *, to: str, language: str
    ) -> "FastEmailMessage":
        """The message from the site's name in `language` (the email's), with the headers
        every email of the site carries."""
        message = cls(subject, text, _sender(language), [to], headers=email_headers())
        message.attach_alternative(html, "text/html")
        return message


STANDARD_HEADERS = frozenset({"Reply-To", "Auto-Submitted"})


def _sender(language: str) -> str:
    # Once per language and configuration, not per message: a batch sends hundreds.
    key = (language, settings.SITE_NAME, settings.DEFAULT_FROM_EMAIL)
    found = _senders.get(key)
    if found is None:
        with translation.override(language):
            found = _senders[key] = sender()
    return found


_senders: dict[tuple, str] = {}


# A plain ASCII addr-spec (dot-atoms on both sides, no display name, no comment): Django's
# SMTP backend parses it with the email package's header parser only to find it unchanged.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\Z"
)


def envelope_address(backend, address: str) -> str:
    """`backend.prep_address(address)` (Django's SMTP backend), without parsing an address
    that is a plain ASCII addr-spec: the parser returns it as it is, at 0.3 ms an address.
    Anything else takes Django's path. tests/test_emails.py compares both."""
    if _PLAIN_ADDRESS.match(address):
        return address
    return backend.prep_address(address)


def send_on(backend, message: EmailMultiAlternatives, envelope_from: str) -> None:
    """Send one message over an open connection of Django's SMTP backend, as its
    `send_messages([message])` does (the same bytes, the same exceptions), with the sender's
    address prepared once per batch by the caller and the recipients' by
    `envelope_address`."""
    recipients = [envelope_address(backend, address) for address in message.recipients()]
    if not recipients:
        return
    if isinstance(message, FastEmailMessage):
        raw = message.smtp_bytes()
    else:
        raw = message.message(policy=email.policy.SMTP).as_bytes()
    connection: smtplib.SMTP = backend.connection
    connection.sendmail(envelope_from, recipients, raw)


def send_email(name: str, *, to: str, context: dict, language: str) -> None:
    """Render and send one email at once, on a connection of its own."""
    subject, text, html = render_email(name, context, language=language)
    FastEmailMessage.build(subject, text, html, to=to, language=language).send()
