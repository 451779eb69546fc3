"""The site's message builder (statements/emails.py) against Django's own: the same headers
and parts, so the shortcut can be trusted wherever an email is sent."""

import email
import email.policy

import hypothesis
import pytest
from django.core.mail import EmailMultiAlternatives

from statements.emails import FastEmailMessage
from statements.site import email_headers

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
    settings.SITE_NAME = "Солидарность"
    settings.DEFAULT_FROM_EMAIL = "noreply@example.org"
    settings.CONTACT_EMAIL = "contact@example.org"
    html = "<p>" + text.replace("\n", "<br>") + "</p>"
    stock = EmailMultiAlternatives(
        subject, text, "Солидарность <noreply@example.org>", [to], headers=email_headers()
    )
    stock.attach_alternative(html, "text/html")
    fast = FastEmailMessage.build(subject, text, html, to=to, language="ru")
    (ours, raw), (theirs, _raw) = _parsed(fast, policy), _parsed(stock, policy)
    headers = ("Subject", "From", "To", "MIME-Version", "Content-Type", "Reply-To")
    for header in headers:
        assert str(ours[header]).split(";")[0] == str(theirs[header]).split(";")[0], header
    assert ours["Auto-Submitted"] == theirs["Auto-Submitted"] == "auto-generated"
    assert ours["Date"] and ours["Message-ID"] and ours["Message-ID"] != theirs["Message-ID"]
    for kind in ("plain", "html"):
        mine, stocks = ours.get_body((kind,)), theirs.get_body((kind,))
        assert mine.get_content() == stocks.get_content()
        assert mine.get_content_charset() == "utf-8"
    assert raw.isascii() or b"Content-Transfer-Encoding: 8bit" in raw
    if policy is email.policy.SMTP:
        assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


def test_anything_else_takes_djangos_path(settings):
    message = FastEmailMessage.build("Hi", "text", "<p>text</p>", to="a@example.org", language="en")
    message.attach("list.csv", "a,b\n", "text/csv")
    built = message.message(policy=email.policy.SMTP)
    assert isinstance(built, email.message.EmailMessage)
    assert [part.get_content_type() for part in built.walk()][-1] == "text/csv"


ADDRESSES = [
    "a@example.org",
    "Jane.Doe+petition@GoogleMail.com",
    "o'brien@example.ie",
    "x@sub-domain.example.co.uk",
    "Ann <ann@example.org>",
    "aigerim@пример.рф",
    '"quoted"@example.org',
    "a..b@example.org",
    ".a@example.org",
    "a@-example.org",
    "a@example.org (comment)",
    "a@[127.0.0.1]",
    "a@example.org\nBcc: b@example.org",
    "nobody",
]


@pytest.fixture
def smtp_backend(settings):
    """Django's SMTP backend (never connected)."""
    from django.core.mail import mailers

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1},
        }
    }
    return mailers.default


def _compare(backend, address):
    """envelope_address(), the shortcut, against Django's prep_address()."""
    from statements.emails import envelope_address

    try:
        expected = backend.prep_address(address)
    except ValueError:
        with pytest.raises(ValueError):
            envelope_address(backend, address)
        return
    assert envelope_address(backend, address) == expected


@pytest.mark.parametrize("address", ADDRESSES)
def test_envelope_addresses_are_djangos(smtp_backend, address):
    _compare(smtp_backend, address)


@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(
    local=hypothesis.strategies.from_regex(
        r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,20}", fullmatch=True
    ),
    domain=hypothesis.strategies.from_regex(r"[A-Za-z0-9.-]{1,20}", fullmatch=True),
)
def test_envelope_addresses_are_djangos_for_any_ascii_address(smtp_backend, local, domain):
    _compare(smtp_backend, f"{local}@{domain}")


@hypothesis.given(
    name=hypothesis.strategies.sampled_from(["Subject", "To", "Message-ID", "Content-Type"]),
    value=hypothesis.strategies.one_of(
        hypothesis.strategies.text(max_size=120),
        hypothesis.strategies.text(
            hypothesis.strategies.sampled_from(" \t;:=\"'<>@.-_aZ09é\r\n\x85\u2028"), max_size=90
        ),
        hypothesis.strategies.from_regex(r"[ -~]{0,90}", fullmatch=True),
    ),
)
@pytest.mark.parametrize("linesep", ["\r\n", "\n"])
def test_headers_are_folded_as_by_compat32(linesep, name, value):
    """The policy's shortcuts (a short ASCII line as it is, non-ASCII text encoded once)
    write what compat32 writes."""
    from statements.emails import _Compat32

    stock = email.policy.compat32.clone(linesep=linesep)
    ours = _Compat32(linesep=linesep)
    try:
        expected = stock.fold_binary(name, value)
    except Exception as exc:
        with pytest.raises(type(exc)):
            ours.fold_binary(name, value)
        return
    assert ours.fold_binary(name, value) == expected
    assert ours.fold_binary(name, value) == expected  # the second time from the cache


@pytest.mark.parametrize("address", [*ADDRESSES, "Солидарность <noreply@example.org>"])
def test_header_addresses_are_encoded_as_by_the_parser(address):
    from statements.emails import _address, _encoded_address

    assert _address(address) == _encoded_address.__wrapped__(address)


@hypothesis.given(
    local=hypothesis.strategies.from_regex(
        r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,20}", fullmatch=True
    ),
    domain=hypothesis.strategies.from_regex(r"[A-Za-z0-9.-]{1,20}", fullmatch=True),
)
def test_header_addresses_are_encoded_as_by_the_parser_for_any_ascii_address(local, domain):
    from statements.emails import _address, _encoded_address

    address = f"{local}@{domain}"
    assert _address(address) == _encoded_address.__wrapped__(address)


@pytest.fixture
def fixed_headers(monkeypatch):
    """The boundary, Date and Message-ID the same for every message built."""
    import secrets

    from statements import emails

    monkeypatch.setattr(secrets, "token_hex", lambda n: "ab" * n)
    monkeypatch.setattr(emails, "formatdate", lambda usegmt: "Tue, 01 Dec 2026 06:00:00 GMT")
    monkeypatch.setattr(emails, "make_msgid", lambda domain: f"<1.2.3@{domain}>")


@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(
    subject=hypothesis.strategies.text(max_size=100),
    to=hypothesis.strategies.sampled_from(ADDRESSES[:7]),
    text=hypothesis.strategies.one_of(
        hypothesis.strategies.text(max_size=300),
        hypothesis.strategies.text(
            hypothesis.strategies.sampled_from("ab é\r\n\x85\u2028-=."), max_size=1200
        ),
    ),
    html=hypothesis.strategies.text(max_size=300),
)
def test_smtp_bytes_are_the_email_packages(fixed_headers, subject, to, text, html):
    """What send_on() puts on the wire, written directly: the bytes of
    message(policy=SMTP).as_bytes(), whatever the text."""
    message = FastEmailMessage.build(subject, text, html, to=to, language="en")
    message.extra_headers["Reply-To"] = "Солидарность <contact@example.org>"
    assert message.smtp_bytes() == message.message(policy=email.policy.SMTP).as_bytes()


@pytest.mark.parametrize("subject,to,text", CASES)
def test_smtp_bytes_of_the_cases_are_the_email_packages(fixed_headers, subject, to, text):
    message = FastEmailMessage.build(subject, text, f"<p>{text}</p>", to=to, language="ru")
    assert message.smtp_bytes() == message.message(policy=email.policy.SMTP).as_bytes()
