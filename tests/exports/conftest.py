from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from statements.exports import services
from statements.exports.selectors import ExportFilters
from statements.models import SignatoryExport, Signature
from tests.factories import OrganisationFactory, SignatureFactory

State = Signature.State


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
        *Permission.objects.filter(content_type__app_label="statements", codename__in=codenames)
    )
    return group


def _user(email: str, group: Group):
    user = get_user_model().objects.create_user(
        username=email, email=email, password="a long enough password 1"
    )
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
def signatures(statement):
    """A mixed list: organisations and individuals in several countries and states, texts
    that spreadsheets, CSV and PDF markup would misread, and an older signature."""
    now = timezone.now()
    rows = {
        "org_kz": OrganisationFactory(
            statement=statement,
            organisation_name="Профсоюз «Әділет»",
            country="KZ",
            city="Жанаозен",
            comment="Солидарность!",
            website="https://example.org/adilet",
        ),
        "org_ar": OrganisationFactory(
            statement=statement,
            organisation_name='=HYPERLINK("http://evil.example","click")',
            country="AR",
            city='Buenos Aires, "Centro"',
            organisation_type=Signature.OrganisationType.PARTY,
        ),
        "org_markup": OrganisationFactory(
            statement=statement,
            organisation_name="Workers <b>&</b> Students",
            country="AR",
            city="",
        ),
        "org_pending": OrganisationFactory(
            statement=statement, state=State.AWAITING_MODERATION, country="BR"
        ),
        "org_rejected": OrganisationFactory(statement=statement, state=State.REJECTED),
        "ind_kz": SignatureFactory(
            statement=statement,
            full_name="Айгуль Сапарова",
            country="KZ",
            affiliation="учитель",
            comment="+7 700 000 00 00",
        ),
        "ind_formula": SignatureFactory(
            statement=statement,
            full_name="@SUM(A1:A9)",
            country="ES",
            city="-Madrid",
            comment="\tcmd|' /C calc'!A0",
        ),
        "ind_multiline": SignatureFactory(
            statement=statement,
            full_name="Line Breaker",
            country="ES",
            comment="first line\nsecond line; with, commas",
        ),
        "ind_hidden": SignatureFactory(statement=statement, show_publicly=False, country="RU"),
        "ind_pending": SignatureFactory(
            statement=statement, state=State.PENDING, confirmed_at=None, country="RU"
        ),
        "ind_old": SignatureFactory(
            statement=statement,
            country="KZ",
            full_name="Early Signer",
            created_at=now - timedelta(days=40),
        ),
    }
    return rows


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
