"""The site's message builder (statements/emails.py) against Django's own: the same headers
and parts, so the shortcut can be trusted wherever an email is sent."""

import email
import email.policy

import pytest
from django.core.mail import EmailMultiAlternatives

from statements.emails import FastEmailMessage

CASES = [
    ("Please confirm your signature", "a@example.org", "Hello Ann,\nhttp://x/confirm/t/\n"),
    (
        "Подтвердите подпись «Казахстан»",
        "айгерим@пример.рф".replace("айгерим", "aigerim"),
        "Привет!\n",
    ),
    ("Tu firma ya está registrada " * 5, "b@example.org", "línea\n" + "x" * 1200 + "\n"),
]


def _parsed(message, policy) -> email.message.EmailMessage:
    raw = message.message(policy=policy).as_bytes()
    return email.message_from_bytes(raw, policy=email.policy.default), raw


@pytest.mark.parametrize("subject,to,text", CASES)
@pytest.mark.parametrize("policy", [email.policy.SMTP, email.policy.default])
def test_same_message_as_djangos(subject, to, text, policy, settings):
    settings.DEFAULT_FROM_EMAIL = "Солидарность <noreply@example.org>"
    html = "<p>" + text.replace("\n", "<br>") + "</p>"
    stock = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    stock.attach_alternative(html, "text/html")
    fast = FastEmailMessage.build(subject, text, html, to=to)
    (ours, raw), (theirs, _raw) = _parsed(fast, policy), _parsed(stock, policy)
    for header in ("Subject", "From", "To", "MIME-Version", "Content-Type"):
        assert str(ours[header]).split(";")[0] == str(theirs[header]).split(";")[0], header
    assert ours["Date"] and ours["Message-ID"] and ours["Message-ID"] != theirs["Message-ID"]
    for kind in ("plain", "html"):
        mine, stocks = ours.get_body((kind,)), theirs.get_body((kind,))
        assert mine.get_content() == stocks.get_content()
        assert mine.get_content_charset() == "utf-8"
    assert raw.isascii() or b"Content-Transfer-Encoding: 8bit" in raw
    if policy is email.policy.SMTP:
        assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


def test_anything_else_takes_djangos_path(settings):
    message = FastEmailMessage.build("Hi", "text", "<p>text</p>", to="a@example.org")
    message.attach("list.csv", "a,b\n", "text/csv")
    built = message.message(policy=email.policy.SMTP)
    assert isinstance(built, email.message.EmailMessage)
    assert [part.get_content_type() for part in built.walk()][-1] == "text/csv"
