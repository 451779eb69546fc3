"""The two staff roles as groups holding their permissions (written by hand: a data migration).

sync_roles is the same function the site uses to re-create a missing group, run here with this
migration's registry, so a fresh database has both roles before anyone signs in. It runs once
every app whose permissions the roles hold (accounts, statements, exports) has its tables."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from accounts.roles import sync_roles

    sync_roles(apps)


def delete_roles(apps, schema_editor):
    from accounts.access import ROLE_GROUPS

    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_GROUPS.values()).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0001_initial"),
        ("statements", "0001_initial"),
        ("exports", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
