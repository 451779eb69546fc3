from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatementsConfig(AppConfig):
    name = "statements"
    verbose_name = _("Statements and signatures")

    def ready(self) -> None:
        from statements import signals  # noqa: F401  (registers the receivers)
