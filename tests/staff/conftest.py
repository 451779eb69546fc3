from tests.accounts.fixtures import (  # noqa: F401 (fixtures)
    _roles,
    moderator,
    moderator_client,
    organiser,
    organiser_client,
    outsider,
)
