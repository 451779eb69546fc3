"""The organiser's request for a signatory list. Validates and normalises; never saves."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from statements.exports.selectors import DEFAULT_STATES, EXPORTABLE_STATES, ExportFilters
from statements.languages import language_choices
from statements.models import SignatoryExport, Signature, Statement


class ExportRequestForm(forms.Form):
    statement = forms.ModelChoiceField(
        label=_("Statement"), queryset=Statement.objects.all(), empty_label=None
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[
            (SignatoryExport.Format.CSV, _("CSV — for spreadsheets and other programs")),
            (SignatoryExport.Format.XLSX, _("XLSX — Excel workbook")),
            (SignatoryExport.Format.JSON, _("JSON — Open Supporter Data Interface fields")),
            (SignatoryExport.Format.PDF, _("PDF — printable list for publication")),
        ],
        initial=SignatoryExport.Format.CSV,
        widget=forms.RadioSelect,
        help_text=_(
            "The PDF prints only what may be published: approved organisations and the "
            "individuals who chose to be listed, without email addresses."
        ),
    )
    kinds = forms.MultipleChoiceField(
        label=_("Signatories"),
        choices=Signature.Kind.choices,
        initial=[Signature.Kind.ORGANISATION, Signature.Kind.INDIVIDUAL],
        widget=forms.CheckboxSelectMultiple,
    )
    states = forms.MultipleChoiceField(
        label=_("States"),
        choices=[(state.value, state.label) for state in EXPORTABLE_STATES],
        initial=[state.value for state in DEFAULT_STATES],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("By default, the signatures that count publicly."),
    )
    countries = forms.MultipleChoiceField(
        label=_("Countries"),
        choices=[],
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Leave empty for every country. Hold Ctrl (⌘ on a Mac) to choose several."),
    )
    date_from = forms.DateField(
        label=_("Signed from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("Signed until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Both dates are included."),
    )
    language = forms.ChoiceField(
        label=_("Language of the list"),
        choices=language_choices,
        help_text=_("For the PDF's texts and for country names."),
    )
    bom = forms.BooleanField(
        label=_("Add a byte-order mark to the CSV file (helps Excel read accents and Cyrillic)"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per form, so the names follow the organiser's language.
        self.fields["countries"].choices = list(countries)
        statement = self.initial.get("statement")
        if statement is not None and "language" not in self.initial:
            self.initial["language"] = statement.original_language

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def to_filters(self, *, email_language: str) -> ExportFilters:
        data = self.cleaned_data
        return ExportFilters(
            kinds=tuple(data["kinds"]),
            states=tuple(data["states"]),
            countries=tuple(data["countries"]),
            date_from=data["date_from"],
            date_to=data["date_to"],
            language=data["language"],
            bom=data["bom"] and data["format"] == SignatoryExport.Format.CSV,
            email_language=email_language,
        )
