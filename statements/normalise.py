"""Normalisation of what people type, for uniqueness keys and clean storage.

The email key defends against one person signing many times with aliases that reach the same
inbox: letter case, "+tag" sub-addresses, the dots that Gmail ignores, and the quoting that
RFC 5322 allows ("bob"@x and "b\\ob"@x are bob@x). Addresses are read with the standard
library's parser; the sign forms refuse quoted local parts and domain literals outright
(`address_problem`), and the key unquotes them anyway. It is used only for uniqueness and rate
limits; the address as typed is kept for sending.
"""

import contextlib
import ipaddress
import re
import unicodedata
from email.errors import MessageError
from email.headerregistry import Address

# Providers whose mailboxes ignore dots in the local part, and their alias domains.
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
# Yandex serves one mailbox under many domains, and treats "." and "-" in logins alike.
_YANDEX_DOMAINS = {
    "yandex.ru",
    "yandex.com",
    "yandex.kz",
    "yandex.by",
    "yandex.ua",
    "ya.ru",
    "narod.ru",
}

# Bidirectional overrides and isolates can make a name display as something else.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SPACES = re.compile(r"\s+")


QUOTED = "quoted"
LITERAL = "literal"


def _parts(address: str) -> tuple[str, str] | None:
    """(local part unquoted, domain) as the standard library reads an addr-spec."""
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, MessageError, IndexError):  # its parser's refusals
        return None
    return parsed.username, parsed.domain


def address_problem(email: str) -> str | None:
    """QUOTED or LITERAL for the forms RFC 5322 allows but the site refuses: a quoted local
    part ("bob"@x, "b\\ob"@x) and a domain literal (x@[127.0.0.1]). Each reaches a mailbox
    another spelling reaches too, so they serve only to sign again."""
    local, _, domain = email.strip().rpartition("@")
    if '"' in local or "\\" in local:
        return QUOTED
    if domain.startswith("["):
        return LITERAL
    return None


def _literal(domain: str) -> str:
    inner = domain[1:-1]
    if inner.lower().startswith("ipv6:"):
        inner = inner[5:]
    with contextlib.suppress(ValueError):
        return f"[{ipaddress.ip_address(inner)}]"
    return domain


def email_key(email: str) -> str:
    """Return the key under which two addresses count as the same person.

    >>> email_key(" Jane.Doe+petition@GoogleMail.com ")
    'janedoe@gmail.com'
    >>> email_key('"jane.doe"@example.org')
    'jane.doe@example.org'
    """
    address = email.strip()
    parts = _parts(address)
    if parts is None:
        local, _, domain = address.rpartition("@")
    else:
        local, domain = parts
    local, domain = local.lower(), domain.lower()
    if not local:
        return address.lower()
    if domain.startswith("[") and domain.endswith("]"):
        domain = _literal(domain)
    else:
        with contextlib.suppress(UnicodeError):
            domain = domain.encode("idna").decode("ascii")
    local = local.split("+", 1)[0]
    if domain in _DOTLESS_DOMAINS:
        domain = _DOTLESS_DOMAINS[domain]
        local = local.replace(".", "")
    elif domain in _YANDEX_DOMAINS:
        domain = "yandex.ru"
        local = local.replace(".", "-")
    return f"{local}@{domain}"


def has_forbidden_characters(value: str, *, multiline: bool = False) -> bool:
    """Control characters (and bidi overrides) are refused; every script is welcome."""
    allowed = {"\n", "\r", "\t"} if multiline else set()
    for char in value:
        if char in allowed:
            continue
        if char in _BIDI_CONTROLS or unicodedata.category(char) in {"Cc", "Cs", "Co"}:
            return True
    return False


def clean_text(value: str, *, multiline: bool = False) -> str:
    """NFC-normalise, trim, and fold runs of spaces (line breaks kept when multiline)."""
    value = unicodedata.normalize("NFC", value)
    if multiline:
        lines = [_SPACES.sub(" ", line).strip() for line in value.replace("\r\n", "\n").split("\n")]
        return "\n".join(lines).strip()
    return _SPACES.sub(" ", value).strip()


def name_key(name: str) -> str:
    """Key for "the same organisation": case, accents' composition, punctuation and spacing."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    # Separators become spaces; other punctuation ("S.A.", quotes) disappears.
    kept = "".join(
        ch if ch.isalnum() else " " if ch.isspace() or ch in "-–—/_" else "" for ch in folded
    )
    return _SPACES.sub(" ", kept).strip()


def search_text(value: str, *, limit: int = 100) -> str:
    """A search box's text, safe to put in a query: control characters (NUL, which
    PostgreSQL refuses in text, among them) dropped, spaces folded, length capped."""
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in value
        if ch.isspace() or unicodedata.category(ch) not in {"Cc", "Cs", "Co"}
    )
    return clean_text(kept)[:limit]
