"""The organiser's request for a signatory list. Validates and normalises; never saves."""

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from exports import pdf
from exports.models import SignatoryExport
from exports.selectors import DEFAULT_STATES, EXPORTABLE_STATES, ExportFilters
from statements.languages import language_choices
from statements.models import Signature, Statement
from statements.staff.selectors import statement_titles


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
        # Checkboxes, not a multiple <select>: they work the same with a mouse, a keyboard,
        # a phone or a screen reader, and static/js/country-filter.js adds a search box.
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick none for every country."),
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
    notify = forms.BooleanField(
        label=_("Email me when the list is ready"),
        required=False,
        initial=True,
        help_text=_("Untick it if you will wait on the list's page, which shows the progress."),
    )

    def __init__(self, *args, **kwargs):
        # Labels read as the rest of the page, without a colon after each.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # Statements by title, in the organiser's language.
        titles = statement_titles(get_language())
        self.fields["statement"].label_from_instance = lambda s: titles.get(s.pk, s.slug)
        # Built per form, so the names follow the organiser's language (and their order).
        self.fields["countries"].choices = list(countries)
        # The list's language starts as the organiser's own.
        if "language" not in self.initial:
            language = get_language()
            if language in dict(language_choices()):
                self.initial["language"] = language

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end date is before the start date."))
        elif cleaned.get("format") == SignatoryExport.Format.PDF and not self.errors:
            self._check_printable(cleaned)
        return cleaned

    def _check_printable(self, cleaned) -> None:
        export = SignatoryExport(
            statement=cleaned["statement"],
            filters=self.to_filters(email_language="", data=cleaned).to_json(),
        )
        count = pdf.publishable_count(export)
        if count > pdf.MAX_ENTRIES:
            self.add_error(
                "format",
                _(
                    "This list has %(count)s names to print, more than a PDF can hold "
                    "(%(limit)s). Choose CSV or XLSX, or narrow the list by country or date."
                )
                % {"count": count, "limit": pdf.MAX_ENTRIES},
            )

    def to_filters(self, *, email_language: str, data: dict | None = None) -> ExportFilters:
        data = self.cleaned_data if data is None else data
        return ExportFilters(
            kinds=tuple(data["kinds"]),
            states=tuple(data["states"]),
            countries=tuple(data["countries"]),
            date_from=data["date_from"],
            date_to=data["date_to"],
            language=data["language"],
            bom=data["bom"] and data["format"] == SignatoryExport.Format.CSV,
            email_language=email_language,
            notify=data["notify"],
        )
