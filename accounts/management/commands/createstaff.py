from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.urls import reverse

from accounts.models import StaffRole
from accounts.services import AddressTaken, staff_account_create


def set_password_url(user) -> str:
    """A one-time link to allauth's set-password page: it stops working once a password is
    set (the token covers the password hash) or after PASSWORD_RESET_TIMEOUT."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL + path


class Command(BaseCommand):
    help = (
        "Create a staff account (or change an existing one's role) and print a one-time link "
        "to set its password. The first sign-in then asks for a TOTP authenticator."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=[role.value for role in StaffRole])

    def handle(self, *args, email: str, role: str, **options):
        try:
            validate_email(email.strip())
        except ValidationError as exc:
            raise CommandError(f"{email!r} is not a valid email address.") from exc
        try:
            user = staff_account_create(email=email, role=role)
        except AddressTaken as exc:
            raise CommandError(
                f"{email!r} is a further address of another account; only the account whose "
                "own address it is can be given a role."
            ) from exc
        hours = settings.PASSWORD_RESET_TIMEOUT // 3600
        self.stdout.write(f"{StaffRole(role).label} account ready: {user.email}")
        self.stdout.write(f"Set the password within {hours} hours at:")
        self.stdout.write(set_password_url(user))
