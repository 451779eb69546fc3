"""The hourly history of public signatures: one row per statement, hour, country and kind.

A summary, not a log: each row holds how many of the signatures that count publicly today
began to count in that hour (an individual when confirming the email, or when approved if the
statement moderates individuals; an organisation when approved; a paper signature on the day
it was signed). Withdrawn or invalidated signatures leave the history as they leave the counts,
so the sum of the history is always the current count. Rebuilt by `history_refresh`
(statements/opendata/services.py), which is idempotent; reading it never scans signatures.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SignatureHour(models.Model):
    statement = models.ForeignKey(
        "statements.Statement", on_delete=models.CASCADE, related_name="history"
    )
    hour = models.DateTimeField(_("hour (UTC)"))
    country = models.CharField(_("country"), max_length=2)
    kind = models.CharField(_("kind"), max_length=20)
    count = models.PositiveIntegerField(_("signatures"))

    class Meta:
        verbose_name = _("signatures in an hour")
        verbose_name_plural = _("signatures per hour")
        ordering = ["statement", "hour", "country", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "hour", "country", "kind"], name="one_history_row_per_bucket"
            ),
            models.CheckConstraint(condition=models.Q(count__gt=0), name="history_count_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id} {self.hour:%Y-%m-%d %H}h {self.country} {self.kind}"
