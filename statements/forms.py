"""Sign forms: validate and normalise what people type. They never save or send."""

import functools

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from statements.models import Signature
from statements.normalise import (
    LITERAL,
    QUOTED,
    address_problem,
    clean_text,
    has_forbidden_characters,
)
from statements.normalise import (
    email_key as address_key,
)
from statements.services import SignatureData

LIMITS = Signature.LIMITS
Kind = Signature.Kind


class CleanCharField(forms.CharField):
    """A text field that accepts every script but no control characters."""

    def __init__(self, *args, multiline: bool = False, **kwargs):
        self.multiline = multiline
        kwargs.setdefault("strip", False)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return ""
        if has_forbidden_characters(value, multiline=self.multiline):
            raise forms.ValidationError(
                _("Please remove control characters from this field."), code="control"
            )
        return clean_text(value, multiline=self.multiline)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if self.multiline:
            # A browser cuts a longer text at `maxlength` without a word, pasted text
            # included: the limit is said beside the field instead, a counter follows it
            # (static/js/signing.js), and a longer text gets a field error with the text kept.
            attrs.pop("maxlength", None)
        return attrs


class SignerEmailField(forms.EmailField):
    """An address as people write it: the quoted local parts and domain literals that the
    standard allows are refused, since they only serve to reach one inbox under many keys."""

    problems = {
        QUOTED: _("Please write the address without quotation marks or backslashes."),
        LITERAL: _("Please use an address with a domain name, not an IP address in brackets."),
    }

    def validate(self, value):
        problem = address_problem(value) if value else None
        if problem:
            raise forms.ValidationError(self.problems[problem], code=problem)
        super().validate(value)


def _country_choices():
    # django-countries sorts the names in the active language when iterated.
    return [("", _("Choose a country"))] + [(code, name) for code, name in countries]


@functools.cache
def _country_codes() -> frozenset[str]:
    return frozenset(code for code, _name in countries)


class CountryField(forms.TypedChoiceField):
    """The countries by name in the visitor's language; a submitted code is checked against
    the set of codes, because building the sorted, translated list to look it up would cost
    more than the rest of a sign POST."""

    def valid_value(self, value) -> bool:
        return str(value) in _country_codes()


# Said beside the comment before the limit bites, counted live by static/js/signing.js.
COMMENT_HELP = format_lazy(
    "{} {}",
    format_lazy(_("Up to {limit} characters."), limit=LIMITS["comment"]),
    _("It is not published: only the site's staff read it."),
)


