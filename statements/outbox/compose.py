"""Turn outbox rows into messages, rendering each template once per batch and language.

The emails of one kind about one statement in one language differ only in a few values —
the recipient's name, the links carrying their tokens. So each template is rendered once for
the group with a marker in place of each such value, split at the markers, and every
recipient's message is the pieces joined with their own values (HTML-escaped in the HTML
part, as the template engine would have done). Conditions in the templates that depend on
the recipient (whether the signature is still unconfirmed) are part of the group's key.
"""

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from exports.models import SignatoryExport
from statements import selectors, tokens
from statements.emails import FastEmailMessage, render_email
from statements.models import Signature, Statement
from statements.outbox.models import Email

Kind = Email.Kind
SignatureState = Signature.State

# Per process and unguessable, so no text from the database can pose as a marker.
_NONCE = secrets.token_hex(6)
_MARKER = re.compile(f"\x1a{_NONCE}(\\w+)\x1a")


def _marker(name: str) -> str:
    return f"\x1a{_NONCE}{name}\x1a"


class _Skip(Exception):
    """The email is no longer needed (the signature was withdrawn or confirmed meanwhile)."""


@dataclass
class Draft:
    """A composed message for one outbox row, or why it is not sent."""

    email: Email
    message: FastEmailMessage | None = None
    skip_reason: str = ""


@dataclass
class _Template:
    subject: list[str]
    text: list[str]
    html: list[str]
    # The links with a place for the token, built once per group (in its language, for
    # URLs that carry one): (before, after) the token.
    confirm: tuple[str, str] = ("", "")
    withdraw: tuple[str, str] = ("", "")
    unsubscribe: tuple[str, str] = ("", "")

    def fill(self, values: dict[str, str]) -> tuple[str, str, str]:
        escaped = {name: escape(value) for name, value in values.items()}
        subject = _join(self.subject, values)
        return " ".join(subject.split()), _join(self.text, values), _join(self.html, escaped)


def _split(rendered: str) -> list[str]:
    # Even positions are text, odd positions the names of the values that go between.
    return _MARKER.split(rendered)


def _join(parts: list[str], values: dict[str, str]) -> str:
    return "".join(part if i % 2 == 0 else values[part] for i, part in enumerate(parts))


@dataclass
class _Placeholder:
    """Stands for the signature while a group's templates render: the recipient's own
    values are markers; what the group shares is real."""

    language: str
    state: str
    kind: str
    full_name: str = field(default_factory=lambda: _marker("full_name"))
    organisation_name: str = field(default_factory=lambda: _marker("organisation_name"))


def _title(statement: Statement, language: str) -> str:
    return (
        selectors.statement_title_cached(statement, language)
        or selectors.statement_title_cached(statement, statement.original_language)
        or statement.slug
    )


def _absolute(name: str, **kwargs) -> str:
    return settings.SITE_URL + reverse(name, kwargs=kwargs)


def _signature_group(email: Email) -> tuple:
    signature = email.signature
    if not signature.email or signature.state in {
        SignatureState.WITHDRAWN,
        SignatureState.FRAUDULENT,
    }:
        raise _Skip("withdrawn or fraudulent")
    if email.kind == Kind.CONFIRMATION and signature.state != SignatureState.PENDING:
        raise _Skip("already confirmed")
    if email.kind == Kind.ENDORSEMENT_PUBLISHED and signature.state != SignatureState.APPROVED:
        raise _Skip("no longer approved")
    if email.kind in _REJECTED and signature.state != SignatureState.REJECTED:
        raise _Skip("no longer rejected")
    pending = signature.state == SignatureState.PENDING
    # The state only matters to the templates as "still unconfirmed or not".
    state = SignatureState.PENDING if pending else SignatureState.CONFIRMED
    return (email.kind, email.language, signature.statement_id, state, signature.kind)


# Both kinds of rejection notice use one set of templates; the reason is shown only in the
# kind that carries it.
_REJECTED = {Kind.ENDORSEMENT_REJECTED, Kind.ENDORSEMENT_REJECTED_REASON}
_TEMPLATES = {Kind.ENDORSEMENT_REJECTED_REASON: Kind.ENDORSEMENT_REJECTED}


def _around_token(name: str) -> tuple[str, str]:
    # Letters and digits only: reverse() would quote anything else.
    placeholder = f"token{_NONCE}"
    before, found, after = _absolute(name, token=placeholder).partition(placeholder)
    assert found, "the token is part of the link"
    return before, after


