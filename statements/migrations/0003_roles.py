from django.db import migrations


def create_roles(apps, schema_editor):
    from statements.staff.roles import sync_roles

    sync_roles(apps)


def delete_roles(apps, schema_editor):
    from statements.staff.roles import ROLE_GROUPS

    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_GROUPS.values()).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("statements", "0002_staff_and_exports"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
