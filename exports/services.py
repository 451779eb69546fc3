"""Every write of the signatory exports goes through one function here.

An export is a `SignatoryExport` row that moves queued → running → done (or failed), then
expired. Its file lives in private storage, `PRIVATE_STORAGE_ROOT/exports/<uuid>.<ext>`,
never under static files, and is only ever served by the download view, to organisers, with an
audit event per download. Tasks receive the export's id, never personal data.

Requesting an export and telling the organiser go through the outbox (statements/outbox/):
the request writes a hand-off row in its transaction and never waits on the broker, so it
answers at once while the broker is away, and the relay hands the build over once it is back.
"""

import logging
import os
import traceback
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import pgettext

from exports import cells, csvfile, osdi, pdf, xlsx
from exports.models import SignatoryExport
from exports.selectors import (
    XLSX_FIELDS,
    ExportFilters,
    export_queryset,
    iter_chunks,
)
from statements.models import AuditEvent, Signature, Statement
from statements.outbox.models import EmailKind
from statements.outbox.services import email_queue, export_build_queue

logger = logging.getLogger(__name__)

Format = SignatoryExport.Format
State = SignatoryExport.State
Kind = Signature.Kind

ACTIVE = (State.QUEUED, State.RUNNING)
# How many exports one organiser may have waiting or running at once: a long list takes a
# worker for a while, and a double click should not queue it twice.
MAX_ACTIVE_PER_USER = 3
# A running export older than this has lost its worker (the task's hard limit is 1900 s);
# a queued one older than QUEUED_TOO_LONG will not be picked up in any useful time.
RUNNING_TOO_LONG = timedelta(hours=1)
QUEUED_TOO_LONG = timedelta(hours=24)
# Files with no export to account for them (a crash between writing and recording) are
# removed once they are this old.
ORPHAN_AGE = timedelta(days=1)

# Filters that say how the export was asked for rather than what it holds.
PRIVATE_FILTERS = ("email_language", "notify")

EXTENSIONS = {Format.CSV: "csv", Format.XLSX: "xlsx", Format.JSON: "json", Format.PDF: "pdf"}
CONTENT_TYPES = {
    Format.CSV: "text/csv; charset=utf-8",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.JSON: "application/json",
    Format.PDF: "application/pdf",
}


class TooManyExports(Exception):
    """The organiser already has MAX_ACTIVE_PER_USER exports waiting or running."""


# --- Storage --------------------------------------------------------------------------------


def export_dir() -> Path:
    return Path(settings.PRIVATE_STORAGE_ROOT) / "exports"


def export_path(export: SignatoryExport) -> Path:
    return export_dir() / f"{export.pk}.{EXTENSIONS[export.format]}"


def download_name(export: SignatoryExport) -> str:
    """What the file is called when downloaded: what it holds, in the list's language —
    statement, kinds, language, date — e.g. kazakhstan-2022_organisations_en_2026-11-30.pdf."""
    filters = ExportFilters.from_json(export.filters)
    kinds = set(filters.kinds)
    with translation.override(filters.language):
        if kinds == {Kind.ORGANISATION}:
            what = pgettext("file name", "organisations")
        elif kinds == {Kind.INDIVIDUAL}:
            what = pgettext("file name", "individuals")
        else:
            what = pgettext("file name", "organisations-and-individuals")
    day = timezone.localdate(export.finished_at or export.created_at).isoformat()
    parts = (export.statement.slug, slugify(what, allow_unicode=True), filters.language, day)
    return "_".join(parts) + "." + EXTENSIONS[export.format]


def _remove_files(export_id, format: str) -> None:
    final = export_dir() / f"{export_id}.{EXTENSIONS[format]}"
    for path in (final, final.with_name(final.name + ".part")):
        path.unlink(missing_ok=True)


# --- Requesting -----------------------------------------------------------------------------


@transaction.atomic(durable=True)
def export_request(
    *, statement: Statement, requested_by, format: str, filters: ExportFilters | dict
) -> SignatoryExport:
    """Record an organiser's request, audit it and queue the build (a hand-off row in this
    transaction; no broker round trip).

    The export's id is a random UUID, so its pages and download cannot be found by counting.
    """
    if format not in Format.values:
        raise ValueError(f"unknown export format {format!r}")
    if isinstance(filters, dict):
        filters = ExportFilters.from_json(filters)
    active = SignatoryExport.objects.filter(requested_by=requested_by, state__in=ACTIVE)
    if active.count() >= MAX_ACTIVE_PER_USER:
        raise TooManyExports
    now = timezone.now()
    export = SignatoryExport.objects.create(
        statement=statement,
        requested_by=requested_by,
        format=format,
        filters=filters.to_json(),
        created_at=now,
        expires_at=now + settings.EXPORT_MAX_AGE,
    )
    AuditEvent.objects.create(
        actor=requested_by,
        action="export_requested",
        data={
            "export": str(export.pk),
            "statement": statement.slug,
            "format": format,
            "filters": export.filters,
        },
    )
    export_build_queue(export=export)
    return export


