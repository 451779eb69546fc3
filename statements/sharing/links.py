"""Links that share the statement, built on the server: plain addresses of each network's own
share page, so no script of theirs runs on ours and nobody is tracked for reading it."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class ShareLink:
    network: str  # a stable key, for styling and tests
    label: str
    href: str


def share_links(*, url: str, text: str, subject: str) -> list[ShareLink]:
    """`url` is the page to share (absolute, from SITE_URL), `text` the message that goes
    with it, `subject` an email's subject line."""
    with_url = f"{text} {url}"
    return [
        ShareLink(
            "telegram",
            "Telegram",
            "https://t.me/share/url?" + urlencode({"url": url, "text": text}),
        ),
        ShareLink("whatsapp", "WhatsApp", "https://wa.me/?" + urlencode({"text": with_url})),
        ShareLink("vk", "VK", "https://vk.com/share.php?" + urlencode({"url": url, "title": text})),
        ShareLink("x", "X", "https://x.com/intent/post?" + urlencode({"url": url, "text": text})),
        ShareLink(
            "facebook",
            "Facebook",
            "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}),
        ),
        # mailto: wants %20 for spaces (RFC 6068), not the "+" of form encoding.
        ShareLink(
            "email",
            _("Email"),
            "mailto:?" + urlencode({"subject": subject, "body": with_url}, quote_via=_quote),
        ),
    ]


def _quote(value, safe="", encoding=None, errors=None):
    from urllib.parse import quote

    return quote(value, safe="", encoding=encoding, errors=errors)
