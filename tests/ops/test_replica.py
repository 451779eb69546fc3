"""Reads off the primary: with a second database alias, the reads that may lag go to the
replica and everything else — every write, every read that must see its own write — to the
primary."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from django.db import connections

from accounts.models import StaffInvitation
from exports.models import SignatoryExport
from ops import routers
from statements.models import Signature
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def manage(env: dict, *args: str) -> None:
    done = run(env, "manage.py", *args)
    assert done.returncode == 0, done.stderr


SEED_BEFORE = """
from statements.models import Statement
from tests.factories import OrganisationFactory, SignatureFactory
s = Statement.objects.get()
SignatureFactory(statement=s, full_name="Before the copy", email="before@example.org")
OrganisationFactory(statement=s, organisation_name="Union before the copy")
"""
SEED_AFTER = """
from statements.models import Signature, Statement
from tests.factories import SignatureFactory
s = Statement.objects.get()
SignatureFactory(statement=s, full_name="Written after the copy", email="after@example.org")
SignatureFactory(statement=s, full_name="Pending after the copy", email="pending@example.org",
                 state=Signature.State.PENDING, confirmed_at=None)
"""


@pytest.fixture
def two_databases(tmp_path):
    """A primary (SQLite file) and a replica: a copy of it taken before the last writes."""
    primary, replica = tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))},
        "DJANGO_SETTINGS_MODULE": "petition.settings",
        "DATABASE_URL": f"sqlite:///{primary}",
        "EMAIL_URL": "locmem://",
        "PRIVATE_STORAGE_ROOT": str(tmp_path / "private"),
        "PUBLIC_LISTS_ROOT": str(tmp_path / "public"),
        "STAFF_REQUIRE_MFA": "true",
    }
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_statement")
    manage(env, "shell", "-c", SEED_BEFORE)
    shutil.copyfile(primary, replica)
    manage(env, "shell", "-c", SEED_AFTER)
    return {**env, "DATABASE_REPLICA_URL": f"sqlite:///{replica}"}


def test_lagging_reads_go_to_the_replica_and_the_rest_to_the_primary(two_databases):
    done = run(two_databases, "-m", "tests.ops.replica_probe")
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.split("PROBE ", 1)[1])

    # The public lists and the dashboard read signatures from the replica only: what it
    # holds is there, what was written since is not.
    for name in ("list", "csv", "json"):
        page = seen[name]
        assert page["status"] == 200, name
        assert page["primary"] == 0, (name, page)
        assert "Before the copy" in page["body"], name
        assert "Written after the copy" not in page["body"], name
    assert seen["list"]["replica"] >= 1
    # The CSV and JSON files are built once, for both, by the task the first one queued (in
    # the request here, where tasks run in-process), from the replica.
    assert seen["csv"]["replica"] + seen["json"]["replica"] >= 1
    assert seen["list"]["body"].count("Union before the copy") == 1
    dashboard = seen["dashboard"]
    assert dashboard["status"] == 200
    assert dashboard["replica"] >= 3 and dashboard["primary"] == 0, dashboard

    # The export read its signatures from the replica; its own row lives on the primary.
    export = seen["export"]
    assert export["state"] == SignatoryExport.State.DONE
    assert "Before the copy" in export["file"]
    assert "Written after the copy" not in export["file"]
    assert export["on_replica"] is False

    # Inside a transaction a read sees its own write, replica or not.
    assert seen["own_write"] is True
    # The confirmation link of a row the replica has not seen yet works, and confirms on the
    # primary.
    assert seen["confirm_page"] == 200
    assert seen["confirm_post"] == 200
    assert seen["confirmed_state"] == Signature.State.CONFIRMED
    assert seen["replica_state"] is False


def test_router_decisions():
    router = routers.ReplicaRouter()
    assert router.db_for_write(Signature) == "default"
    # Outside replica_reads(), or for rows a request writes and reads back: the primary.
    assert router.db_for_read(Signature) == "default"
    original = routers.replica_configured
    routers.replica_configured = lambda: True
    try:
        with routers.replica_reads():
            assert router.db_for_read(Signature) == "replica"
            assert router.db_for_read(SignatoryExport) == "default"
            assert router.db_for_read(StaffInvitation) == "default"
        assert router.db_for_read(Signature) == "default"
    finally:
        routers.replica_configured = original
    assert router.allow_migrate("replica", "statements") is False
    assert router.allow_migrate("default", "statements") is True


def test_without_a_replica_everything_reads_the_primary():
    assert "replica" not in connections.settings or os.environ.get("DATABASE_REPLICA_URL")
    with routers.replica_reads():
        assert routers.ReplicaRouter().db_for_read(Signature) == "default"
