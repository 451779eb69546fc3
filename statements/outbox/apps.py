from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    """The transactional outbox: every email, and every hand-off of background work to the
    broker, is first a row written in the transaction that causes it (see relay.py)."""

    name = "statements.outbox"
    label = "outbox"
    verbose_name = _("Outgoing email")
