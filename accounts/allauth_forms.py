"""allauth's account forms, narrowed for staff accounts (ACCOUNT_FORMS and MFA_FORMS).

Defends against an account collecting addresses (a further address is how one account could
claim an invitation, a password reset or a notice meant for another) and against the second
factor being switched off by someone who has only the password and a signed-in browser.
"""

from allauth.account.forms import AddEmailForm
from allauth.core import context
from allauth.mfa.totp.forms import DeactivateTOTPForm
from django import forms
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import is_ratelimited

# Guessing a code here is limited like guessing one at sign-in.
DEACTIVATE_RATE = "5/5m"


class StaffAddEmailForm(AddEmailForm):
    """Refuses every address: a staff account keeps the one it was invited with. The page
    does not offer the form (ACCOUNT_MAX_EMAIL_ADDRESSES = 1); this refuses a crafted POST."""

    def clean_email(self):
        raise forms.ValidationError(
            _(
                "Staff accounts keep the address they were invited with. To use another "
                "address, ask an organiser to invite it."
            ),
            code="staff_address_fixed",
        )


class StaffDeactivateTOTPForm(DeactivateTOTPForm):
    """Switching the authenticator off takes a current code from it, not only the password
    that allauth's reauthentication asks for; and where staff must have a second factor
    (STAFF_REQUIRE_MFA) it is refused outright (see StaffMFAAdapter)."""

    code = forms.CharField(
        label=_("Code from your authenticator app"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # allauth binds the form to {} on GET to show a refusal at once; an empty form is
        # not an attempt, so it stays unbound (and an unbound form is never valid).
        if not self.data:
            self.is_bound = False

    @property
    def allowed(self) -> bool:
        from allauth.mfa.adapter import get_adapter

        return get_adapter().can_delete_authenticator(self.authenticator)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        request = context.request
        user_pk = str(self.authenticator.user_id)
        try:
            limited = is_ratelimited(
                request,
                group="mfa-deactivate",
                key=lambda _group, _request: user_pk,
                rate=DEACTIVATE_RATE,
                increment=True,
            )
        except Exception:  # cache down: a security change waits rather than going unlimited
            limited = True
        if limited or not self.authenticator.wrap().validate_code(code):
            raise forms.ValidationError(_("Incorrect code."), code="incorrect_code")
        return code
