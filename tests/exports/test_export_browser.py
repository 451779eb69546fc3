"""In a real browser, the export page's progress bar follows the export without a reload and
reveals the download link when the list is done; nothing breaks the CSP."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from statements.content import load_all
from statements.exports import services
from statements.models import SignatoryExport, StaffRole, Statement
from tests.staff.helpers import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_progress_bar_follows_the_export_and_reveals_the_download(page, live_server):
    load_all()
    statement = Statement.objects.get(slug="kazakhstan-2022")
    organiser = make_user("organiser@example.net", role=StaffRole.ORGANISER)
    export = SignatoryExport.objects.create(
        statement=statement,
        requested_by=organiser,
        format="csv",
        filters={},
        state=SignatoryExport.State.RUNNING,
        total_rows=200,
        rows_done=20,
        started_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=7),
    )
    client = Client()
    client.force_login(organiser)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    csp_errors = []
    page.on(
        "console",
        lambda message: (
            csp_errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    page.goto(f"/staff/exports/{export.pk}/")
    bar = page.locator("progress#export-progress")
    assert bar.get_attribute("value") == "10"
    download = page.get_by_role("link", name=re.compile("Download"))
    assert not download.is_visible()

    # No reload: the page polls the progress endpoint.
    SignatoryExport.objects.filter(pk=export.pk).update(rows_done=120)
    expect(page.locator('[data-field="rows_done"]')).to_have_text("120")
    expect(bar).to_have_attribute("value", "60")

    path = services.export_path(export)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"id,kind\n1,individual\n")
    SignatoryExport.objects.filter(pk=export.pk).update(
        state=SignatoryExport.State.DONE, rows_done=200, finished_at=timezone.now()
    )
    expect(download).to_be_visible()
    expect(page.locator('[data-field="state_label"]')).to_have_text("Done")
    expect(bar).to_have_attribute("value", "100")

    with page.expect_download() as info:
        download.click()
    assert info.value.suggested_filename.startswith("kazakhstan-2022-signatories-")
    assert Path(info.value.path()).read_bytes() == b"id,kind\n1,individual\n"
    assert not csp_errors, csp_errors
