"""Public POSTs take no files and no large bodies, refused before anything parses them."""

import io
from unittest import mock

import pytest
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from statements.models import Signature
from tests.statements.test_signing import INDIVIDUAL, SIGN_URL, links, path_of, sign


def _multipart(data: dict) -> bytes:
    return encode_multipart(BOUNDARY, data)


def _file(size: int, name: str = "payload.bin") -> io.BytesIO:
    upload = io.BytesIO(b"x" * size)
    upload.name = name
    return upload


def _parsing_forbidden():
    return mock.patch.object(MultiPartParser, "parse", side_effect=AssertionError("parsed"))


@pytest.fixture
def no_parsing():
    """Fails the test if a multipart body is parsed at all."""
    with _parsing_forbidden():
        yield


@pytest.mark.parametrize("size", [5 * 1024 * 1024, 300 * 1024])
def test_a_large_multipart_upload_is_refused_before_it_is_parsed(
    client, statement, no_parsing, size
):
    body = _multipart({**INDIVIDUAL, "attachment": _file(size)})
    response = client.generic("POST", SIGN_URL, body, content_type=MULTIPART_CONTENT)
    assert response.status_code == 413
    assert Signature.objects.count() == 0


def test_links_refuse_large_bodies_too(client, statement, django_capture_on_commit_callbacks):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        sign(client, INDIVIDUAL)
    urls = links(mail.outbox[0])
    for url in urls.values():
        body = _multipart({"attachment": _file(1024 * 1024)})
        with _parsing_forbidden():
            response = client.generic("POST", path_of(url), body, content_type=MULTIPART_CONTENT)
        assert response.status_code == 413
    assert Signature.objects.get().state == Signature.State.PENDING


def test_a_small_file_in_a_public_form_is_never_stored(client, statement):
    """The form's fields are read; the file part is skipped, neither in memory nor on disk."""
    refuse = mock.Mock(side_effect=AssertionError("a file was stored"))
    with (
        mock.patch.object(MemoryFileUploadHandler, "receive_data_chunk", refuse),
        mock.patch.object(TemporaryFileUploadHandler, "receive_data_chunk", refuse),
    ):
        response = client.post(SIGN_URL, {**INDIVIDUAL, "attachment": _file(10 * 1024)})
    assert response.status_code == 302
    assert Signature.objects.count() == 1


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "application/octet-stream"]
)
def test_other_kinds_of_body_are_refused(client, statement, content_type):
    response = client.generic("POST", SIGN_URL, b'{"a": 1}', content_type=content_type)
    assert response.status_code == 415
    assert Signature.objects.count() == 0


def test_the_paper_import_still_takes_its_file(client, db, settings):
    """The staff route that expects a file is the exception (its own size limit applies)."""
    from statements.bodies import RequestBodyLimitMiddleware

    seen = {}

    def view(request):
        seen["files"] = list(request.FILES)
        from django.http import HttpResponse

        return HttpResponse("ok")

    from django.test import RequestFactory

    body = _multipart({"file": _file(400 * 1024, "signatures.csv")})
    request = RequestFactory().generic(
        "POST", "/staff/paper/", body, content_type=MULTIPART_CONTENT
    )
    assert RequestBodyLimitMiddleware(view)(request).status_code == 200
    assert seen["files"] == ["file"]
    settings.UPLOAD_MAX_BYTES = 100 * 1024
    request = RequestFactory().generic(
        "POST", "/staff/paper/", body, content_type=MULTIPART_CONTENT
    )
    assert RequestBodyLimitMiddleware(view)(request).status_code == 413
