from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Staff accounts: the user model, invitations, the two roles, sign-in through allauth
    (password, then TOTP) and the door every staff page and the admin go through."""

    name = "accounts"
    label = "accounts"
    verbose_name = _("Staff accounts")
