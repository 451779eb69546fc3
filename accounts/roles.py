"""Staff roles as Django groups, and what each may do.

The groups are created by migration accounts 0002_roles and re-created by `role_group`, so a
database flushed by a test, or a group deleted by hand, never leaves a role without its rights.
A staff member holds exactly one role: assigning one removes the other.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

from accounts.access import ROLE_GROUPS
from accounts.models import StaffRole

MODERATOR_PERMISSIONS = (
    "statements.moderate_signature",
    "statements.view_signature",
)

# Organisers do everything moderators do, plus the organiser-only tools and the admin's
# statement editing (texts, translations, demands).
ORGANISER_PERMISSIONS = (
    *MODERATOR_PERMISSIONS,
    "statements.invalidate_signatures",
    "statements.open_close_signing",
    "accounts.invite_staff",
    "exports.export_signatories",
    "statements.import_paper",
    "statements.view_paperimport",
    "statements.send_campaign_update",
    "statements.view_campaignupdate",
    "statements.view_partner",
    "statements.add_partner",
    "statements.change_partner",
    "statements.view_auditevent",
    "statements.view_invalidationrun",
    "accounts.view_staffinvitation",
    "exports.view_signatoryexport",
    "statements.view_statement",
    "statements.add_statement",
    "statements.change_statement",
    "statements.view_statementtranslation",
    "statements.add_statementtranslation",
    "statements.change_statementtranslation",
    "statements.delete_statementtranslation",
    "statements.view_demand",
    "statements.add_demand",
    "statements.change_demand",
    "statements.delete_demand",
    "statements.view_demandtranslation",
    "statements.add_demandtranslation",
    "statements.change_demandtranslation",
    "statements.delete_demandtranslation",
)

# The apps whose permissions the roles hold.
ROLE_APPS = ("statements", "exports", "accounts")

ROLE_PERMISSIONS = {
    StaffRole.ORGANISER: ORGANISER_PERMISSIONS,
    StaffRole.MODERATOR: MODERATOR_PERMISSIONS,
}


def sync_roles(apps=global_apps) -> None:
    """Create both groups with exactly their permissions. `apps` is a migration's registry
    when called from one, so this works on a fresh database before any post_migrate ran."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for label in ROLE_APPS:
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue  # an older migration's state, before this app had models
        if apps is not global_apps:
            # Historical app configs carry no models module, which create_permissions requires.
            config.models_module = True
        try:
            create_permissions(config, verbosity=0, apps=apps)
        finally:
            if apps is not global_apps:
                config.models_module = None
    for role, name in ROLE_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for dotted in ROLE_PERMISSIONS[role]:
            app_label, codename = dotted.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is None and apps is not global_apps:
                # An older migration's state, before the model that defines it; the
                # migration that adds the model syncs the roles again.
                continue
            if permission is None:
                raise Permission.DoesNotExist(dotted)
            wanted.append(permission)
        group.permissions.set(wanted)


def role_group(role: str):
    """The role's group, re-created with its permissions if it is missing."""
    from django.contrib.auth.models import Group

    group = Group.objects.filter(name=ROLE_GROUPS[StaffRole(role)]).first()
    if group is None:
        sync_roles()
        group = Group.objects.get(name=ROLE_GROUPS[StaffRole(role)])
    return group


def assign_role(user, role: str) -> None:
    """Give `user` exactly `role`. Organisers are Django staff (the admin edits statements);
    moderators are not."""
    group = role_group(role)
    others = [name for r, name in ROLE_GROUPS.items() if r != role]
    user.groups.remove(*user.groups.filter(name__in=others))
    user.groups.add(group)
    is_staff = role == StaffRole.ORGANISER
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])
