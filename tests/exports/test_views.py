"""The staff pages: request, progress (page and JSON), download; who may use them."""

import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from exports import services
from exports.models import SignatoryExport
from statements.models import AuditEvent
from tests.exports.helpers import expected_table, read_csv

State = SignatoryExport.State


def _urls(export_id) -> list[str]:
    return [
        reverse("staff:export_detail", kwargs={"export_id": export_id}),
        reverse("staff:export_progress", kwargs={"export_id": export_id}),
        reverse("staff:export_download", kwargs={"export_id": export_id}),
    ]


def _queued(statement, organiser, **fields) -> SignatoryExport:
    values = {
        "statement": statement,
        "requested_by": organiser,
        "format": "csv",
        "filters": {},
        "expires_at": timezone.now() + timedelta(days=7),
    }
    values.update(fields)
    return SignatoryExport.objects.create(**values)


def test_urls_are_under_staff_exports():
    assert reverse("staff:exports") == "/staff/exports/"
    export_id = uuid.uuid4()
    assert _urls(export_id) == [
        f"/staff/exports/{export_id}/",
        f"/staff/exports/{export_id}/progress.json",
        f"/staff/exports/{export_id}/download/",
    ]


def test_export_ids_are_random_uuids(statement, organiser):
    first, second = _queued(statement, organiser), _queued(statement, organiser)
    assert first.pk.version == 4 and first.pk != second.pk


