"""The Celery side: queue, failure path, idempotency, progress and expiry."""

import os
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from exports import csvfile, services, tasks, xlsx
from exports.models import SignatoryExport
from petition.celery import app as celery_app
from tests.factories import SignatureFactory

State = SignatoryExport.State


def _export(statement, organiser, **fields) -> SignatoryExport:
    values = {
        "statement": statement,
        "requested_by": organiser,
        "format": "csv",
        "filters": {},
        "expires_at": timezone.now() + timedelta(days=7),
    }
    values.update(fields)
    return SignatoryExport.objects.create(**values)


def test_the_build_task_runs_on_its_own_queue():
    route = celery_app.amqp.router.route({}, "exports.tasks.export_build")
    assert route["queue"].name == "exports"
    assert tasks.export_build.acks_late
    assert tasks.export_build.time_limit < settings.CELERY_BROKER_VISIBILITY_TIMEOUT
    # The notification is an email like the others: it leaves through the outbox.
    route = celery_app.amqp.router.route({}, "statements.outbox.tasks.outbox_send")
    assert route["queue"].name == "email"


def test_the_outbox_hands_builds_to_this_task_by_its_name():
    from statements.outbox.tasks import EXPORT_BUILD_TASK

    assert tasks.export_build.name == EXPORT_BUILD_TASK
    assert celery_app.tasks[EXPORT_BUILD_TASK].run.__code__ is tasks.export_build.run.__code__


def test_expiry_runs_periodically():
    tasks_by_name = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "exports.tasks.exports_expire" in tasks_by_name
    assert "exports.tasks.exports_expire" in celery_app.tasks


def test_default_expiry_is_seven_days(statement, build):
    export = build(statement, "csv")
    assert timedelta(days=7) == settings.EXPORT_MAX_AGE
    assert export.expires_at - export.finished_at == timedelta(days=7)


def test_files_are_private(statement, build):
    export = build(statement, "csv")
    path = services.export_path(export)
    assert path == settings.PRIVATE_STORAGE_ROOT / "exports" / f"{export.pk}.csv"
    assert export.file_name == f"exports/{export.pk}.csv"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert not str(path).startswith(str(settings.STATIC_ROOT))


def test_a_writer_error_marks_the_export_failed_and_tells_the_organiser(
    statement, signatures, build, organiser, mailoutbox, monkeypatch, caplog
):
    personal = signatures["ind_kz"].email

    def broken(out, queryset, **kwargs):
        out.write(b"id,kind\n")
        raise ValueError(f"boom with personal data: {personal}")

    monkeypatch.setattr(csvfile, "write_csv", broken)
    export = build(statement, "csv")
    assert export.state == State.FAILED
    assert export.error == "ValueError"  # never the message, which may quote the data
    assert export.finished_at is not None
    # Neither the partial file nor a final one is left behind.
    assert not list((settings.PRIVATE_STORAGE_ROOT / "exports").iterdir())
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [organiser.email]
    assert "could not be built" in message.subject
    assert "ValueError" in message.body and personal not in message.body
    assert "/staff/exports/" in message.body
    # The log says where it failed, never what the data said.
    assert "ValueError" in caplog.text and "broken" in caplog.text
    assert personal not in caplog.text


def test_a_full_disk_is_reported_as_such(statement, build, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xlsx, "write_xlsx", full)
    assert build(statement, "xlsx").error == "OSError (errno 28)"


def test_the_task_failure_handler_marks_the_export_failed(
    statement, organiser, mailoutbox, django_capture_on_commit_callbacks
):
    export = _export(statement, organiser, state=State.RUNNING)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.export_build.on_failure(TimeoutError(), "task-id", (str(export.pk),), {}, None)
    export.refresh_from_db()
    assert export.state == State.FAILED and export.error == "TimeoutError"
    assert len(mailoutbox) == 1


def test_building_is_idempotent(statement, signatures, build, mailoutbox, monkeypatch):
    export = build(statement, "csv")
    assert export.state == State.DONE and len(mailoutbox) == 1
    before = services.export_path(export).read_bytes()

    def never(*args, **kwargs):
        raise AssertionError("a finished export is not built again")

    monkeypatch.setattr(csvfile, "write_csv", never)
    assert services.export_build(export_id=export.pk) is None
    assert tasks.export_build.apply(args=(str(export.pk),)).successful()
    export.refresh_from_db()
    assert export.state == State.DONE and services.export_path(export).read_bytes() == before
    assert len(mailoutbox) == 1


