from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    """Signatory lists for organisers: requested, built by a worker, downloaded, expired.
    It reads signatures and writes only its own rows and files."""

    name = "exports"
    verbose_name = _("Signatory exports")

    def ready(self) -> None:
        # The outbox hands builds over by task name (statements/outbox/tasks.py); with eager
        # tasks (the embedded default) they run in this process, so the task is registered
        # here rather than only where a worker's autodiscovery would find it.
        from exports import tasks  # noqa: F401
