"""Normalisation of what people type, for uniqueness keys and clean storage.

The email key defends against one person signing many times with aliases that reach the same
inbox: letter case, "+tag" sub-addresses and the dots that Gmail ignores. It is used only for
uniqueness and rate limits; the address as typed is kept for sending.
"""

import contextlib
import re
import unicodedata

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


def email_key(email: str) -> str:
    """Return the key under which two addresses count as the same person.

    >>> email_key(" Jane.Doe+petition@GoogleMail.com ")
    'janedoe@gmail.com'
    """
    address = email.strip().lower()
    local, _, domain = address.rpartition("@")
    if not local:
        return address
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
