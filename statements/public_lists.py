"""The public lists, `signatories.csv` and `signatories.json` under a statement and language.

They are files, built by a Celery task (statements/public_files.py) and served by nginx
as static files: no request ever reads them from the database, so asking for them cannot slow
the site down however long they are and however many ask. Whenever the public set changes (a
confirmation, a moderation decision, a withdrawal, an invalidation: the same moments the
public counts change), `lists_changed` queues a build, at most one per PUBLIC_LISTS_SECONDS;
the periodic `public_lists_refresh` builds missing lists and those older than
PUBLIC_LISTS_MAX_AGE (a name edited in the admin changes no count).

Where nginx is not in front (the embedded default, tests), Django serves the same files. A
list not built yet is queued, and answered with a 503 that asks to come back shortly.
"""

import logging
import os

from django.conf import settings
from django.dispatch import receiver
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import http_date
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from ops.routers import reads_from_replica
from statements import selectors
from statements.caching import shared
from statements.public_files import list_path
from statements.signals import public_set_changed
from statements.tasks import public_lists_build_queue

logger = logging.getLogger(__name__)

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@receiver(public_set_changed)
def lists_changed(sender=None, *, statement_id: int, **kwargs) -> None:
    """Queue a build of the statement's public lists, unless one is already queued (see
    public_files.claim_build). Runs after commit, whenever the public set changed."""
    try:
        public_lists_build_queue(statement_id)
    except Exception:
        # The periodic refresh builds it later; the change itself is committed.
        logger.warning("could not queue a build of the public lists of statement %d", statement_id)


def _serve(request: HttpRequest, slug: str, format: str) -> HttpResponse:
    statement = selectors.statement_get_cached(slug)
    path = list_path(statement.slug, get_language(), format)
    if not path.exists():
        # Built in the request only where tasks run in-process (the embedded default).
        lists_changed(statement_id=statement.pk)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        response = render(request, "statements/list_pending.html", status=503)
        response["Retry-After"] = str(settings.PUBLIC_LISTS_SECONDS)
        return response
    stat = os.fstat(handle.fileno())
    response = FileResponse(handle, content_type=CONTENT_TYPES[format])
    response["Content-Disposition"] = f'inline; filename="{statement.slug}-signatories.{format}"'
    response["Last-Modified"] = http_date(stat.st_mtime)
    response["ETag"] = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    return response


@shared
@require_safe
@reads_from_replica
def signatories_csv(request: HttpRequest, slug: str) -> HttpResponse:
    return _serve(request, slug, "csv")


@shared
@require_safe
@reads_from_replica
def signatories_json(request: HttpRequest, slug: str) -> HttpResponse:
    return _serve(request, slug, "json")
