"""Validation of paper signatures: the upload, and each row as the sign form would check it."""

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from statements.forms import CleanCharField
from statements.models import Signature, Statement

LIMITS = Signature.LIMITS
Kind = Signature.Kind

_YES = {"yes", "y", "true", "1", "x", "sí", "si", "да", "иә", "ия"}
_NO = {"", "no", "n", "false", "0", "нет", "жоқ"}


class UploadForm(forms.Form):
    statement = forms.ModelChoiceField(queryset=Statement.objects.all(), label=_("Statement"))
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_("UTF-8 CSV or an Excel workbook; the first row names the columns."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload


def _country(value: str) -> str:
    """An ISO code ("KZ", "kz") or a country's English name ("Kazakhstan")."""
    code = value.strip().upper()
    if len(code) == 2 and code in dict(countries):
        return code
    return countries.by_name(value.strip()) or ""


class PaperRowForm(forms.Form):
    """One row of the file. Messages name the column, since the organiser reads them beside
    the spreadsheet."""

    kind = forms.CharField(required=False)
    full_name = CleanCharField(max_length=LIMITS["full_name"])
    email = forms.EmailField(required=False, max_length=LIMITS["email"])
    country = forms.CharField()
    city = CleanCharField(required=False, max_length=LIMITS["city"])
    affiliation = CleanCharField(required=False, max_length=LIMITS["affiliation"])
    show_publicly = forms.CharField(required=False)
    organisation_name = CleanCharField(required=False, max_length=LIMITS["organisation_name"])
    organisation_type = forms.CharField(required=False)
    contact_role = CleanCharField(required=False, max_length=LIMITS["contact_role"])
    website = forms.URLField(required=False, max_length=LIMITS["website"], assume_scheme="https")
    comment = CleanCharField(required=False, max_length=LIMITS["comment"], multiline=True)
    signed_on = forms.DateField(required=False, input_formats=["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"])

    def clean_kind(self) -> str:
        value = self.cleaned_data["kind"].strip().lower() or Kind.INDIVIDUAL
        if value not in Kind.values:
            raise forms.ValidationError(_("Write individual or organisation."))
        return value

    def clean_country(self) -> str:
        code = _country(self.cleaned_data["country"])
        if not code:
            raise forms.ValidationError(
                _("Write the country as a two-letter code (KZ) or its English name.")
            )
        return code

    def clean_show_publicly(self) -> bool:
        value = self.cleaned_data["show_publicly"].strip().lower()
        if value in _YES:
            return True
        if value in _NO:
            return False
        raise forms.ValidationError(_("Write yes or no."))

    def clean_signed_on(self) -> date | None:
        signed_on = self.cleaned_data["signed_on"]
        if signed_on and signed_on > timezone.localdate():
            raise forms.ValidationError(_("The date is in the future."))
        return signed_on

    def clean(self):
        data = super().clean()
        if data.get("kind") == Kind.ORGANISATION:
            if not data.get("organisation_name"):
                self.add_error("organisation_name", _("An organisation needs its name."))
            kind = (data.get("organisation_type") or "").strip().lower()
            if kind not in Signature.OrganisationType.values:
                self.add_error(
                    "organisation_type",
                    _("Write one of: %(types)s.")
                    % {"types": ", ".join(Signature.OrganisationType.values)},
                )
            else:
                data["organisation_type"] = kind
        return data
