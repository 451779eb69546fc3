"""Staff accounts and invitations: every write that creates, re-roles or audits an account.

Defends against one account growing into another. An invitation only ever creates the new
account it was sent for: if its address belongs to any account in any form (a user's own
address, a primary or secondary address, verified or not) it is refused, since attaching it
to that account would hand whoever added the address the invitee's role and password. The
operator's `createstaff` may re-role an existing account, but only the one whose own address
it is. Staff cannot add addresses to their accounts at all (accounts/allauth_forms.py).
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.access import staff_role
from accounts.models import StaffInvitation, StaffRole
from accounts.roles import assign_role
from statements.emails import send_email
from statements.models import AuditEvent

logger = logging.getLogger(__name__)


class InvitationError(Exception):
    """Base for the reasons an invitation link does not lead to an account."""


class InvitationInvalid(InvitationError):
    pass


class InvitationExpired(InvitationError):
    pass


class InvitationUsed(InvitationError):
    pass


class InvitationAddressTaken(InvitationError):
    """The invited address belongs to an account by now; the invitation creates nothing."""

    def __init__(self, invitation: StaffInvitation):
        super().__init__(invitation.pk)
        self.invitation = invitation


class AlreadyStaff(Exception):
    """The address already belongs to an active staff account."""


class AddressTaken(Exception):
    """The address belongs to an account (not, or no longer, a staff one)."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _normalise_staff_email(email: str) -> str:
    return email.strip().lower()


def address_holders(email: str) -> QuerySet:
    """Every account the address belongs to in any form: the user's own address, or one of
    its allauth addresses, primary or not, verified or not."""
    User = get_user_model()
    return User.objects.filter(
        Q(email__iexact=email) | Q(emailaddress__email__iexact=email)
    ).distinct()


def _verified_primary(user, email: str) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=user).exclude(email__iexact=email).update(primary=False)
    address, _created = EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    if not (address.verified and address.primary):
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])


def _new_account(*, email: str, role: str, password: str | None):
    """A new account for `email` with `role` and a verified address. The address counts as
    verified because whoever runs this proved control of it: the invitation reached that
    inbox, or an operator typed it at the server."""
    User = get_user_model()
    user = User(email=email)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    _verified_primary(user, email)
    assign_role(user, role)
    return user


@transaction.atomic(durable=True)
def staff_account_create(*, email: str, role: str, actor=None, via: str = "createstaff"):
    """Create a staff account directly, or give an existing one this role (and reactivate
    it), for bootstrapping the first organiser and restoring former staff. The password of a
    new account is left unusable: the operator hands over a one-time set-password link.

    Only the account whose own address this is can be re-roled: an account holding it as a
    secondary address raises AddressTaken."""
    email = _normalise_staff_email(email)
    role = StaffRole(role)
    holders = list(address_holders(email))
    if not holders:
        user = _new_account(email=email, role=role, password=None)
    else:
        user = holders[0]
        if len(holders) > 1 or user.email.lower() != email:
            raise AddressTaken
        user.is_active = True
        user.save(update_fields=["is_active"])
        _verified_primary(user, email)
        assign_role(user, role)
    AuditEvent.objects.create(
        actor=actor,
        action="staff.create",
        data={"user": user.pk, "email": email, "role": role, "via": via},
    )
    return user


@dataclass(frozen=True)
class InvitationSent:
    invitation: StaffInvitation
    emailed: bool


