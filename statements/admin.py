"""Django admin for organisers: statements, their texts and demands.

Signatures are moderated in the staff area; the admin shows them read-only and without email
addresses in the list, so a glance over someone's shoulder reveals nothing.
"""

from django.contrib import admin

from statements.content import TEXT_FIELDS
from statements.models import (
    AuditEvent,
    Demand,
    DemandTranslation,
    Partner,
    Signature,
    Statement,
    StatementTranslation,
)


class StatementTranslationInline(admin.StackedInline):
    model = StatementTranslation
    extra = 0
    # The texts load_statement reads from the repository's files, so that what an organiser
    # edits here is what it compares before overwriting.
    fields = ["language", *TEXT_FIELDS]


class DemandInline(admin.TabularInline):
    model = Demand
    extra = 0
    show_change_link = True


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "original_language",
        "is_default",
        "signing_open",
        "closes_at",
        "signature_goal",
        "moderate_individuals",
    ]
    list_editable = ["signing_open"]
    inlines = [StatementTranslationInline, DemandInline]


class DemandTranslationInline(admin.TabularInline):
    model = DemandTranslation
    extra = 1


@admin.register(Demand)
class DemandAdmin(admin.ModelAdmin):
    list_display = ["statement", "position", "__str__"]
    list_filter = ["statement"]
    inlines = [DemandTranslationInline]


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "state", "country", "created_at"]
    list_filter = ["statement", "kind", "state"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Signature._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "from_state", "to_state", "signature"]
    list_filter = ["action"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "code"]
    fields = ["name", "code", "origins", "active"]

    def has_delete_permission(self, request, obj=None):
        # Signatures keep their referrer: a partner that stops is made inactive instead.
        return False
