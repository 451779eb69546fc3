"""The connection pool's check (petition/env.py): no round trip for a sound connection, and
a connection whose server went away is replaced before anyone uses it."""

import time

import pytest
from django.db import connection

from petition.env import check_connection

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the pool is PostgreSQL's (psycopg_pool)"
)


@pytest.fixture
def pool(db):
    from psycopg_pool import ConnectionPool

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    opened = ConnectionPool(
        kwargs=params, min_size=1, max_size=1, check=check_connection, open=True, timeout=10
    )
    yield opened
    opened.close()


@pytest.fixture
def full_checks(monkeypatch):
    """The checks that went to the server."""
    from psycopg_pool import ConnectionPool

    made = []
    stock = ConnectionPool.check_connection

    def counted(conn):
        made.append(conn)
        stock(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(counted))
    return made


def _backend(conn) -> int:
    return conn.execute("SELECT pg_backend_pid()").fetchone()[0]


def test_a_sound_connection_leaves_the_pool_without_a_round_trip(pool, full_checks):
    with pool.connection() as conn:
        first = _backend(conn)
    for _ in range(3):
        with pool.connection() as conn:
            assert _backend(conn) == first
    assert full_checks == []


def test_a_connection_whose_backend_died_is_replaced_before_use(pool, full_checks):
    with pool.connection() as conn:
        dead = _backend(conn)
        socket = conn.fileno()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [dead])
    import select

    deadline = time.monotonic() + 10
    while not select.select([socket], [], [], 0.1)[0] and time.monotonic() < deadline:
        pass
    with pool.connection() as conn:
        # The check saw the farewell, tried the connection, and the pool made a new one.
        assert _backend(conn) != dead
    assert len(full_checks) == 1