def staff_invite(*, email: str, role: str, invited_by, language: str) -> InvitationSent:
    """Invite someone to the staff by email; the link expires after STAFF_INVITATION_MAX_AGE.

    The link is a credential, so it never rests anywhere: only its hash is stored, and it is
    emailed from here rather than through the broker, whose queue would hold it in clear.
    Inviting the same address again replaces any earlier link. An address that belongs to an
    account already is refused (AlreadyStaff, AddressTaken): an invitation creates a new
    account or nothing.
    """
    email = _normalise_staff_email(email)
    role = StaffRole(role)
    holders = list(address_holders(email))
    if any(staff_role(user) is not None for user in holders):
        raise AlreadyStaff
    if holders:
        raise AddressTaken
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic(durable=True):
        StaffInvitation.objects.filter(
            email=email, accepted_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        invitation = StaffInvitation.objects.create(
            email=email,
            role=role,
            token_hash=_token_hash(token),
            invited_by=invited_by,
            created_at=now,
            expires_at=now + settings.STAFF_INVITATION_MAX_AGE,
        )
        AuditEvent.objects.create(
            actor=invited_by,
            action="staff.invite",
            data={"invitation": invitation.pk, "email": email, "role": role},
            created_at=now,
        )
    context = {
        "invitation": invitation,
        "role": role.label,
        "inviter": invited_by.email if invited_by else "",
        "join_url": settings.SITE_URL + reverse("staff:join", kwargs={"token": token}),
        "site_url": settings.SITE_URL,
    }
    try:
        send_email("staff_invitation", to=email, context=context, language=language)
    except OSError:  # smtplib's errors included
        logger.warning("staff invitation %d could not be emailed", invitation.pk)
        return InvitationSent(invitation=invitation, emailed=False)
    return InvitationSent(invitation=invitation, emailed=True)


def staff_invitation_get(*, token: str) -> StaffInvitation:
    """The invitation behind a link, or the reason it cannot be used."""
    try:
        return _usable(StaffInvitation.objects.filter(token_hash=_token_hash(token)).first())
    except InvitationAddressTaken as refusal:
        _record_refusal(refusal.invitation)
        raise


def _usable(invitation: StaffInvitation | None) -> StaffInvitation:
    if invitation is None:
        raise InvitationInvalid
    if invitation.accepted_at is not None:
        raise InvitationUsed
    if invitation.expires_at <= timezone.now():
        raise InvitationExpired
    if address_holders(invitation.email).exists():
        raise InvitationAddressTaken(invitation)
    return invitation


def _record_refusal(invitation: StaffInvitation) -> None:
    """Audit the refusal: an address that turned up on an account after its invitation left
    is worth an organiser's look."""
    holders = list(address_holders(invitation.email).values_list("pk", flat=True))
    AuditEvent.objects.create(
        action="staff.join_refused",
        data={"invitation": invitation.pk, "email": invitation.email, "holders": holders},
    )


def staff_invitation_accept(*, token: str, password: str):
    """Turn an invitation into a new account with the invited role. Works once, before
    expiry, and only while no account holds the address."""
    try:
        return _accept(token=token, password=password)
    except InvitationAddressTaken as refusal:
        _record_refusal(refusal.invitation)  # after the rollback, so that it stays
        raise


@transaction.atomic(durable=True)
def _accept(*, token: str, password: str):
    invitation = _usable(
        StaffInvitation.objects.select_for_update().filter(token_hash=_token_hash(token)).first()
    )
    try:
        with transaction.atomic():
            user = _new_account(email=invitation.email, role=invitation.role, password=password)
    except IntegrityError as exc:
        # Another account verified the address between the check and the insert.
        raise InvitationAddressTaken(invitation) from exc
    invitation.accepted_at = timezone.now()
    invitation.accepted_user = user
    invitation.save(update_fields=["accepted_at", "accepted_user"])
    AuditEvent.objects.create(
        actor=user,
        action="staff.join",
        data={"invitation": invitation.pk, "email": invitation.email, "role": invitation.role},
        created_at=invitation.accepted_at,
    )
    return user


@transaction.atomic
def staff_invitation_revoke(*, invitation_id: int, actor) -> bool:
    """Make a pending invitation's link stop working. Returns whether anything changed."""
    invitation = StaffInvitation.objects.select_for_update().get(pk=invitation_id)
    now = timezone.now()
    if invitation.accepted_at is not None or invitation.expires_at <= now:
        return False
    invitation.expires_at = now
    invitation.save(update_fields=["expires_at"])
    AuditEvent.objects.create(
        actor=actor,
        action="staff.invitation_revoke",
        data={"invitation": invitation.pk, "email": invitation.email},
        created_at=now,
    )
    return True


def account_event_record(*, user, action: str, data: dict | None = None) -> None:
    """Audit a sign-in or a change to a staff account's credentials (password, MFA)."""
    AuditEvent.objects.create(actor=user, action=action, data=data or {})
