"""The organiser's form for a campaign update: a subject and a text per language, the
original's required, the others optional (signers in a language without one get the
original)."""

from django import forms
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from statements.languages import site_languages
from statements.models import Statement
from statements.updates.models import CampaignUpdateText

SUBJECT_MAX = CampaignUpdateText._meta.get_field("subject").max_length
BODY_MAX = 10000


class UpdateForm(forms.Form):
    statement = forms.ModelChoiceField(
        label=_("Statement"), queryset=Statement.objects.all(), empty_label=None
    )
    original_language = forms.ChoiceField(label=_("Original language"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.languages = site_languages()
        self.fields["original_language"].choices = [
            (code, get_language_info(code)["name_local"]) for code in self.languages
        ]
        for code in self.languages:
            name = get_language_info(code)["name_local"]
            self.fields[f"subject_{code}"] = forms.CharField(
                label=_("Subject (%(language)s)") % {"language": name},
                max_length=SUBJECT_MAX,
                required=False,
            )
            self.fields[f"body_{code}"] = forms.CharField(
                label=_("Text (%(language)s)") % {"language": name},
                max_length=BODY_MAX,
                required=False,
                widget=forms.Textarea(attrs={"rows": 8}),
            )

    def language_fields(self):
        """(language name, subject field, body field), for the template."""
        return [
            (get_language_info(code)["name_local"], self[f"subject_{code}"], self[f"body_{code}"])
            for code in self.languages
        ]

    def clean(self):
        cleaned = super().clean()
        texts = {}
        for code in self.languages:
            subject = (cleaned.get(f"subject_{code}") or "").strip()
            body = (cleaned.get(f"body_{code}") or "").strip()
            if subject and body:
                texts[code] = (" ".join(subject.split()), body)
            elif subject or body:
                missing = f"body_{code}" if subject else f"subject_{code}"
                self.add_error(missing, _("Write both a subject and a text, or neither."))
        original = cleaned.get("original_language")
        if original and original not in texts and not self.has_error(f"subject_{original}"):
            self.add_error(
                f"subject_{original}", _("The original language needs a subject and a text.")
            )
        cleaned["texts"] = texts
        return cleaned
