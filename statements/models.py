"""Statements, their translations and demands, signatures and staff audit.

Invariants live here as database constraints, so no code path can break them: one signature
per statement, kind and normalised email (until a moderator releases a rejected one's); one
approved endorsement per organisation name and country;
organisation rows carry their organisation fields; states come from an explicit set; every
text column has a length limit that SQLite enforces too (PostgreSQL's varchar does already).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField


def _max_length(*fields: tuple[str, int], prefix: str) -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            condition=models.lookups.LessThanOrEqual(Length(name), limit),
            name=f"{prefix}_{name}_length",
        )
        for name, limit in fields
    ]


class Statement(models.Model):
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    original_language = models.CharField(
        _("original language"), max_length=10, default="es", choices=settings.LANGUAGES
    )
    is_default = models.BooleanField(
        _("default statement"), default=False, help_text=_("Shown at the site's root.")
    )
    signing_open = models.BooleanField(_("signing open"), default=True)
    closes_at = models.DateTimeField(
        _("signing closes at"),
        null=True,
        blank=True,
        help_text=_("Optional: after this moment signing closes by itself."),
    )
    signature_goal = models.PositiveIntegerField(
        _("target"),
        null=True,
        blank=True,
        help_text=_(
            "Optional: the number of signatures (individuals and organisations) to reach. "
            "The page shows the progress, and the next target once it is reached."
        ),
    )
    moderate_individuals = models.BooleanField(
        _("moderate individual signatures"),
        default=False,
        help_text=_("Individuals then count only once a moderator approves them."),
    )
    published_on = models.DateField(_("published on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["-is_default", "slug"]
        permissions = [("open_close_signing", _("Can open and close signing"))]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_statement"
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def accepts_signatures(self) -> bool:
        """Signing is open and its closing date, if any, has not passed."""
        return self.signing_open and not self.closed_by_date

    @property
    def closed_by_date(self) -> bool:
        return self.closes_at is not None and timezone.now() >= self.closes_at


class StatementTranslation(models.Model):
    """The statement's text in one language. Body paragraphs are separated by blank lines."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    is_original = models.BooleanField(_("original text"), default=False)
    translation_note = models.CharField(_("translation note"), max_length=300, blank=True)
    title = models.CharField(_("title"), max_length=500)
    body = models.TextField(_("body"), help_text=_("Paragraphs separated by a blank line."))
    slogans = models.TextField(_("closing slogans"), blank=True, help_text=_("One per line."))
    demands_intro = models.CharField(_("demands introduction"), max_length=300, blank=True)
    signed_by = models.CharField(_("signed by"), max_length=300, blank=True)
    date_line = models.CharField(_("date line"), max_length=100, blank=True)
    # Digest of the text as last loaded from the repository's files; load_statement compares
    # it with the row so that it never overwrites an organiser's edit made in the admin.
    source_digest = models.CharField(max_length=64, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("statement text")
        verbose_name_plural = _("statement texts")
        ordering = ["statement", "-is_original", "language"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "language"], name="one_text_per_language"),
        ]

    def __str__(self) -> str:
        return f"{self.statement.slug} [{self.language}]"

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.replace("\r\n", "\n").split("\n\n") if p.strip()]

    @property
    def slogan_lines(self) -> list[str]:
        return [s.strip() for s in self.slogans.splitlines() if s.strip()]


class Demand(models.Model):
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="demands")
    position = models.PositiveSmallIntegerField(_("position"))

    class Meta:
        verbose_name = _("demand")
        verbose_name_plural = _("demands")
        ordering = ["statement", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "position"], name="one_demand_per_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement.slug} #{self.position}"


class DemandTranslation(models.Model):
    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    text = models.CharField(_("text"), max_length=1000)

    class Meta:
        verbose_name = _("demand text")
        verbose_name_plural = _("demand texts")
        constraints = [
            models.UniqueConstraint(
                fields=["demand", "language"], name="one_demand_text_per_language"
            ),
        ]

    def __str__(self) -> str:
        return self.text


class SignatureKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    ORGANISATION = "organisation", _("Organisation")


class SignatureSource(models.TextChoices):
    ONLINE = "online", _("Online")
    PAPER = "paper", _("On paper")


