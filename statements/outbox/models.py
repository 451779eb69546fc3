"""The outbox: one row per email, written in the same transaction as the change that causes
it, and one row per hand-off of background work (an export to build) to the broker.

A row is due while it is `queued` and its `due_at` has passed. Claiming a row (relay.py) sets
a random `claim` and moves `due_at` forward by a lease: the claim names the task that may
send it, and if that task never runs (its message lost with the broker, its worker killed)
the lease runs out and the row is due again. So no row can be stranded, and a stale task,
whose claim has been replaced, finds nothing to do.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from exports.models import SignatoryExport
from statements.models import Signature


class EmailKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("Confirmation")
    ALREADY_SIGNED = "already_signed", _("Already signed")
    ENDORSEMENT_PUBLISHED = "endorsement_published", _("Endorsement published")
    # The organisation is told its endorsement was not published; the second kind carries
    # the moderator's reason, when the moderator chose to send it.
    ENDORSEMENT_REJECTED = "endorsement_rejected", _("Endorsement rejected")
    ENDORSEMENT_REJECTED_REASON = (
        "endorsement_rejected_reason",
        _("Endorsement rejected, with the reason"),
    )
    EXPORT_READY = "export_ready", _("Export ready")
    EXPORT_FAILED = "export_failed", _("Export failed")
    CAMPAIGN_UPDATE = "campaign_update", _("Campaign update")


# Rows about a signature (its confirmation, notices): no campaign update attached.
SIGNATURE_KINDS = frozenset(
    {
        EmailKind.CONFIRMATION,
        EmailKind.ALREADY_SIGNED,
        EmailKind.ENDORSEMENT_PUBLISHED,
        EmailKind.ENDORSEMENT_REJECTED,
        EmailKind.ENDORSEMENT_REJECTED_REASON,
    }
)
EXPORT_KINDS = frozenset({EmailKind.EXPORT_READY, EmailKind.EXPORT_FAILED})


class OutboxState(models.TextChoices):
    QUEUED = "queued", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Refused")
    CANCELLED = "cancelled", _("Not needed")


class Email(models.Model):
    """One email to send: what it is (`kind`), what it is about (a signature or an export),
    in which language, and how its delivery went. Never the address or the text: those are
    read from the signature or export when the email is sent, so a withdrawal that erases
    the signature leaves nothing here to leak."""

    Kind = EmailKind
    State = OutboxState

    kind = models.CharField(_("kind"), max_length=30, choices=EmailKind.choices)
    signature = models.ForeignKey(
        Signature, on_delete=models.CASCADE, null=True, blank=True, related_name="emails"
    )
    # The two references most emails do not have are indexed where they are set (Meta).
    export = models.ForeignKey(
        SignatoryExport,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="emails",
        db_index=False,
    )
    # A campaign update to one signer: the update says what, the signature to whom.
    campaign_update = models.ForeignKey(
        "statements.CampaignUpdate",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="emails",
        db_index=False,
    )
    language = models.CharField(_("language"), max_length=10)
    state = models.CharField(
        _("state"), max_length=10, choices=OutboxState.choices, default=OutboxState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    due_at = models.DateTimeField(default=timezone.now)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        indexes = [
            # What the relay claims from and the figures read: only unsent rows, so the
            # index stays as small as the backlog however many emails were ever sent.
            models.Index(fields=["due_at"], condition=Q(state="queued"), name="outbox_due"),
            models.Index(fields=["queued_at"], condition=Q(state="queued"), name="outbox_oldest"),
            models.Index(fields=["-queued_at"], condition=Q(state="failed"), name="outbox_failed"),
            models.Index(
                fields=["export"], condition=Q(export__isnull=False), name="outbox_export"
            ),
            models.Index(
                fields=["campaign_update"],
                condition=Q(campaign_update__isnull=False),
                name="outbox_campaign_update",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=OutboxState.values), name="outbox_email_state_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=sorted(SIGNATURE_KINDS), signature__isnull=False)
                    & Q(export__isnull=True, campaign_update__isnull=True)
                )
                | (
                    Q(kind__in=sorted(EXPORT_KINDS), export__isnull=False)
                    & Q(signature__isnull=True, campaign_update__isnull=True)
                )
                | (
                    Q(kind=EmailKind.CAMPAIGN_UPDATE, signature__isnull=False)
                    & Q(campaign_update__isnull=False, export__isnull=True)
                ),
                name="outbox_email_subject_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"


class HandoffKind(models.TextChoices):
    EXPORT_BUILD = "export_build", _("Build an export")


class Handoff(models.Model):
    """Background work waiting to be handed to the broker, written in the transaction that
    asks for it, so that a request never waits on the broker and the work is not lost when
    the broker is away. The relay hands it over exactly as it hands over emails."""

    Kind = HandoffKind

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        STARTED = "started", _("Started")

    kind = models.CharField(max_length=30, choices=HandoffKind.choices)
    export = models.OneToOneField(SignatoryExport, on_delete=models.CASCADE, related_name="handoff")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=timezone.now)
    claim = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("hand-off")
        verbose_name_plural = _("hand-offs")
        indexes = [
            models.Index(fields=["due_at"], condition=Q(state="queued"), name="handoff_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["queued", "started"]), name="handoff_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"
