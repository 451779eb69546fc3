"""Audit events told as sentences, in the staff member's language.

The log stores stable codes (`signature.approve`, `account.totp_activated`) and a little data;
people read "moderator@example.org approved “Almaty Teachers' Union”: Awaiting moderation →
Approved." This module holds the one wording of each code, for the audit log, a signature's
history and the filter of the log. A code without a wording (one added later) still reads as
a sentence, its data as "name: value" pairs.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import StaffRole
from statements.models import AuditEvent, Signature

# What each code is called in the log's filter, in the order shown there.
ACTION_NAMES = {
    "signature.approve": gettext_lazy("Approvals"),
    "signature.reject": gettext_lazy("Rejections"),
    "signature.fraud": gettext_lazy("Marked as fraudulent"),
    "email.endorsement_published": gettext_lazy("Publication notices sent"),
    "invalidation": gettext_lazy("Invalidation"),
    "statement.": gettext_lazy("Signing opened or closed"),
    "staff.": gettext_lazy("Staff and invitations"),
    "account.": gettext_lazy("Sign-ins and account security"),
    "export_": gettext_lazy("Signatory lists"),
    "paper_import.": gettext_lazy("Paper signatures"),
}

# allauth's security notices, audited by the adapter as "account.<notice>".
_ACCOUNT = {
    "password_changed": gettext_lazy("%(actor)s changed their password."),
    "password_set": gettext_lazy("%(actor)s set their password."),
    "password_reset": gettext_lazy("%(actor)s set a new password through an emailed link."),
    "email_changed": gettext_lazy("%(actor)s changed their email address."),
    "email_confirm": gettext_lazy("%(actor)s confirmed their email address."),
    "email_deleted": gettext_lazy("%(actor)s removed an email address."),
    "totp_activated": gettext_lazy("%(actor)s set up an authenticator app."),
    "totp_deactivated": gettext_lazy("%(actor)s removed their authenticator app."),
    "recovery_codes_generated": gettext_lazy("%(actor)s made new recovery codes."),
    "webauthn_added": gettext_lazy("%(actor)s added a security key."),
    "webauthn_removed": gettext_lazy("%(actor)s removed a security key."),
}


def _state(code: str) -> str:
    try:
        return str(Signature.State(code).label)
    except ValueError:
        return code


def _role(code: str) -> str:
    try:
        return str(StaffRole(code).label)
    except ValueError:
        return code


def _format(code: str) -> str:
    # An export's format is named by its code in capitals (CSV, XLSX, JSON, PDF), as the
    # exports app labels them; this app does not read the exports app.
    return code.upper()


def _details(data: dict) -> str:
    return "; ".join(f"{key}: {value}" for key, value in data.items())


def describe(event: AuditEvent, *, titles: dict | None = None, in_history: bool = False) -> str:
    """One sentence for `event`. `in_history` words it for the page of its own signature
    ("approved this signature"); `titles` names statements by title, found by primary key
    or by slug (selectors.statement_titles)."""
    titles = titles or {}
    data = event.data or {}
    actor = event.actor.email if event.actor_id and event.actor else _("The system")
    if in_history or event.signature_id is None:
        signature = _("this signature")
    else:
        signature = _("“%(name)s”") % {"name": event.signature.display_name}
    values = {
        "actor": actor,
        "signature": signature,
        "from": _state(event.from_state),
        "to": _state(event.to_state),
        "reason": event.reason,
    }
    action = event.action
    if action in {"signature.approve", "signature.reject", "signature.fraud"}:
        verb = {
            "signature.approve": _("%(actor)s approved %(signature)s: %(from)s → %(to)s."),
            "signature.reject": _("%(actor)s rejected %(signature)s: %(from)s → %(to)s."),
            "signature.fraud": _(
                "%(actor)s marked %(signature)s as fraudulent: %(from)s → %(to)s."
            ),
        }[action]
        sentence = verb % values
        if data.get("bulk"):
            sentence += " " + _("(Several at once, from the queue.)")
    elif action == "email.endorsement_published":
        sentence = _("The organisation was emailed that %(signature)s is published.") % values
    elif action == "invalidation":
        sentence = _(
            "Invalidation run #%(run)s marked %(signature)s as fraudulent: %(from)s → %(to)s."
        ) % {**values, "run": data.get("run", "?")}
        return sentence
    elif action == "invalidation.restore":
        sentence = _(
            "Undoing invalidation run #%(run)s restored %(signature)s: %(from)s → %(to)s."
        ) % {**values, "run": data.get("run", "?")}
        return sentence
    elif action.startswith("invalidation."):
        sentence = _invalidation(action.partition(".")[2], data, actor)
    elif action in {"statement.signing_opened", "statement.signing_closed"}:
        statement = titles.get(data.get("statement"), data.get("slug", ""))
        if action == "statement.signing_opened":
            sentence = _("%(actor)s opened signing for “%(statement)s”.")
        else:
            sentence = _("%(actor)s closed signing for “%(statement)s”.")
        sentence %= {"actor": actor, "statement": statement}
    elif action.startswith("staff."):
        sentence = _staff(action.partition(".")[2], data, actor)
    elif action == "account.login":
        if data.get("mfa"):
            sentence = _("%(actor)s signed in with a password and an authenticator code.")
        else:
            sentence = _("%(actor)s signed in with a password.")
        sentence %= {"actor": actor}
    elif action.startswith("account.") and action.partition(".")[2] in _ACCOUNT:
        sentence = _ACCOUNT[action.partition(".")[2]] % {"actor": actor}
    elif action in {"paper_import.imported", "paper_import.undone"}:
        values = {
            "actor": actor,
            "file": data.get("file", ""),
            "statement": _statement(data, titles),
            "imported": data.get("imported", "?"),
            "duplicates": data.get("duplicates", "?"),
            "deleted": data.get("deleted", "?"),
        }
        if action == "paper_import.imported":
            sentence = _(
                "%(actor)s imported %(imported)s paper signatures for “%(statement)s” from "
                "%(file)s (%(duplicates)s duplicates skipped)."
            )
        else:
            sentence = _(
                "%(actor)s undid the import of %(file)s: %(deleted)s paper signatures removed."
            )
        return sentence % values
    elif action in {"export_requested", "export_downloaded"}:
        values = {
            "actor": actor,
            "format": _format(data.get("format", "")),
            "statement": _statement(data, titles),
        }
        if action == "export_requested":
            sentence = _("%(actor)s asked for a %(format)s list of “%(statement)s”.") % values
        else:
            sentence = _(
                "%(actor)s downloaded a %(format)s list of “%(statement)s” (%(rows)s rows)."
            ) % {**values, "rows": data.get("rows", "?")}
        return sentence
    else:
        sentence = _("%(actor)s: %(action)s.") % {"actor": actor, "action": action}
        if data:
            sentence += " " + _details(data)
        return sentence
    if event.reason:
        sentence += " " + _("Reason: %(reason)s") % values
    return sentence


def _statement(data: dict, titles: dict) -> str:
    slug = data.get("statement", "")
    return titles.get(slug, slug)


def _invalidation(what: str, data: dict, actor: str) -> str:
    values = {
        "actor": actor,
        "run": data.get("run", "?"),
        "matched": data.get("matched", "?"),
        "changed": data.get("changed", "?"),
        "restored": data.get("restored", "?"),
    }
    sentences = {
        "start": _("%(actor)s started invalidation run #%(run)s (%(matched)s signatures)."),
        "cancel": _("%(actor)s cancelled invalidation run #%(run)s."),
        "done": _("Invalidation run #%(run)s finished: %(changed)s signatures invalidated."),
        "cancelled": _("Invalidation run #%(run)s stopped: %(changed)s signatures invalidated."),
        "revert": _("%(actor)s asked to undo invalidation run #%(run)s."),
        "revert_resumed": _("%(actor)s resumed undoing invalidation run #%(run)s."),
        "reverted": _("Invalidation run #%(run)s undone: %(restored)s signatures restored."),
    }
    if what in sentences:
        return sentences[what] % values
    return _("Invalidation run #%(run)s: %(what)s.") % {**values, "what": what}


def _staff(what: str, data: dict, actor: str) -> str:
    values = {
        "actor": actor,
        "email": data.get("email", ""),
        "role": _role(data.get("role", "")),
    }
    sentences = {
        "create": _("An account for %(email)s was made %(role)s from the command line."),
        "invite": _("%(actor)s invited %(email)s to join as %(role)s."),
        "join": _("%(actor)s accepted the invitation and joined as %(role)s."),
        "invitation_revoke": _("%(actor)s withdrew the invitation to %(email)s."),
        "join_refused": _(
            "An invitation to %(email)s was refused: the address already belongs to an account."
        ),
    }
    if what in sentences:
        return sentences[what] % values
    sentence = _("%(actor)s: %(action)s.") % {"actor": actor, "action": "staff." + what}
    return sentence + (" " + _details(data) if data else "")


def action_choices(codes) -> list[tuple[str, str]]:
    """The log's filter (which matches the start of a code): the groups by name, then any
    code no group covers, as it is stored."""
    choices = [(code, str(name)) for code, name in ACTION_NAMES.items()]
    for code in codes:
        if not any(code.startswith(group) for group in ACTION_NAMES):
            choices.append((code, code))
    return choices
