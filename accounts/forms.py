"""Forms of the invitation pages: they validate and normalise; accounts/services.py writes."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordMixin
from django.utils.translation import gettext_lazy as _

from accounts.models import StaffRole


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    # The least powerful role unless the organiser chooses otherwise.
    role = forms.ChoiceField(
        label=_("Role"), choices=StaffRole.choices, initial=StaffRole.MODERATOR
    )


class JoinForm(SetPasswordMixin, forms.Form):
    """Choose the password of an invited staff account."""

    password1, password2 = SetPasswordMixin.create_password_fields(
        label1=_("Password"), label2=_("Password again")
    )

    def __init__(self, *args, email: str, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)

    def clean(self):
        self.validate_passwords()
        # Validators such as "too similar to the email" need a user; this one is never saved.
        self.validate_password_for_user(get_user_model()(email=self.email))
        return super().clean()