class SignForm(forms.Form):
    """Fields shared by both kinds of signature. The template marks each field required or
    optional (statements/_sign_fields.html); labels carry no colon."""

    kind: str

    # Left empty by people: the field is hidden from them and from screen readers, while
    # simple bots fill in every input they find.
    nickname = forms.CharField(required=False, label=_("Leave this field empty"))

    country = CountryField(label=_("Country"), choices=_country_choices)
    city = CleanCharField(label=_("City"), max_length=LIMITS["city"], required=False)
    consent = forms.BooleanField(
        label=_("I have read the privacy notice and agree that my data is processed as it says."),
        error_messages={"required": _("Please agree to the privacy notice to sign.")},
    )
    # Separate from signing and from the consent above: nobody gets news for having signed.
    wants_updates = forms.BooleanField(
        label=_("Send me news about this campaign by email"),
        help_text=_("Every message has a link that stops them with one click."),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def is_bot(self) -> bool:
        return bool(self.data.get(self.add_prefix("nickname")))

    @functools.cached_property
    def email_key(self) -> str:
        """The valid form's address key: computed once, for the rate limit and the row."""
        return address_key(self.cleaned_data["email"])

    def to_data(self, *, language: str, referrer_id: int | None = None) -> SignatureData:
        cd = self.cleaned_data
        return SignatureData(
            kind=self.kind,
            full_name=cd["full_name"],
            email=cd["email"],
            email_key=self.email_key,
            country=cd["country"],
            city=cd.get("city", ""),
            affiliation=cd.get("affiliation", ""),
            show_publicly=cd.get("show_publicly", False),
            comment=cd.get("comment", ""),
            organisation_name=cd.get("organisation_name", ""),
            organisation_type=cd.get("organisation_type", ""),
            website=cd.get("website", ""),
            contact_role=cd.get("contact_role", ""),
            authorised=cd.get("authorised", False),
            language=language,
            consent_version=settings.PRIVACY_NOTICE_VERSION,
            wants_updates=cd.get("wants_updates", False),
            referrer_id=referrer_id,
        )


class IndividualSignForm(SignForm):
    kind = Kind.INDIVIDUAL
    field_order = [
        "full_name",
        "email",
        "country",
        "city",
        "affiliation",
        "comment",
        "show_publicly",
        "consent",
        "wants_updates",
        "nickname",
    ]

    full_name = CleanCharField(
        label=_("Full name"),
        max_length=LIMITS["full_name"],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = SignerEmailField(
        label=_("Email"),
        max_length=LIMITS["email"],
        help_text=_("We send you a link to confirm your signature. It is never published."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    affiliation = CleanCharField(
        label=_("Affiliation or occupation"),
        help_text=_("Your union, workplace or occupation."),
        max_length=LIMITS["affiliation"],
        required=False,
    )
    comment = CleanCharField(
        label=_("Comment"),
        help_text=COMMENT_HELP,
        max_length=LIMITS["comment"],
        required=False,
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # What the public list shows of a listed individual (statements/signatories.html and the
    # public files, statements/public_files.py): said where the choice is made.
    show_publicly = forms.BooleanField(
        label=_("Show my name on the public list of signatories"),
        help_text=_(
            "The list shows your name, affiliation, city and country. Your email address "
            "and your comment are never published."
        ),
        required=False,
    )


class OrganisationSignForm(SignForm):
    kind = Kind.ORGANISATION
    field_order = [
        "organisation_name",
        "organisation_type",
        "country",
        "city",
        "website",
        "full_name",
        "contact_role",
        "email",
        "comment",
        "authorised",
        "consent",
        "wants_updates",
        "nickname",
    ]

    # What the public list shows of an organisation, once a moderator approves it.
    organisation_name = CleanCharField(
        label=_("Organisation name"),
        help_text=_(
            "Once a moderator approves the endorsement, the public list shows the "
            "organisation's name, type, city, country and website."
        ),
        max_length=LIMITS["organisation_name"],
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    organisation_type = forms.ChoiceField(
        label=_("Type of organisation"),
        choices=[("", _("Choose a type")), *list(Signature.OrganisationType.choices)],
    )
    website = forms.URLField(
        label=_("Website"),
        max_length=LIMITS["website"],
        required=False,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"autocomplete": "url"}),
    )
    full_name = CleanCharField(
        label=_("Contact person's name"),
        help_text=_("The contact person's name, role and email address are never published."),
        max_length=LIMITS["full_name"],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    contact_role = CleanCharField(
        label=_("Contact person's role"),
        help_text=_("For example: general secretary, press officer."),
        max_length=LIMITS["contact_role"],
    )
    email = SignerEmailField(
        label=_("Contact email"),
        max_length=LIMITS["email"],
        help_text=_("We send a link to confirm the endorsement. It is never published."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    comment = CleanCharField(
        label=_("Message"),
        help_text=COMMENT_HELP,
        max_length=LIMITS["comment"],
        required=False,
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    authorised = forms.BooleanField(
        label=_("I am authorised to sign on behalf of this organisation"),
        error_messages={"required": _("Only someone authorised by the organisation may sign.")},
    )

    def clean_website(self):
        website = self.cleaned_data["website"]
        if website and not website.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(_("Enter a web address starting with https://."))
        return website


SIGN_FORMS = {Kind.INDIVIDUAL: IndividualSignForm, Kind.ORGANISATION: OrganisationSignForm}
