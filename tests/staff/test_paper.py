"""Paper signatures: an organiser uploads a spreadsheet, every row is checked before anything
is saved, duplicates are skipped, the counts say how many came on paper, and the whole import
can be undone; everything audited."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from statements import counters
from statements.models import AuditEvent, PaperImport, Signature
from tests.factories import OrganisationFactory, SignatureFactory

HEADER = (
    "kind,full_name,email,country,city,show_publicly,organisation_name,organisation_type,signed_on"
)
GOOD_ROWS = [
    "individual,Aigerim Bekova,aigerim@example.kz,KZ,Almaty,yes,,,2022-01-20",
    ",Nurlan Sadykov,,Kazakhstan,Shymkent,no,,,",  # no address: allowed on paper
    "organisation,Daniyar Omarov,union@example.kz,KZ,Aktau,,Oil Workers' Union,trade_union,",
    "individual,Jane Online,JANE.ONLINE+paper@example.org,AR,,,,,",  # signed online already
    "individual,Aigerim B.,aigerim@example.kz,KZ,,,,,",  # the same as the first row
]


def _csv(*rows: str) -> SimpleUploadedFile:
    body = "\n".join([HEADER, *rows]) + "\n"
    return SimpleUploadedFile("meeting.csv", body.encode(), content_type="text/csv")


def _upload(client, statement, upload, language="en"):
    return client.post(
        reverse("staff:paper"),
        {"statement": statement.pk, "file": upload},
        HTTP_ACCEPT_LANGUAGE=language,
    )


@pytest.fixture
def online(statement):
    return SignatureFactory(statement=statement, email="jane.online@example.org", country="AR")


def test_valid_file_is_imported_with_duplicates_skipped(
    organiser_client, organiser, statement, online, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(organiser_client, statement, _csv(*GOOD_ROWS))
    assert response.status_code == 200
    body = response.content.decode()
    assert "3 signatures imported, 2 duplicates skipped." in body
    assert "this address has signed already" in body and "same address as row 2" in body
    paper = Signature.objects.filter(source="paper").order_by("pk")
    assert [(s.full_name, s.state, s.email_key) for s in paper] == [
        ("Aigerim Bekova", "confirmed", "aigerim@example.kz"),
        ("Nurlan Sadykov", "confirmed", ""),
        ("Daniyar Omarov", "approved", "union@example.kz"),
    ]
    assert paper[0].confirmed_at.date().isoformat() == "2022-01-20"
    assert paper[2].organisation_name == "Oil Workers' Union" and paper[2].show_publicly
    imported = PaperImport.objects.get()
    assert (imported.row_count, imported.imported_count, imported.duplicate_count) == (5, 3, 2)
    event = AuditEvent.objects.get(action="paper_import.imported")
    assert event.actor == organiser and event.data["imported"] == 3
    # Counted, and separately as on paper; no email goes to people who signed on paper.
    assert counters.get_counts(statement.pk) == {
        "individual": 3,
        "organisation": 1,
        "paper_individual": 2,
        "paper_organisation": 1,
    }
    counts = organiser_client.get(f"/api/statements/{statement.slug}/counts.json").json()
    assert counts["individuals_on_paper"] == 2 and counts["organisations_on_paper"] == 1
    page = organiser_client.get("/", HTTP_ACCEPT_LANGUAGE="en", follow=True).content.decode()
    assert "(of which 2 on paper)" in page and "(of which 1 on paper)" in page
    from django.core import mail

    assert mail.outbox == []


def test_one_bad_row_saves_nothing_and_every_problem_is_reported(
    organiser_client, statement, online
):
    rows = [
        *GOOD_ROWS[:3],
        "individual,,someone@example.org,KZ,,,,,",  # row 5: no name
        "individual,Bad Mail,not-an-address,Atlantis,,maybe,,,2999-01-01",  # row 6
        "organisation,Contact,org@example.org,KZ,,,,union,",  # row 7: no name, bad type
    ]
    before = Signature.objects.count()
    response = _upload(organiser_client, statement, _csv(*rows))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was imported" in body
    problems = re.findall(r'<tr><td class="num">(\d+)</td><td><code>(\w+)</code></td>', body)
    assert problems == [
        ("5", "full_name"),
        ("6", "email"),
        ("6", "country"),
        ("6", "show_publicly"),
        ("6", "signed_on"),
        ("7", "organisation_name"),
        ("7", "organisation_type"),
    ]
    assert Signature.objects.count() == before
    assert not PaperImport.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="paper_import").exists()


def test_unknown_columns_are_refused(organiser_client, statement):
    upload = SimpleUploadedFile("x.csv", b"full_name,emial,country\nA,a@example.org,KZ\n")
    response = _upload(organiser_client, statement, upload)
    assert response.status_code == 400
    assert "Unknown columns: emial." in response.content.decode()
    assert not Signature.objects.exists()


def test_xlsx_file_is_imported(organiser_client, statement):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Full name", "Country", "Email", "Signed on"])
    sheet.append(["Асель Жунусова", "KZ", "asel@example.kz", "2022-01-21"])
    data = io.BytesIO()
    workbook.save(data)
    upload = SimpleUploadedFile("meeting.xlsx", data.getvalue())
    assert _upload(organiser_client, statement, upload).status_code == 200
    assert Signature.objects.get(source="paper").full_name == "Асель Жунусова"


def test_report_speaks_the_organisers_language(organiser_client, statement):
    response = _upload(organiser_client, statement, _csv("individual,,a@example.org,KZ,,,,,"), "kk")
    assert "Ештеңе импортталмады" in response.content.decode()


def test_undo_deletes_exactly_the_import(
    organiser_client, organiser, statement, online, django_capture_on_commit_callbacks
):
    OrganisationFactory(statement=statement)
    before = counters.count_from_database(statement.pk)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(organiser_client, statement, _csv(*GOOD_ROWS))
    imported = PaperImport.objects.get()
    assert counters.get_counts(statement.pk)["individual"] == before["individual"] + 2
    url = reverse("staff:paper_import_undo", kwargs={"pk": imported.pk})
    with django_capture_on_commit_callbacks(execute=True):
        response = organiser_client.post(url)
    assert response.status_code == 302
    assert not Signature.objects.filter(source="paper").exists()
    assert Signature.objects.filter(pk=online.pk).exists()
    assert counters.get_counts(statement.pk) == before
    imported.refresh_from_db()
    assert imported.state == "undone" and imported.undone_by == organiser
    event = AuditEvent.objects.get(action="paper_import.undone")
    assert event.data["deleted"] == 3
    # Undoing twice changes nothing more.
    organiser_client.post(url)
    assert AuditEvent.objects.filter(action="paper_import.undone").count() == 1
    detail = organiser_client.get(reverse("staff:paper_import", kwargs={"pk": imported.pk}))
    assert "Undo this import" not in detail.content.decode()


def test_moderators_cannot_import(moderator_client, statement):
    assert moderator_client.get(reverse("staff:paper")).status_code == 403
    response = _upload(moderator_client, statement, _csv(GOOD_ROWS[0]))
    assert response.status_code == 403
    assert not Signature.objects.exists()


def test_organisations_are_matched_by_name_and_country_as_online(
    organiser_client, statement, django_capture_on_commit_callbacks
):
    """An approved endorsement holds its name in its country, whatever the address; an
    earlier row of the file holds it too. One awaiting a moderator holds nothing yet."""
    OrganisationFactory(
        statement=statement,
        organisation_name="Oil Workers’ Union «Mangystau»",
        country="KZ",
        email="online-union@example.kz",
    )
    OrganisationFactory(
        statement=statement,
        organisation_name="Teachers' Union",
        country="KZ",
        state=Signature.State.AWAITING_MODERATION,
        decided_at=None,
    )
    rows = [
        "organisation,A. Contact,paper-union@example.kz,KZ,,,oil workers union mangystau,"
        "trade_union,",  # row 2: the approved one, another address
        "organisation,B. Contact,,AR,,,Oil Workers' Union Mangystau,trade_union,",  # 3: elsewhere
        "organisation,C. Contact,,KZ,,,Teachers’ Union,trade_union,",  # 4: not approved yet
        "organisation,D. Contact,,Argentina,,,OIL-WORKERS UNION MANGYSTAU,trade_union,",  # 5
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(organiser_client, statement, _csv(*rows))
    assert response.status_code == 200
    body = response.content.decode()
    assert "2 signatures imported, 2 duplicates skipped." in body
    reported = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]+)</td></tr>', body)
    assert reported == [
        ("2", "this organisation has signed already"),
        ("5", "same organisation as row 3"),
    ]
    assert sorted(Signature.objects.filter(source="paper").values_list("full_name", "country")) == [
        ("B. Contact", "AR"),
        ("C. Contact", "KZ"),
    ]


def test_xlsx_rows_are_reported_by_their_row_number_and_undone(
    organiser_client, organiser, statement, django_capture_on_commit_callbacks
):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["kind", "full_name", "email", "country", "signed_on"])
    sheet.append(["individual", "Асель Жунусова", "asel@example.kz", "KZ", "2022-01-21"])
    sheet.append([None, None, None, None, None])  # a blank line between two meetings
    sheet.append(["individual", "Ерлан Нұрланұлы", "not-an-address", "KZ", None])
    data = io.BytesIO()
    workbook.save(data)
    bad = _upload(organiser_client, statement, SimpleUploadedFile("m.xlsx", data.getvalue()))
    assert bad.status_code == 400
    problems = re.findall(r'<tr><td class="num">(\d+)</td><td><code>(\w+)</code></td>', bad.text)
    assert problems == [("4", "email")]
    assert not Signature.objects.exists()

    sheet.cell(row=4, column=3).value = "erlan@example.kz"
    data = io.BytesIO()
    workbook.save(data)
    with django_capture_on_commit_callbacks(execute=True):
        good = _upload(organiser_client, statement, SimpleUploadedFile("m.xlsx", data.getvalue()))
    assert good.status_code == 200
    assert Signature.objects.filter(source="paper").count() == 2
    assert counters.get_counts(statement.pk)["paper_individual"] == 2
    imported = PaperImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        organiser_client.post(reverse("staff:paper_import_undo", kwargs={"pk": imported.pk}))
    assert not Signature.objects.exists()
    assert counters.get_counts(statement.pk)["paper_individual"] == 0
    assert list(
        AuditEvent.objects.filter(action__startswith="paper_import")
        .order_by("pk")
        .values_list("action", "actor")
    ) == [("paper_import.imported", organiser.pk), ("paper_import.undone", organiser.pk)]
