"""The public lists: signatories.csv and signatories.json under each statement and language,
files built by a task when the list changes and served without reading the database."""

import csv
import gzip
import io
import json

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from statements import public_files
from statements import public_lists as public
from statements.models import Signature
from statements.services import signature_confirm
from statements.tasks import public_lists_refresh
from tests.factories import SignatureFactory


def public_signatories(statement):
    organisations = Signature.objects.filter(
        statement=statement, kind="organisation", state="approved"
    )
    individuals = Signature.objects.filter(
        statement=statement,
        kind="individual",
        state__in=Signature.PUBLIC_STATES,
        show_publicly=True,
    )
    return organisations, individuals


def _url(name: str, statement, language: str = "en") -> str:
    with translation.override(language):
        return reverse(f"statements:{name}", kwargs={"slug": statement.slug})


def _get(client, name, statement, language="en"):
    response = client.get(_url(name, statement, language))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body.decode("utf-8")


def test_urls():
    with translation.override("ru"):
        assert reverse("statements:signatories_csv", kwargs={"slug": "x"}) == (
            "/ru/s/x/signatories.csv"
        )
        assert reverse("statements:signatories_json", kwargs={"slug": "x"}) == (
            "/ru/s/x/signatories.json"
        )


def test_json_lists_approved_organisations_and_listed_individuals_only(
    client, statement, signatures
):
    response, body = _get(client, "signatories_json", statement)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = json.loads(body)
    organisations, individuals = public_signatories(statement)
    assert data["statement"] == statement.slug
    assert sorted(o["name"] for o in data["organisations"]) == sorted(
        organisations.values_list("organisation_name", flat=True)
    )
    assert sorted(i["name"] for i in data["individuals"]) == sorted(
        individuals.values_list("full_name", flat=True)
    )
    kz = next(o for o in data["organisations"] if o["country"] == "KZ")
    assert kz == {
        "name": "Профсоюз «Әділет»",
        "organisation_type": "trade_union",
        "city": "Жанаозен",
        "country": "KZ",
        "country_name": "Kazakhstan",
        "website": "https://example.org/adilet",
    }
    for s in Signature.objects.filter(statement=statement):
        assert s.email not in body
    assert signatures["ind_hidden"].full_name not in body
    assert signatures["org_pending"].organisation_name not in body


def test_country_names_follow_the_language_of_the_address(client, statement, signatures):
    _, russian = _get(client, "signatories_json", statement, "ru")
    _, spanish = _get(client, "signatories_csv", statement, "es")
    kz = next(o for o in json.loads(russian)["organisations"] if o["country"] == "KZ")
    assert kz["country_name"] == "Казахстан"
    assert ",KZ,Kazajistán," in spanish


def test_csv_is_neutralised_and_has_no_emails(client, statement, signatures):
    response, body = _get(client, "signatories_csv", statement)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    organisations, individuals = public_signatories(statement)
    assert len(rows) == organisations.count() + individuals.count() == 7
    assert {r["type"] for r in rows} == {"organisation", "individual"}
    names = {r["name"] for r in rows}
    assert '\'=HYPERLINK("http://evil.example","click")' in names
    assert "'@SUM(A1:A9)" in names
    assert {r["city"] for r in rows} >= {'Buenos Aires, "Centro"'}
    for s in Signature.objects.filter(statement=statement):
        assert s.email not in body
    for row in rows:
        assert all(not v or v[0] not in "=+-@\t\r" for v in row.values())


def test_files_sit_at_their_address_with_a_gzip_copy(client, statement, signatures, settings):
    _, body = _get(client, "signatories_csv", statement, "ru")
    path = settings.PUBLIC_LISTS_ROOT / "ru" / "s" / statement.slug / "signatories.csv"
    assert path.read_text(encoding="utf-8") == body
    assert gzip.decompress(path.with_name("signatories.csv.gz").read_bytes()).decode() == body
    # Written whole, then renamed: no half-written file is ever served.
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "signatories.csv",
        "signatories.csv.gz",
        "signatories.json",
        "signatories.json.gz",
    ]


def test_serving_a_list_reads_no_list_from_the_database(
    client, statement, signatures, django_assert_max_num_queries
):
    response, first = _get(client, "signatories_csv", statement)
    assert response["ETag"] and response["Last-Modified"]
    assert response["Cache-Control"].startswith("public")
    SignatureFactory(statement=statement, full_name="Late Signer")
    # At most the statement (if its memo expired): the rows come from the file.
    with django_assert_max_num_queries(1):
        response, second = _get(client, "signatories_csv", statement)
    assert second == first and "Late Signer" not in second
    again = client.get(_url("signatories_csv", statement), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_a_confirmation_rebuilds_the_lists(
    client, statement, signatures, django_capture_on_commit_callbacks
):
    _get(client, "signatories_json", statement)
    late = SignatureFactory(statement=statement, state="pending", full_name="Late Signer")
    cache.clear()  # the minute since the last build has passed
    with django_capture_on_commit_callbacks(execute=True):
        signature_confirm(signature_id=late.pk)
    _, body = _get(client, "signatories_json", statement)
    assert "Late Signer" in body


def test_changes_queue_at_most_one_build_a_minute(statement, signatures, monkeypatch):
    queued = []
    monkeypatch.setattr(
        "statements.tasks.public_lists_build.apply_async",
        lambda args, countdown: queued.append((args, countdown)),
    )
    for _ in range(5):
        public.lists_changed(statement_id=statement.pk)
    assert queued == [((statement.pk,), 0)]
    # The build starts: the next change waits for the rest of the minute.
    public_files.build_started(statement.pk)
    public.lists_changed(statement_id=statement.pk)
    public.lists_changed(statement_id=statement.pk)
    assert len(queued) == 2 and 55 <= queued[1][1] <= 60


def test_a_list_not_built_yet_is_queued_and_answered_503(client, statement, monkeypatch):
    monkeypatch.setattr("statements.tasks.public_lists_build.apply_async", lambda *a, **k: None)
    response = client.get(_url("signatories_csv", statement))
    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert "no-store" in response["Cache-Control"]


def test_refresh_rebuilds_missing_lists(statement, signatures, settings):
    assert public_files.missing(statement)
    assert public_lists_refresh.apply().get() == [statement.pk]
    assert not public_files.missing(statement)
    # One folder per language the site offers, not per language Django knows.
    assert sorted(p.name for p in settings.PUBLIC_LISTS_ROOT.iterdir()) == ["en", "es", "kk", "ru"]
    # Fresh lists are left alone.
    cache.clear()
    assert public_lists_refresh.apply().get() == []


def test_a_failed_build_leaves_the_old_files(statement, signatures, settings, monkeypatch):
    public_files.build(statement)
    path = public_files.list_path(statement.slug, "en", "json")
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(public_files, "_csv_cells", broken)
    with pytest.raises(RuntimeError):
        public_files.build(statement)
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]


def test_unknown_statement_is_not_found(client, db):
    response = client.get("/en/s/no-such-statement/signatories.json")
    assert response.status_code == 404