def test_a_redelivered_running_export_starts_over(statement, signatures, organiser):
    export = _export(statement, organiser, state=State.RUNNING, rows_done=3)
    path = services.export_path(export)
    path.parent.mkdir(parents=True)
    path.with_name(path.name + ".part").write_text("half a file from a lost worker")
    built = services.export_build(export_id=export.pk)
    assert built.state == State.DONE and built.rows_done == built.total_rows == 8
    assert path.read_text(encoding="utf-8").startswith("id,kind,kind_name,state")
    assert not path.with_name(path.name + ".part").exists()


def test_unknown_exports_are_ignored(db):
    assert services.export_build(export_id=uuid.uuid4()) is None
    assert services.export_fail(export_id=uuid.uuid4(), error="x") is False


def test_progress_is_recorded_chunk_by_chunk(statement, organiser, monkeypatch):
    SignatureFactory.create_batch(12, statement=statement)
    monkeypatch.setattr("exports.selectors.CHUNK_SIZE", 5)
    monkeypatch.setattr("exports.pgcopy.CHUNK_SIZE", 5)
    export = _export(statement, organiser)
    seen = []
    original = csvfile.write_csv

    def spy(out, queryset, *, on_progress, **kwargs):
        def record(done):
            on_progress(done)
            row = SignatoryExport.objects.get(pk=export.pk)
            seen.append((row.state, row.rows_done, row.total_rows, row.progress))

        return original(out, queryset, on_progress=record, **kwargs)

    monkeypatch.setattr(csvfile, "write_csv", spy)
    services.export_build(export_id=export.pk)
    assert seen == [
        ("running", 5, 12, 41),
        ("running", 10, 12, 83),
        ("running", 12, 12, 99),
    ]
    export.refresh_from_db()
    assert export.progress == 100


def test_expiry_deletes_files_and_marks_exports_expired(statement, build, organiser):
    kept = build(statement, "csv")
    old = build(statement, "json")
    SignatoryExport.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    result = tasks.exports_expire.apply().get()
    assert result["expired"] == 1
    old.refresh_from_db()
    kept.refresh_from_db()
    assert old.state == State.EXPIRED and not services.export_path(old).exists()
    assert kept.state == State.DONE and services.export_path(kept).exists()
    # Running it again changes nothing.
    assert services.exports_expire()["expired"] == 0


def test_expiry_gives_up_on_exports_whose_worker_was_lost(
    statement, organiser, mailoutbox, django_capture_on_commit_callbacks
):
    now = timezone.now()
    lost = _export(statement, organiser, state=State.RUNNING, started_at=now - timedelta(hours=2))
    waiting = _export(statement, organiser, state=State.QUEUED, created_at=now - timedelta(days=2))
    busy = _export(statement, organiser, state=State.RUNNING, started_at=now)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.exports_expire()["given_up"] == 2
    states = dict(SignatoryExport.objects.values_list("pk", "state"))
    assert states[lost.pk] == states[waiting.pk] == State.FAILED
    assert states[busy.pk] == State.RUNNING
    assert len(mailoutbox) == 2


def test_expiry_removes_files_no_export_accounts_for(statement, build):
    export = build(statement, "csv")
    directory = settings.PRIVATE_STORAGE_ROOT / "exports"
    stray = directory / f"{uuid.uuid4()}.csv.part"
    stray.write_text("left by a crash")
    fresh = directory / f"{uuid.uuid4()}.xlsx.part"
    fresh.write_text("an export being written right now")
    two_days_ago = time.time() - 2 * 86400
    for path in (stray, services.export_path(export)):
        os.utime(path, (two_days_ago, two_days_ago))
    assert services.exports_expire()["orphans"] == 1
    assert not stray.exists() and fresh.exists() and services.export_path(export).exists()


def test_a_late_failure_report_leaves_a_finished_export_alone(statement, build, mailoutbox):
    export = build(statement, "csv")
    assert services.export_fail(export_id=export.pk, error="TimeoutError") is False
    export.refresh_from_db()
    assert export.state == State.DONE and services.export_path(export).exists()
    assert len(mailoutbox) == 1
