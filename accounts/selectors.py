"""Reads for the invitations page: the staff, and the invitations pending and settled."""

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts.access import ROLE_GROUPS
from accounts.models import StaffInvitation


def staff_members() -> QuerySet:
    """Active accounts that hold a staff role, by address."""
    return (
        get_user_model()
        .objects.filter(groups__name__in=ROLE_GROUPS.values(), is_active=True)
        .prefetch_related(Prefetch("groups"))
        .distinct()
        .order_by("email")
    )


def invitations_pending() -> QuerySet[StaffInvitation]:
    return StaffInvitation.objects.filter(
        accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def invitations_settled() -> QuerySet[StaffInvitation]:
    """Invitations accepted or expired."""
    return StaffInvitation.objects.exclude(
        accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by", "accepted_user")
