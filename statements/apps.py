from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatementsConfig(AppConfig):
    name = "statements"
    verbose_name = _("Statements and signatures")

    def ready(self) -> None:
        # Registers the receivers: the statement's row follows its texts (signals), and the
        # public lists follow public_set_changed (public_lists).
        from statements import public_lists, signals  # noqa: F401
