from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    """Signatory lists for organisers: requested, built by a worker, downloaded, expired.
    It reads signatures and writes only its own rows and files."""

    name = "exports"
    verbose_name = _("Signatory exports")
