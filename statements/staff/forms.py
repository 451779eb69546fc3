"""Staff forms: they validate and normalise; the services in statements/staff/services/
write."""

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from statements.models import Signature, Statement
from statements.normalise import has_forbidden_characters
from statements.staff.rules import REASON_LIMIT, REASON_REQUIRED, Decision
from statements.staff.selectors import InvalidationConditions, QueueFilters, statement_titles

State = Signature.State
Kind = Signature.Kind

ANY_STATE = "any"
# Bulk decisions act on one page of the queue at most; this bounds a single request's work.
MAX_BULK = 100


def _country_choices(empty_label):
    return [("", empty_label)] + [(code, name) for code, name in countries]


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class QueueFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("A name, an organisation, or an email domain such as @example.org."),
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[(ANY_STATE, _("Any state")), *State.choices],
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind")), *Kind.choices]
    )
    country = forms.ChoiceField(
        label=_("Country"), required=False, choices=lambda: _country_choices(_("Any country"))
    )
    created_from = forms.DateField(label=_("Signed from"), required=False, widget=DateInput)
    created_to = forms.DateField(label=_("Signed until"), required=False, widget=DateInput)
    statement = forms.ModelChoiceField(
        label=_("Statement"),
        required=False,
        queryset=Statement.objects.all(),
        empty_label=_("Any statement"),
    )
    ip_hash = forms.CharField(label=_("IP hash"), required=False, max_length=64)

    def __init__(self, data, *args, **kwargs):
        # The queue opens on the signatures awaiting a decision.
        if "state" not in data:
            data = data.copy()
            data["state"] = State.AWAITING_MODERATION
        super().__init__(data, *args, **kwargs)
        # Statements by title, in the staff member's language.
        titles = statement_titles(get_language())
        self.fields["statement"].label_from_instance = lambda s: titles.get(s.pk, s.slug)

    def filters(self) -> QueueFilters:
        """The valid filters; an invalid one is ignored (its error is shown beside it)."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if value}
        state = data.get("state", State.AWAITING_MODERATION)
        statement = data.get("statement")
        return QueueFilters(
            kind=data.get("kind", ""),
            state="" if state == ANY_STATE else state,
            country=data.get("country", ""),
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            statement_id=statement.pk if statement else None,
            ip_hash=data.get("ip_hash", "").strip(),
            search=data.get("q", "").strip(),
        )


class PlainCharField(forms.CharField):
    """Text from a query string or a form, refused if it holds control characters (NUL among
    them, which PostgreSQL refuses in text)."""

    def to_python(self, value):
        value = super().to_python(value)
        if has_forbidden_characters(value):
            raise forms.ValidationError(_("Remove control characters."), code="control")
        return value


class PageField(forms.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(required=False, min_value=1, max_value=10**9, **kwargs)


class AuditFilterForm(forms.Form):
    action = PlainCharField(required=False, max_length=50)
    page = PageField()


class DashboardForm(forms.Form):
    statement = forms.ModelChoiceField(queryset=Statement.objects.all(), required=False)


class QueuePageForm(forms.Form):
    page = PageField()
    select = forms.ChoiceField(required=False, choices=[("", ""), ("all", "all")])


class PageForm(forms.Form):
    page = PageField()


class SingleApprovalForm(forms.Form):
    """The Approve button of one row of the queue."""

    single = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class SigningSwitchForm(forms.Form):
    signing_open = forms.TypedChoiceField(
        choices=[("0", "0"), ("1", "1")], coerce=lambda v: v == "1"
    )


class DecisionForm(forms.Form):
    action = forms.ChoiceField(label=_("Decision"), choices=Decision.choices)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_LIMIT,
        help_text=_("Required when rejecting. Staff see it; an organisation only if you send it."),
    )
    send_reason = forms.BooleanField(
        label=_("Send the reason to the organisation with the notice of rejection"),
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") in REASON_REQUIRED and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Please give a reason for rejecting."))
        return cleaned


class SignatureIdsField(forms.Field):
    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            return [int(item) for item in value or []]
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError(_("Invalid selection."), code="invalid") from exc

    def validate(self, value):
        if not value:
            raise forms.ValidationError(_("Select at least one signature."), code="required")
        if len(value) > MAX_BULK:
            raise forms.ValidationError(
                _("Select at most %(max)d signatures at a time."),
                code="too_many",
                params={"max": MAX_BULK},
            )


class BulkDecisionForm(DecisionForm):
    selected = SignatureIdsField(label=_("Selected signatures"))


class InvalidationForm(forms.Form):
    email_domain = forms.CharField(
        label=_("Email domain"),
        required=False,
        max_length=253,
        help_text=_("For example example.org: every address at that domain."),
    )
    ip_hash = forms.CharField(label=_("IP hash"), required=False, max_length=64)
    country = forms.ChoiceField(
        label=_("Country"), required=False, choices=lambda: _country_choices(_("Any country"))
    )
    created_from = forms.DateTimeField(
        label=_("Signed from (UTC)"), required=False, widget=DateTimeInput
    )
    created_to = forms.DateTimeField(
        label=_("Signed until (UTC)"), required=False, widget=DateTimeInput
    )
    statement = forms.ModelChoiceField(
        label=_("Statement"),
        required=False,
        queryset=Statement.objects.all(),
        empty_label=_("Any statement"),
    )

    def clean_email_domain(self):
        domain = self.cleaned_data["email_domain"].strip().lstrip("@").lower()
        if domain and ("." not in domain or any(c.isspace() or c == "@" for c in domain)):
            raise forms.ValidationError(_("Enter a domain such as example.org."))
        return domain

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(name) for name in self.fields):
            raise forms.ValidationError(
                _("Choose at least one condition: an invalidation never applies to everything."),
                code="no_conditions",
            )
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", _("The end of the window is before its start."))
        return cleaned

    def conditions(self) -> InvalidationConditions:
        cleaned = self.cleaned_data
        return InvalidationConditions(
            email_domain=cleaned["email_domain"],
            ip_hash=cleaned["ip_hash"].strip(),
            country=cleaned["country"],
            created_from=cleaned["created_from"],
            created_to=cleaned["created_to"],
            statement_id=cleaned["statement"].pk if cleaned["statement"] else None,
        )