def _render_signature_group(key: tuple, statement: Statement) -> _Template:
    kind, language, _statement_id, state, signature_kind = key
    slug = statement.slug
    with translation.override(language):
        context = {
            "signature": _Placeholder(language=language, state=state, kind=signature_kind),
            "statement_title": _title(statement, language),
            "statement_url": _absolute("statements:detail", slug=slug),
            "signatories_url": _absolute("statements:signatories", slug=slug),
            "token_days": settings.SIGNATURE_TOKEN_MAX_AGE.days,
            "confirm_url": _marker("confirm_url"),
            "withdraw_url": _marker("withdraw_url"),
            "reason": _marker("reason") if kind == Kind.ENDORSEMENT_REJECTED_REASON else "",
        }
        confirm, withdraw = (
            _around_token("statements:confirm"),
            _around_token("statements:withdraw"),
        )
    subject, text, html = render_email(_TEMPLATES.get(kind, kind), context, language=language)
    return _Template(_split(subject), _split(text), _split(html), confirm, withdraw)


def _signature_values(signature: Signature, template: _Template) -> dict[str, str]:
    withdraw_token = tokens.make_token(signature, tokens.WITHDRAW)
    values = {
        "full_name": signature.full_name,
        "organisation_name": signature.organisation_name,
        "withdraw_url": withdraw_token.join(template.withdraw),
        "confirm_url": "",
        "reason": signature.moderation_reason,
    }
    if signature.state == SignatureState.PENDING:
        values["confirm_url"] = tokens.make_token(signature, tokens.CONFIRM).join(template.confirm)
    return values


def _export_message(email: Email) -> FastEmailMessage:
    """Export notices go to one organiser each, a few a day: rendered one by one."""
    export = email.export
    wanted = {Kind.EXPORT_READY: SignatoryExport.State.DONE, Kind.EXPORT_FAILED: "failed"}
    if export.state != wanted[email.kind]:
        raise _Skip("export state changed")
    user = export.requested_by
    if user is None or not user.email:
        raise _Skip("no recipient")
    context = {
        "export": export,
        "statement": export.statement,
        "statement_title": _title(export.statement, email.language),
        "language": email.language,
        "export_url": _absolute("staff:export_detail", export_id=export.pk),
        "exports_url": _absolute("staff:exports"),
        "expiry_days": max(settings.EXPORT_MAX_AGE.days, 1),
    }
    subject, text, html = render_email(email.kind, context, language=email.language)
    return FastEmailMessage.build(subject, text, html, to=user.email, language=email.language)


def compose(emails: Iterable[Email]) -> list[Draft]:
    """A draft for each row, in the order given. Rows about signatures must come with
    `signature__statement` selected, rows about exports with `export__statement` and
    `export__requested_by`."""
    templates: dict[tuple, _Template] = {}
    drafts = []
    for email in emails:
        draft = Draft(email)
        try:
            if email.kind == Kind.CAMPAIGN_UPDATE:
                draft.message = _update_message(email, templates)
            elif email.signature_id is not None:
                key = _signature_group(email)
                template = templates.get(key)
                if template is None:
                    template = templates[key] = _render_signature_group(
                        key, email.signature.statement
                    )
                values = _signature_values(email.signature, template)
                subject, text, html = template.fill(values)
                draft.message = FastEmailMessage.build(
                    subject, text, html, to=email.signature.email, language=email.language
                )
            else:
                draft.message = _export_message(email)
        except _Skip as skip:
            draft.skip_reason = str(skip)
        drafts.append(draft)
    return drafts


# --- Campaign updates -------------------------------------------------------------------------

# Signatures whose owner confirmed the address and that still stand.
UPDATE_STATES = frozenset(
    {SignatureState.CONFIRMED, SignatureState.AWAITING_MODERATION, SignatureState.APPROVED}
)


def _render_update(update, language: str, statement: Statement) -> _Template:
    """An update in one language, rendered once for every signer who gets it; the one-click
    stop link (its token is each signer's own) is the only value that differs."""
    texts = {text.language: text for text in update.texts.all()}
    text = texts.get(language) or texts[update.original_language]
    with translation.override(language):
        context = {
            "language": language,
            "subject": text.subject,
            "body": text.body,
            "statement_title": _title(statement, language),
            "statement_url": _absolute("statements:detail", slug=statement.slug),
            "unsubscribe_url": _marker("unsubscribe_url"),
        }
        unsubscribe = _around_token("statements:unsubscribe")
    subject, text_part, html = render_email("campaign_update", context, language=language)
    return _Template(_split(subject), _split(text_part), _split(html), unsubscribe=unsubscribe)


def _update_message(email: Email, templates: dict) -> FastEmailMessage:
    signature = email.signature
    if not signature.email or not signature.wants_updates or signature.state not in UPDATE_STATES:
        raise _Skip("no longer wants updates")
    key = (Kind.CAMPAIGN_UPDATE, email.campaign_update_id, email.language)
    template = templates.get(key)
    if template is None:
        template = templates[key] = _render_update(
            email.campaign_update, email.language, signature.statement
        )
    url = tokens.make_token(signature, tokens.UNSUBSCRIBE).join(template.unsubscribe)
    subject, text, html = template.fill({"unsubscribe_url": url})
    message = FastEmailMessage.build(
        subject, text, html, to=signature.email, language=email.language
    )
    # RFC 8058: mail programs show an "Unsubscribe" button that POSTs to this https address.
    message.extra_headers.update(
        {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    )
    return message