class SignatureState(models.TextChoices):
    PENDING = "pending", _("Awaiting email confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    AWAITING_MODERATION = "awaiting_moderation", _("Awaiting moderation")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    FRAUDULENT = "fraudulent", _("Fraudulent")


class OrganisationType(models.TextChoices):
    TRADE_UNION = "trade_union", _("Trade union")
    PARTY = "party", _("Political party")
    MOVEMENT = "movement", _("Social movement")
    YOUTH = "youth", _("Student or youth organisation")
    NGO = "ngo", _("NGO or association")
    MEDIA = "media", _("Media")
    OTHER = "other", _("Other")


# States whose signatures count publicly and appear on the public list.
PUBLIC_STATES = frozenset({SignatureState.CONFIRMED, SignatureState.APPROVED})
# The same, in a fixed order for the indexes' conditions.
LISTED_STATES = [SignatureState.CONFIRMED.value, SignatureState.APPROVED.value]

SIGNATURE_LIMITS = {
    "full_name": 200,
    "email": 254,
    "email_key": 254,
    "city": 100,
    "affiliation": 200,
    "comment": 500,
    "organisation_name": 200,
    "organisation_name_key": 200,
    "website": 300,
    "contact_role": 100,
    "moderation_reason": 500,
    "delivery_error": 300,
}


class Signature(models.Model):
    """One individual signature or one organisational endorsement of a statement."""

    Kind = SignatureKind
    State = SignatureState
    Source = SignatureSource
    OrganisationType = OrganisationType
    PUBLIC_STATES = PUBLIC_STATES
    LIMITS = SIGNATURE_LIMITS

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Indexed by the composite indexes below, which all begin with it (Meta.indexes).
    statement = models.ForeignKey(
        Statement, on_delete=models.PROTECT, related_name="signatures", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=20, choices=SignatureKind.choices)
    state = models.CharField(
        _("state"),
        max_length=24,
        choices=SignatureState.choices,
        default=SignatureState.PENDING,
    )
    language = models.CharField(_("language"), max_length=10, default="es")
    # Online, or gathered on paper and imported by an organiser (then without emails of ours,
    # and possibly without an address at all).
    source = models.CharField(
        _("source"),
        max_length=10,
        choices=SignatureSource.choices,
        default=SignatureSource.ONLINE,
    )
    paper_import = models.ForeignKey(
        "statements.PaperImport",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signatures",
        db_index=False,  # a partial index of the few rows that have one (Meta.indexes)
    )

    # The individual, or the organisation's contact person.
    full_name = models.CharField(_("full name"), max_length=SIGNATURE_LIMITS["full_name"])
    email = models.EmailField(_("email"), max_length=SIGNATURE_LIMITS["email"])
    email_key = models.CharField(max_length=SIGNATURE_LIMITS["email_key"], editable=False)
    country = CountryField(_("country"))
    city = models.CharField(_("city"), max_length=SIGNATURE_LIMITS["city"], blank=True)
    affiliation = models.CharField(
        _("affiliation or occupation"), max_length=SIGNATURE_LIMITS["affiliation"], blank=True
    )
    show_publicly = models.BooleanField(_("show name publicly"), default=False)
    comment = models.CharField(_("comment"), max_length=SIGNATURE_LIMITS["comment"], blank=True)

    # Organisations only.
    organisation_name = models.CharField(
        _("organisation name"), max_length=SIGNATURE_LIMITS["organisation_name"], blank=True
    )
    organisation_name_key = models.CharField(
        max_length=SIGNATURE_LIMITS["organisation_name_key"], blank=True, editable=False
    )
    organisation_type = models.CharField(
        _("organisation type"), max_length=20, choices=OrganisationType.choices, blank=True
    )
    website = models.URLField(_("website"), max_length=SIGNATURE_LIMITS["website"], blank=True)
    contact_role = models.CharField(
        _("contact role"), max_length=SIGNATURE_LIMITS["contact_role"], blank=True
    )
    authorised = models.BooleanField(_("authorised to sign"), default=False)

    # Consent and provenance: the notice version that was shown; a keyed hash, never the IP.
    consent_version = models.CharField(max_length=20)
    consent_at = models.DateTimeField()
    ip_hash = models.CharField(max_length=64, blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # Set when a moderator releases the email key of a rejected or fraudulent signature, so
    # that its address can sign again (see the constraints below).
    key_released_at = models.DateTimeField(null=True, blank=True)
    moderation_reason = models.CharField(
        max_length=SIGNATURE_LIMITS["moderation_reason"], blank=True
    )

    # Submissions for this address, counted up to one past SIGNATURE_MAX_EMAILS (the emails
    # themselves are rows of the outbox, statements/outbox/), and why the last email could not
    # be delivered, for moderators.
    email_count = models.PositiveSmallIntegerField(default=0)
    delivery_error = models.CharField(max_length=SIGNATURE_LIMITS["delivery_error"], blank=True)

    # The partner whose embedded form it came through (`?ref=`), for organisers' figures.
    referrer = models.ForeignKey(
        "statements.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signatures",
        verbose_name=_("referred by"),
        db_index=False,  # a partial index of the few rows that have one (Meta.indexes)
    )
    # Campaign updates: a choice of its own, never implied by signing; when it was given (the
    # notice version shown is consent_version) and when it was taken back.
    wants_updates = models.BooleanField(_("wants campaign updates"), default=False)
    updates_consent_at = models.DateTimeField(null=True, blank=True)
    updates_stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["-created_at"]
        permissions = [
            ("moderate_signature", _("Can approve, reject and flag signatures")),
            ("invalidate_signatures", _("Can invalidate signatures in bulk")),
        ]
        indexes = [
            models.Index(fields=["statement", "state", "kind"], name="signature_state_kind"),
            # Every index is written by every sign POST (and, as the state is in them, by
            # every confirmation): these are the lookups that need one, without the
            # pattern-matching twins Django adds to an indexed text column on PostgreSQL,
            # and, for the references most signatures do not have, of the rows that do.
            # None on the state alone: every query by state names the statement (the index
            # above) or a time (created_at's), and one would tempt the planner, whose
            # statistics rarely see unconfirmed rows, to walk all of them to confirm one.
            models.Index(fields=["ip_hash"], name="signature_ip_hash"),
            models.Index(
                fields=["paper_import"],
                condition=Q(paper_import__isnull=False),
                name="signature_paper_import",
            ),
            models.Index(
                fields=["referrer"],
                condition=Q(referrer__isnull=False),
                name="signature_referrer",
            ),
            # The public list pages, in their order: newest listed individuals first, and
            # organisations by country and name (searches add trigram indexes on PostgreSQL,
            # see migration 0002_listed_signatory_search).
            models.Index(
                fields=["statement", "-confirmed_at", "-id"],
                condition=Q(kind="individual", show_publicly=True, state__in=LISTED_STATES),
                name="signature_listed_individuals",
            ),
            models.Index(
                fields=["statement", "country", "organisation_name", "id"],
                condition=Q(kind="organisation", state="approved"),
                name="signature_listed_orgs",
            ),
        ]
        constraints = [
            # One row per person: an unconfirmed row is replaced by the next submission for
            # its address (services.signature_create); a rejected or fraudulent one keeps the
            # address out until a moderator releases it.
            models.UniqueConstraint(
                fields=["statement", "kind", "email_key"],
                condition=~Q(email_key="") & Q(key_released_at__isnull=True),
                name="one_signature_per_email",
            ),
            # Only an approved endorsement holds its organisation's name in its country:
            # anyone may submit any name, so every submission is kept for a moderator to
            # choose, and rejecting the approved one frees the name.
            models.UniqueConstraint(
                fields=["statement", "organisation_name_key", "country"],
                condition=Q(kind="organisation")
                & ~Q(organisation_name_key="")
                & Q(state="approved"),
                name="one_endorsement_per_organisation",
            ),
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in SignatureState]),
                name="signature_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in SignatureKind]), name="signature_kind_valid"
            ),
            # A withdrawn row is erased; so is a fraudulent one whose signer withdrew it (its
            # tombstone keeps the state and dates, not the person).
            models.CheckConstraint(
                condition=Q(kind="individual")
                | Q(state="withdrawn")
                | Q(withdrawn_at__isnull=False)
                | (
                    ~Q(organisation_name="")
                    & ~Q(organisation_name_key="")
                    & ~Q(organisation_type="")
                    & Q(authorised=True)
                ),
                name="organisation_fields_present",
            ),
            models.CheckConstraint(
                condition=Q(state="withdrawn")
                | Q(withdrawn_at__isnull=False)
                | (~Q(full_name="") & (~Q(email_key="") | Q(source="paper"))),
                name="signature_identity_present",
            ),
            models.CheckConstraint(
                condition=Q(source__in=[s.value for s in SignatureSource]),
                name="signature_source_valid",
            ),
            models.CheckConstraint(
                condition=Q(source="paper", paper_import__isnull=False)
                | Q(source="online", paper_import__isnull=True),
                name="paper_signatures_have_their_import",
            ),
            *_max_length(*SIGNATURE_LIMITS.items(), prefix="signature"),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.ORGANISATION:
            return self.organisation_name or f"#{self.pk}"
        return self.full_name or f"#{self.pk}"

    @property
    def display_name(self) -> str:
        return str(self)


class AuditEvent(models.Model):
    """Who did what, when, to which row: moderation decisions, downloads, invitations."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    action = models.CharField(max_length=50, db_index=True)
    signature = models.ForeignKey(
        Signature, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.from_state}→{self.to_state}"


class InvalidationRun(models.Model):
    """A bulk invalidation chosen by conditions, dry-run counted, run in the background,
    cancellable and reversible. Each changed signature gets an audit event naming the run."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Dry run")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")
        REVERTED = "reverted", _("Reverted")

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, null=True, blank=True)
    conditions = models.JSONField(default=dict)
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    matched_count = models.PositiveIntegerField(default=0)
    changed_count = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    reverted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invalidation")
        verbose_name_plural = _("invalidations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invalidation #{self.pk} ({self.state})"


# Models of the statements app that live beside the code that uses them.
from statements.opendata.models import SignatureHour  # noqa: E402, F401
from statements.paper.models import PaperImport  # noqa: E402, F401
from statements.partners.models import Partner  # noqa: E402, F401
from statements.updates.models import CampaignUpdate, CampaignUpdateText  # noqa: E402, F401
