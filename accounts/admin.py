"""The user model in the Django admin (superusers only: no role holds its permissions).

Django's UserAdmin, with the email address where it has the username. Staff are made by
invitation or `createstaff`, which also give the role and the verified address; the admin is
for an operator's repairs (deactivating an account, say).
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import User


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


def _email_for_username(fieldsets):
    """Django's fieldsets with the email address in the username's place, and only there."""
    return tuple(
        (
            name,
            {
                **options,
                "fields": tuple(
                    "email" if field == "username" else field
                    for field in options["fields"]
                    if field != "email"
                ),
            },
        )
        for name, options in fieldsets
    )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    fieldsets = _email_for_username(DjangoUserAdmin.fieldsets)
    add_fieldsets = _email_for_username(DjangoUserAdmin.add_fieldsets)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)
