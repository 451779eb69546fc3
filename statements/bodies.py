"""Request bodies the site accepts, checked before anything reads them.

Defends against uploads nobody asked for: the public forms (signing, confirming, withdrawing,
the language switch, staff sign-in) hold a few short fields, yet Django parses a multipart body
of any size, spooling its files to disk, as soon as anything reads request.POST, and the CSRF
check does so before any view could refuse. So, from the headers alone:

- a body larger than its route allows is refused with 413 (DATA_UPLOAD_MAX_MEMORY_SIZE for
  forms; UPLOAD_MAX_BYTES where a file is expected);
- a body that is not a form (URL-encoded or multipart) is refused with 415;
- and, except on the routes that take a file (the staff's paper-signature import, the admin),
  the request's upload handlers are replaced by one that skips every file part, so that a
  file in a form is never stored, in memory or on disk.

A body whose length is not declared is never read by Django (it reads CONTENT_LENGTH bytes).
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpResponse
from django.utils.translation import gettext as _

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# Paths whose views take a file.
UPLOAD_PREFIXES = ("/staff/paper/", "/admin/")


class NoFiles(FileUploadHandler):
    """Skips every file part of a multipart body: these forms have no file field."""

    def new_file(self, *args, **kwargs):
        raise SkipFile

    def receive_data_chunk(self, raw_data, start):  # pragma: no cover - never after SkipFile
        return None

    def file_complete(self, file_size):  # pragma: no cover - never after SkipFile
        return None


def _refusal(message: str, status: int) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["Connection"] = "close"  # the body is left unread
    return response


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refusal(_("The request's length is not a number."), 400)
        if length <= 0:
            return self.get_response(request)
        content_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        upload = request.path_info.startswith(UPLOAD_PREFIXES)
        limit = settings.UPLOAD_MAX_BYTES if upload else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > limit:
            return _refusal(_("The request is too large."), 413)
        if content_type not in {FORM, MULTIPART}:
            return _refusal(_("This address accepts form data only."), 415)
        if not upload:
            request.upload_handlers = [NoFiles(request)]
        return self.get_response(request)
