from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatementsConfig(AppConfig):
    name = "statements"
    verbose_name = _("Statements and signatures")

    def ready(self) -> None:
        # Connects the public lists to public_set_changed.
        from statements import public_lists  # noqa: F401
