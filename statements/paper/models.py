"""Signatures gathered on paper, imported by an organiser from a spreadsheet.

An import is all or nothing: every row is validated before anything is saved, and the whole
import can be undone, which deletes exactly the signatures it created. Its signatures carry
`source = paper` and a link to the import, count like online ones (and separately, "of which
N on paper"), and appear in exports.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PaperImport(models.Model):
    class State(models.TextChoices):
        IMPORTED = "imported", _("Imported")
        UNDONE = "undone", _("Undone")

    statement = models.ForeignKey(
        "statements.Statement", on_delete=models.CASCADE, related_name="paper_imports"
    )
    file_name = models.CharField(_("file"), max_length=200)
    state = models.CharField(max_length=20, choices=State.choices, default=State.IMPORTED)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    imported_count = models.PositiveIntegerField(_("imported"), default=0)
    duplicate_count = models.PositiveIntegerField(_("duplicates skipped"), default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("paper import")
        verbose_name_plural = _("paper imports")
        ordering = ["-created_at"]
        permissions = [("import_paper", _("Can import and undo paper signatures"))]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.state})"
