"""Backups that restore: `make backup` of a database holding signatures, exports and audit
events, `make restore` into a fresh database, and every row of every table is there."""

import subprocess

import psycopg
import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(600)]

SEED = """
from datetime import timedelta
from django.utils import timezone
from statements.content import load_all
from exports.models import SignatoryExport
from statements.models import AuditEvent, Signature, Statement
from tests.factories import OrganisationFactory, SignatureFactory

load_all()
statement = Statement.objects.get(slug="kazakhstan-2022")
states = list(Signature.State)
for n in range(300):
    SignatureFactory(statement=statement, state=states[n % len(states)], full_name=f"Имя {n}")
for n in range(40):
    OrganisationFactory(statement=statement, comment="¡Solidaridad! " * 3)
now = timezone.now()
for n, signature in enumerate(Signature.objects.order_by("pk")[:120]):
    AuditEvent.objects.create(
        action="signature.approve", signature=signature, from_state="confirmed",
        to_state="approved", reason=f"checked {n}", data={"bulk": n % 2 == 0},
    )
for export_format in ("csv", "xlsx", "json", "pdf"):
    SignatoryExport.objects.create(
        statement=statement, format=export_format, state="done", total_rows=340,
        rows_done=340, file_name=f"list.{export_format}", filters={"states": ["confirmed"]},
        started_at=now - timedelta(seconds=9), finished_at=now, expires_at=now + timedelta(days=7),
    )
"""


def manage(env: dict, *args: str) -> None:
    subprocess.run(
        ["python", "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )


def make(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        env=env,
        timeout=300,
        capture_output=True,
        text=True,
    )


def everything(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order; and every sequence's position."""
    with psycopg.connect(url) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        found = {
            table: conn.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()  # noqa: S608
            for table in tables
        }
        for (sequence,) in conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall():
            found[f"sequence {sequence}"] = conn.execute(
                f'SELECT last_value, is_called FROM "{sequence}"'  # noqa: S608
            ).fetchall()
    return found


def test_a_backup_restores_every_row(private_postgres, tmp_path):
    import os
    import sys

    python = os.path.dirname(sys.executable)
    base = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))},
        "PATH": f"{python}:{os.environ['PATH']}",
        "DJANGO_SETTINGS_MODULE": "petition.settings",
        "EMAIL_URL": "locmem://",
    }
    source = {**base, "DATABASE_URL": private_postgres.url}
    manage(source, "migrate", "--noinput", "-v0")
    subprocess.run(
        ["python", "manage.py", "shell", "-c", SEED],
        cwd=ROOT,
        env=source,
        check=True,
        timeout=300,
    )
    manage(source, "createstaff", "organiser@example.org", "--role", "organiser")
    before = everything(private_postgres.url)
    assert len(before["statements_signature"]) == 340
    assert len(before["statements_auditevent"]) >= 121  # the decisions and createstaff's
    assert len(before["exports_signatoryexport"]) == 4

    backups = tmp_path / "backups"
    dumped = make(source, "backup", f"BACKUP_DIR={backups}")
    assert dumped.returncode == 0, dumped.stderr
    (dump,) = backups.glob("petition-*.dump")

    private_postgres.createdb("restored")
    restored_url = private_postgres.url.rsplit("/", 1)[0] + "/restored"
    target = {**base, "DATABASE_URL": restored_url}
    loaded = make(target, "restore", f"BACKUP={dump}")
    assert loaded.returncode == 0, loaded.stderr

    after = everything(restored_url)
    assert after.keys() == before.keys()
    for table, rows in before.items():
        assert after[table] == rows, f"{table} differs after the restore"

    # The restored database is a working site: it migrates cleanly and takes new signatures
    # (the sequences continued where they were).
    manage(target, "migrate", "--noinput", "--check")
    subprocess.run(
        [
            "python",
            "manage.py",
            "shell",
            "-c",
            "from tests.factories import SignatureFactory; "
            "from statements.models import Statement; "
            "SignatureFactory(statement=Statement.objects.get(), email='after@example.org')",
        ],
        cwd=ROOT,
        env=target,
        check=True,
        timeout=120,
    )

    # A second restore into a database that holds data is refused, and changes nothing.
    again = make(target, "restore", f"BACKUP={dump}")
    assert again.returncode != 0
    assert "already holds" in again.stderr + again.stdout
    assert len(everything(restored_url)["statements_signature"]) == 341