# --- Building (called by the task) ----------------------------------------------------------


def _short_error(exc: BaseException) -> str:
    """What the organiser is told went wrong: the kind of error, never its message, which may
    quote the data being exported."""
    name = type(exc).__name__
    if isinstance(exc, OSError) and exc.errno:
        return f"{name} (errno {exc.errno})"
    return name


def _progress(export_id):
    def report(done: int) -> None:
        # One cheap UPDATE a chunk, which the progress endpoint reads.
        SignatoryExport.objects.filter(pk=export_id, state=State.RUNNING).update(rows_done=done)

    return report


def _count(export: SignatoryExport) -> int:
    if export.format == Format.PDF:
        return pdf.publishable_count(export)
    return export_queryset(export).count()


def _write(export: SignatoryExport, path: Path) -> int:
    """Write the export's file to `path`; returns the number of signatures in it. The writers
    are looked up when called, so one can be replaced in a test."""
    filters = ExportFilters.from_json(export.filters)
    on_progress = _progress(export.pk)
    if export.format == Format.PDF:
        return pdf.write_pdf(path, export, on_progress=on_progress)
    queryset = export_queryset(export)
    names = cells.code_names(filters.language)
    if export.format == Format.CSV:
        with open(path, "wb", buffering=1 << 20) as out:
            return csvfile.write_csv(
                out, queryset, names=names, bom=filters.bom, on_progress=on_progress
            )
    if export.format == Format.XLSX:
        return xlsx.write_xlsx(
            path,
            iter_chunks(queryset, XLSX_FIELDS),
            names=names,
            language=filters.language,
            on_progress=on_progress,
        )
    meta = {
        "statement": export.statement.slug,
        "export": str(export.pk),
        "generated_date": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "filters": {k: v for k, v in export.filters.items() if k not in PRIVATE_FILTERS},
    }
    records = osdi.Records(names=names, statement_href=pdf.statement_link(export, filters.language))
    with open(path, "w", encoding="utf-8", newline="", buffering=1 << 20) as out:
        return osdi.write_json(
            out,
            iter_chunks(queryset),
            records=records,
            meta=meta,
            self_href=settings.SITE_URL
            + reverse("staff:export_detail", kwargs={"export_id": export.pk}),
            on_progress=on_progress,
        )


