"""News about a campaign, sent by organisers to the signers who asked for it.

Opting in is separate from signing (its own checkbox, unchecked at first, recorded with the
moment and the notice version), and one click in any update stops them. An update holds one
text per language; each signer gets theirs, or the original where there is none.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CampaignUpdate(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")

    statement = models.ForeignKey(
        "statements.Statement", on_delete=models.CASCADE, related_name="updates"
    )
    original_language = models.CharField(
        _("original language"), max_length=10, choices=settings.LANGUAGES
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipient_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("campaign update")
        verbose_name_plural = _("campaign updates")
        ordering = ["-created_at"]
        permissions = [("send_campaign_update", _("Can send campaign updates"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["draft", "sent"]), name="campaign_update_state"
            ),
        ]

    def __str__(self) -> str:
        return f"update #{self.pk} ({self.state})"


class CampaignUpdateText(models.Model):
    update = models.ForeignKey(CampaignUpdate, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"), max_length=10000)

    class Meta:
        verbose_name = _("campaign update text")
        verbose_name_plural = _("campaign update texts")
        constraints = [
            models.UniqueConstraint(fields=["update", "language"], name="one_update_text_each"),
            models.CheckConstraint(
                condition=models.lookups.LessThanOrEqual(models.functions.Length("body"), 10000),
                name="campaign_update_body_length",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.update_id} [{self.language}]"
