"""Partner organisations that put the sign form on their own sites.

Each partner has a referral code (`?ref=` on the embedded form) that is stored on the
signatures made through it, and the origins of the sites allowed to frame the form: the
embedded form's Content-Security-Policy names them in `frame-ancestors`, and no other page of
the site may be framed at all.
"""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def origin_of(value: str) -> str:
    """`https://example.org` from what an organiser typed, or ValueError.

    Only an origin (scheme, host, optional port) goes into frame-ancestors: a path there would
    be ignored by browsers, and anything but http(s) has no business framing the form."""
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(value)
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError(value)
    if parts.path not in {"", "/"}:
        raise ValueError(value)
    # Characters that would end the directive or the header cannot be in a hostname.
    if any(c in parts.netloc for c in " ;,'\"\\"):
        raise ValueError(value)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def validate_origins(value: str) -> None:
    bad = []
    for line in value.splitlines():
        if not line.strip():
            continue
        try:
            origin_of(line)
        except ValueError:
            bad.append(line.strip())
    if bad:
        raise ValidationError(
            _("Not an origin (such as https://example.org, without a path): %(lines)s"),
            params={"lines": ", ".join(bad)},
            code="origin",
        )


class Partner(models.Model):
    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(
        _("referral code"),
        max_length=40,
        unique=True,
        help_text=_("Letters, digits and hyphens: the ?ref= of the partner's embedded form."),
    )
    origins = models.TextField(
        _("sites allowed to embed the form"),
        blank=True,
        validators=[validate_origins],
        help_text=_("One origin a line, such as https://example.org."),
    )
    active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("An inactive partner's sites may no longer frame the form."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[-a-zA-Z0-9_]+$"), name="partner_code_slug"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def origin_list(self) -> list[str]:
        found = []
        for line in self.origins.splitlines():
            try:
                origin = origin_of(line)
            except ValueError:
                continue
            if origin not in found:
                found.append(origin)
        return found
