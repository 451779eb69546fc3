import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from exports import services
from exports.models import SignatoryExport
from exports.selectors import ExportFilters


@pytest.fixture(autouse=True)
def _export_settings(settings, tmp_path):
    """Staff pages without a second factor, in English, and private files in a fresh folder
    per test."""
    settings.STAFF_REQUIRE_MFA = False
    settings.LANGUAGE_CODE = "en"
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"


def _group(name: str, *codenames: str) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["statements", "exports"], codename__in=codenames
        )
    )
    return group


def _user(email: str, group: Group):
    user = get_user_model().objects.create_user(email, password="a long enough password 1")
    user.groups.add(group)
    return user


@pytest.fixture
def organiser(db):
    group = _group("organisers", "export_signatories", "moderate_signature")
    return _user("organiser@example.org", group)


@pytest.fixture
def moderator(db):
    return _user("moderator@example.org", _group("moderators", "moderate_signature"))


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


@pytest.fixture
def build(organiser, django_capture_on_commit_callbacks):
    """Request an export through the service and run its task (eagerly) to the end."""

    def run(statement, format: str, user=None, **filters) -> SignatoryExport:
        filters.setdefault("email_language", "en")
        with django_capture_on_commit_callbacks(execute=True):
            export = services.export_request(
                statement=statement,
                requested_by=user or organiser,
                format=format,
                filters=ExportFilters(**filters),
            )
        export.refresh_from_db()
        return export

    return run
