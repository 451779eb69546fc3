import pytest

from statements.models import Signature, StaffRole
from statements.staff.roles import sync_roles
from tests.factories import OrganisationFactory
from tests.staff.helpers import make_user


@pytest.fixture(autouse=True)
def _roles(db, settings):
    # Migration exports 0002_roles creates the groups; a transactional test's flush removes them.
    sync_roles()
    # scrypt is deliberately slow; tests create many accounts.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def organiser(db):
    return make_user("organiser@example.net", role=StaffRole.ORGANISER)


@pytest.fixture
def moderator(db):
    return make_user("moderator@example.net", role=StaffRole.MODERATOR)


@pytest.fixture
def outsider(db):
    """Signed in, verified, even with TOTP, but holding no staff role."""
    return make_user("outsider@example.net")


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


@pytest.fixture
def pending_org(statement):
    """An organisation that confirmed its email and waits for a moderator."""
    return OrganisationFactory(
        statement=statement,
        state=Signature.State.AWAITING_MODERATION,
        decided_at=None,
        organisation_name="Almaty Teachers' Union",
        email="contact@teachers.example.kz",
        language="en",
    )