def export_build(*, export_id) -> SignatoryExport | None:
    """Build an export's file. Idempotent: an export that is done, failed or expired is left
    alone, and one found running (its worker died and the task was delivered again) starts
    over, writing beside the final file and replacing it only once complete.

    Any error marks the export failed and tells the organiser; the task itself then ends
    normally, as trying the same list again would fail the same way.
    """
    started = timezone.now()
    claimed = SignatoryExport.objects.filter(pk=export_id, state__in=ACTIVE).update(
        state=State.RUNNING, started_at=started, rows_done=0, error=""
    )
    if not claimed:
        logger.info("export %s is not waiting to be built; nothing to do", export_id)
        return None
    export = SignatoryExport.objects.select_related("statement").get(pk=export_id)
    final = export_path(export)
    partial = final.with_name(final.name + ".part")
    try:
        total = _count(export)
        SignatoryExport.objects.filter(pk=export.pk).update(total_rows=total)
        final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        rows = _write(export, partial)
        os.chmod(partial, 0o600)
        os.replace(partial, final)
    except Exception as exc:
        # Where it failed, but not the exception's message: it may quote the data.
        logger.error(
            "export %s failed: %s\n%s",
            export_id,
            _short_error(exc),
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        export_fail(export_id=export_id, error=_short_error(exc))
        return SignatoryExport.objects.get(pk=export_id)
    finished = timezone.now()
    # The state and the email telling of it are committed together.
    with transaction.atomic():
        done = SignatoryExport.objects.filter(pk=export.pk, state=State.RUNNING).update(
            state=State.DONE,
            rows_done=rows,
            total_rows=rows,
            file_name=str(final.relative_to(Path(settings.PRIVATE_STORAGE_ROOT))),
            file_size=final.stat().st_size,
            finished_at=finished,
            expires_at=finished + settings.EXPORT_MAX_AGE,
        )
        if done:
            _notify(export.pk, EmailKind.EXPORT_READY)
    if not done:
        # Given up on meanwhile (see exports_expire): the file is not accounted for.
        final.unlink(missing_ok=True)
        return None
    logger.info(
        "export %s done: %d rows in %.1f s", export_id, rows, (finished - started).total_seconds()
    )
    return SignatoryExport.objects.get(pk=export.pk)


def export_fail(*, export_id, error: str) -> bool:
    """Mark a waiting or running export failed, remove any partial file and tell the
    organiser. Returns whether the export was changed (a second call changes nothing)."""
    export = SignatoryExport.objects.filter(pk=export_id).only("format").first()
    if export is None:
        return False
    with transaction.atomic():
        failed = SignatoryExport.objects.filter(pk=export_id, state__in=ACTIVE).update(
            state=State.FAILED,
            error=error[:300],
            finished_at=timezone.now(),
        )
        if failed:
            _notify(export_id, EmailKind.EXPORT_FAILED)
    if failed:
        _remove_files(export_id, export.format)
    return bool(failed)


def _notify(export_id, kind: str) -> None:
    """Queue the "ready" or "failed" email to the organiser who asked (unless they asked not
    to be told), in their language."""
    export = SignatoryExport.objects.only("pk", "filters").get(pk=export_id)
    filters = ExportFilters.from_json(export.filters)
    if filters.notify:
        email_queue(kind=kind, export=export, language=filters.email_language)


# --- Downloading ----------------------------------------------------------------------------


def is_downloadable(export: SignatoryExport, *, now=None) -> bool:
    return export.state == State.DONE and export.expires_at > (now or timezone.now())


def export_download_record(*, export: SignatoryExport, user) -> AuditEvent:
    """Audit one download: who took which list, when."""
    return AuditEvent.objects.create(
        actor=user,
        action="export_downloaded",
        data={
            "export": str(export.pk),
            "statement": export.statement.slug,
            "format": export.format,
            "rows": export.total_rows,
        },
    )


# --- Expiry (periodic) ----------------------------------------------------------------------


def exports_expire(*, now=None) -> dict[str, int]:
    """Delete the files of exports past their expiry and mark them expired; give up on
    exports whose worker was lost; remove files no export accounts for."""
    now = now or timezone.now()
    expired = list(
        SignatoryExport.objects.filter(state=State.DONE, expires_at__lte=now).values_list(
            "pk", "format"
        )
    )
    for export_id, format in expired:
        _remove_files(export_id, format)
    if expired:
        SignatoryExport.objects.filter(
            pk__in=[pk for pk, _ in expired], state=State.DONE, expires_at__lte=now
        ).update(state=State.EXPIRED)

    stale = SignatoryExport.objects.filter(
        state=State.RUNNING, started_at__lt=now - RUNNING_TOO_LONG
    ) | SignatoryExport.objects.filter(state=State.QUEUED, created_at__lt=now - QUEUED_TOO_LONG)
    given_up = sum(
        export_fail(export_id=pk, error="timed out") for pk in stale.values_list("pk", flat=True)
    )

    orphans = _remove_orphans(now)
    if expired or given_up or orphans:
        logger.info(
            "exports: %d expired, %d given up, %d orphan files removed",
            len(expired),
            given_up,
            orphans,
        )
    return {"expired": len(expired), "given_up": given_up, "orphans": orphans}


def _remove_orphans(now) -> int:
    directory = export_dir()
    if not directory.is_dir():
        return 0
    cutoff = (now - ORPHAN_AGE).timestamp()
    candidates: dict[uuid.UUID | None, list[Path]] = {}
    for path in directory.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            try:
                export_id = uuid.UUID(path.name.split(".", 1)[0])
            except ValueError:
                export_id = None
            candidates.setdefault(export_id, []).append(path)
    if not candidates:
        return 0
    accounted = set(
        SignatoryExport.objects.filter(
            pk__in=[pk for pk in candidates if pk], state__in=(*ACTIVE, State.DONE)
        ).values_list("pk", flat=True)
    )
    removed = 0
    for export_id, paths in candidates.items():
        if export_id in accounted:
            continue
        for path in paths:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
