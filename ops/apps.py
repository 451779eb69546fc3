from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the site: health, metrics, request ids and logs, database routing, backups."""

    name = "ops"
    verbose_name = "Operations"
