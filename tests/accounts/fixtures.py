"""Staff accounts as fixtures, for the tests of accounts and of the staff area alike: each
conftest that wants them imports them (pytest finds fixtures among a conftest's names)."""

import pytest

from accounts.models import StaffRole
from accounts.roles import sync_roles
from tests.accounts.helpers import make_user


@pytest.fixture(autouse=True)
def _roles(db, settings):
    # Migration accounts 0002_roles creates the groups; a transactional test's flush removes
    # them.
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