def test_anonymous_visitors_are_sent_to_login_and_never_get_a_file(client, statement, build):
    export = build(statement, "csv")
    for url in [reverse("staff:exports"), *_urls(export.pk)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    assert not AuditEvent.objects.filter(action="export_downloaded").exists()


def test_moderators_are_refused(client, moderator, statement, build):
    export = build(statement, "csv")
    client.force_login(moderator)
    for url in [reverse("staff:exports"), *_urls(export.pk)]:
        assert client.get(url).status_code == 403
    assert client.post(reverse("staff:exports"), {"format": "csv"}).status_code == 403
    assert not AuditEvent.objects.filter(action="export_downloaded").exists()


def test_people_outside_the_staff_are_refused(client, statement, build, django_user_model):
    export = build(statement, "csv")
    client.force_login(django_user_model.objects.create_user("someone@example.org"))
    for url in _urls(export.pk):
        assert client.get(url).status_code == 403


def test_a_random_id_is_not_found(organiser_client):
    for url in _urls(uuid.uuid4()):
        assert organiser_client.get(url).status_code == 404


def test_mfa_is_required_when_configured(organiser_client, statement, build, settings):
    export = build(statement, "csv")
    settings.STAFF_REQUIRE_MFA = True
    response = organiser_client.get(_urls(export.pk)[2])
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")


def test_request_form_page(organiser_client, statement):
    response = organiser_client.get(reverse("staff:exports"))
    assert response.status_code == 200
    body = response.content.decode()
    for name in ("statement", "format", "kinds", "states", "countries", "date_from", "date_to"):
        assert f'name="{name}"' in body
    # The published states are ticked by default; every field has a label or a legend.
    assert re.search(r'value="confirmed"[^>]*checked', body)
    assert re.search(r'value="approved"[^>]*checked', body)
    assert not re.search(r'value="rejected"[^>]*checked', body)
    assert "<legend" in body and '<label for="id_countries_0"' in body
    assert "<script>" not in body and "style=" not in body
    # Countries are checkboxes with labels, not a multiple <select>.
    assert '<select name="countries"' not in body and "multiple>" not in body
    assert re.search(
        r'<input type="checkbox" name="countries" value="KZ" id="id_countries_\d+"', body
    )
    assert re.search(r'<label for="id_countries_\d+">Kazakhstan</label>', body)
    # The email is asked for by default; the organiser may untick it.
    assert re.search(r'<input type="checkbox" name="notify"[^>]*checked', body)


@pytest.mark.parametrize(("interface", "expected"), [("en", "en"), ("ru", "ru"), ("es", "es")])
def test_the_list_language_starts_as_the_organisers(organiser, statement, interface, expected):
    from django.test import Client

    client = Client(headers={"Accept-Language": interface})
    client.force_login(organiser)
    body = client.get(reverse("staff:exports")).content.decode()
    selected = re.findall(r'<option value="(\w+)" selected>', body)
    assert selected[-1] == expected


@pytest.mark.parametrize("format", ["csv", "xlsx", "json", "pdf"])
def test_an_organiser_requests_watches_and_downloads(
    organiser_client,
    organiser,
    statement,
    signatures,
    format,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    data = {
        "statement": statement.pk,
        "format": format,
        "kinds": ["organisation", "individual"],
        "states": ["confirmed", "approved"],
        "language": "es",
        "notify": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(reverse("staff:exports"), data)
    export = SignatoryExport.objects.get()
    detail, progress, download = _urls(export.pk)
    assert response.status_code == 302 and response["Location"] == detail
    assert export.state == State.DONE and export.requested_by == organiser
    requested = AuditEvent.objects.get(action="export_requested")
    assert requested.actor == organiser and requested.data["export"] == str(export.pk)

    # The page shows the progress bar, and the JSON endpoint says the same.
    page = organiser_client.get(detail).content.decode()
    assert '<progress id="export-progress" max="100" value="100">' in page
    assert "export-progress.js" in page and f'href="{download}"' in page
    status = organiser_client.get(progress).json()
    assert status == {
        "state": "done",
        "state_label": status["state_label"],
        "progress": 100,
        "rows_done": export.total_rows,
        "total_rows": export.total_rows,
        "error": "",
        "download_url": download,
    }

    # The organiser is told, with a link to the page.
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [organiser.email]
    assert f"http://127.0.0.1:8000{detail}" in message.body
    assert f"http://127.0.0.1:8000{detail}" in message.alternatives[0][0]

    response = organiser_client.get(download)
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content == services.export_path(export).read_bytes()
    assert response["Content-Type"] == services.CONTENT_TYPES[format]
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control and "public" not in cache_control
    assert response["Content-Disposition"].startswith("attachment;")
    assert "kazakhstan-2022_organizaciones-y-personas_es_" in response["Content-Disposition"]
    downloaded = AuditEvent.objects.get(action="export_downloaded")
    assert downloaded.actor == organiser and downloaded.data["export"] == str(export.pk)
    if format == "csv":
        assert read_csv(content)[1] == expected_table(
            signatures[k]
            for k in (
                "org_kz",
                "org_ar",
                "org_markup",
                "ind_kz",
                "ind_formula",
                "ind_multiline",
                "ind_hidden",
                "ind_old",
            )
        )


def test_progress_while_running(organiser_client, statement, organiser):
    export = _queued(statement, organiser, state=State.RUNNING, total_rows=200, rows_done=50)
    detail, progress, download = _urls(export.pk)
    assert organiser_client.get(progress).json() == {
        "state": "running",
        "state_label": "Running",
        "progress": 25,
        "rows_done": 50,
        "total_rows": 200,
        "error": "",
        "download_url": None,
    }
    page = organiser_client.get(detail).content.decode()
    # Without JavaScript, a reload shows the same: the bar, the figures and a reload link.
    assert '<progress id="export-progress" max="100" value="25">25%</progress>' in page
    assert '<span data-field="rows_done">50</span>' in page
    assert '<span data-field="total_rows">200</span>' in page
    assert re.search(r'<div data-when="done" hidden>', page)
    assert "no-store" in organiser_client.get(progress)["Cache-Control"]
    assert organiser_client.get(download).status_code == 404


def test_failed_export_page(organiser_client, statement, organiser):
    export = _queued(statement, organiser, state=State.FAILED, error="OSError (errno 28)")
    detail, progress, download = _urls(export.pk)
    assert organiser_client.get(progress).json()["error"] == "OSError (errno 28)"
    page = organiser_client.get(detail).content.decode()
    assert re.search(r'<div data-when="failed">', page) and "OSError (errno 28)" in page
    assert organiser_client.get(download).status_code == 404


def test_expired_downloads_are_gone(organiser_client, statement, build):
    export = build(statement, "csv")
    download = _urls(export.pk)[2]
    SignatoryExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert organiser_client.get(download).status_code == 410
    services.exports_expire()
    assert organiser_client.get(download).status_code == 410
    page = organiser_client.get(_urls(export.pk)[0]).content.decode()
    assert re.search(r'<div data-when="expired">', page)
    assert not AuditEvent.objects.filter(action="export_downloaded").exists()


def test_invalid_requests_are_shown_again(organiser_client, statement):
    data = {
        "statement": statement.pk,
        "format": "csv",
        "kinds": ["individual"],
        "states": ["confirmed"],
        "language": "es",
        "date_from": "2022-02-01",
        "date_to": "2022-01-01",
    }
    response = organiser_client.post(reverse("staff:exports"), data)
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
    response = organiser_client.post(reverse("staff:exports"), {**data, "format": "docx"})
    assert response.status_code == 400
    assert not SignatoryExport.objects.exists()


def test_too_many_waiting_exports(organiser_client, statement, organiser):
    for _ in range(services.MAX_ACTIVE_PER_USER):
        _queued(statement, organiser)
    data = {
        "statement": statement.pk,
        "format": "csv",
        "kinds": ["individual"],
        "states": ["confirmed"],
        "language": "es",
    }
    response = organiser_client.post(reverse("staff:exports"), data)
    assert response.status_code == 400
    assert SignatoryExport.objects.count() == services.MAX_ACTIVE_PER_USER


def test_an_organiser_who_watches_may_do_without_the_email(
    organiser_client, statement, signatures, mailoutbox, django_capture_on_commit_callbacks
):
    data = {
        "statement": statement.pk,
        "format": "csv",
        "kinds": ["individual"],
        "states": ["confirmed"],
        "language": "en",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(reverse("staff:exports"), data, follow=True)
    export = SignatoryExport.objects.get()
    assert export.state == State.DONE and export.filters["notify"] is False
    assert mailoutbox == []
    assert "This page shows its progress." in response.content.decode()


def test_list_of_recent_exports(organiser_client, statement, build):
    export = build(statement, "xlsx", language="ru", kinds=("organisation",), countries=("KZ",))
    body = organiser_client.get(reverse("staff:exports")).content.decode()
    assert _urls(export.pk)[0] in body and "XLSX" in body
    row = re.search(r"<tr>\s*<td data-label=\"Requested\">.*?</tr>", body, re.S).group(0)
    # By title, with its language and what it holds, in the organiser's language.
    title = statement.translations.get(language="en").title
    assert f">{escape(title)}</td>" in row
    assert ">Russian</td>" in row
    assert "Organisation; Confirmed, Approved; Kazakhstan" in row


def test_a_pdf_too_long_to_print_is_refused_with_a_word_why(
    organiser_client, statement, signatures, monkeypatch
):
    from exports import pdf

    monkeypatch.setattr(pdf, "MAX_ENTRIES", 2)
    data = {
        "statement": statement.pk,
        "format": "pdf",
        "kinds": ["organisation", "individual"],
        "states": ["confirmed", "approved"],
        "countries": ["KZ", "AR"],
        "language": "en",
    }
    response = organiser_client.post(reverse("staff:exports"), data)
    assert response.status_code == 400
    body = response.content.decode()
    # Three organisations and two listed people in Kazakhstan and Argentina.
    assert "This list has 5 names to print, more than a PDF can hold (2)." in body
    # The form comes back as it was sent.
    assert re.search(r'value="pdf"[^>]*checked', body)
    assert re.search(r'value="KZ"[^>]*checked', body) and re.search(r'value="AR"[^>]*checked', body)
    assert not SignatoryExport.objects.exists()
    # Narrowed to one country, it fits.
    response = organiser_client.post(reverse("staff:exports"), {**data, "countries": ["AR"]})
    assert response.status_code == 302


def test_a_list_that_grew_too_long_fails_at_build_time(statement, signatures, build, monkeypatch):
    from exports import pdf

    monkeypatch.setattr(pdf, "MAX_ENTRIES", 2)
    export = build(statement, "pdf")
    assert export.state == State.FAILED and export.error == "TooLongToPrint"
