"""The hourly history: built from the signatures, idempotent, served as JSON and CSV."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from statements import counters, services
from statements.models import Signature
from statements.opendata.models import SignatureHour
from statements.opendata.services import history_refresh
from statements.tasks import history_refresh as history_refresh_task
from tests.factories import OrganisationFactory, SignatureFactory

T0 = datetime(2026, 1, 5, 9, 15, tzinfo=UTC)


def _url(name: str, statement) -> str:
    return reverse(f"api:{name}", kwargs={"slug": statement.slug})


@pytest.fixture
def signed(statement):
    """Three hours of signing in two countries, plus signatures that must not count."""
    SignatureFactory(statement=statement, country="KZ", confirmed_at=T0)
    SignatureFactory(statement=statement, country="KZ", confirmed_at=T0 + timedelta(minutes=30))
    SignatureFactory(statement=statement, country="AR", confirmed_at=T0 + timedelta(hours=1))
    OrganisationFactory(
        statement=statement, country="AR", decided_at=T0 + timedelta(hours=2, minutes=5)
    )
    # Not public: pending, awaiting moderation, rejected.
    SignatureFactory(statement=statement, state="pending", confirmed_at=None)
    OrganisationFactory(statement=statement, state="awaiting_moderation", decided_at=None)
    SignatureFactory(statement=statement, state="rejected", confirmed_at=T0)
    return statement


def _stored(statement) -> set[tuple]:
    return set(
        SignatureHour.objects.filter(statement=statement).values_list(
            "hour", "country", "kind", "count"
        )
    )


def test_history_counts_public_signatures_by_hour_country_and_kind(signed):
    assert history_refresh(statement_id=signed.pk) == {"created": 3, "updated": 0, "deleted": 0}
    assert _stored(signed) == {
        (T0.replace(minute=0), "KZ", "individual", 2),
        (T0.replace(minute=0) + timedelta(hours=1), "AR", "individual", 1),
        (T0.replace(minute=0) + timedelta(hours=2), "AR", "organisation", 1),
    }


def test_refresh_is_idempotent_and_follows_withdrawals(signed):
    history_refresh(statement_id=signed.pk)
    before = _stored(signed)
    assert history_refresh(statement_id=signed.pk) == {"created": 0, "updated": 0, "deleted": 0}
    assert _stored(signed) == before
    kazakh = Signature.objects.filter(country="KZ", state="confirmed").first()
    services.signature_withdraw(signature_id=kazakh.pk)
    argentinian = Signature.objects.get(country="AR", kind="individual")
    services.signature_withdraw(signature_id=argentinian.pk)
    assert history_refresh(statement_id=signed.pk) == {"created": 0, "updated": 1, "deleted": 1}
    total = sum(row[3] for row in _stored(signed))
    counts = counters.count_from_database(signed.pk)
    assert total == counts["individual"] + counts["organisation"] == 2


def test_periodic_task_refreshes_every_statement(signed):
    history_refresh_task.delay()
    assert SignatureHour.objects.filter(statement=signed).count() == 3


def test_history_json(client, signed):
    history_refresh(statement_id=signed.pk)
    response = client.get(_url("history_json", signed))
    assert response.status_code == 200
    data = response.json()
    assert data["statement"] == signed.slug and data["interval"] == "hour"
    assert [(h["hour"], h["individuals"], h["individuals_total"]) for h in data["hours"]] == [
        ("2026-01-05T09:00:00Z", 2, 2),
        ("2026-01-05T10:00:00Z", 1, 3),
        ("2026-01-05T11:00:00Z", 0, 3),
    ]
    assert data["hours"][-1]["organisations_total"] == 1
    by_country = {c["country"]: c["hours"] for c in data["countries"]}
    assert [h["individuals_total"] for h in by_country["KZ"]] == [2]
    assert [h["organisations_total"] for h in by_country["AR"]] == [0, 1]
    assert "@" not in response.content.decode()


def test_history_csv(client, signed):
    history_refresh(statement_id=signed.pk)
    response = client.get(_url("history_csv", signed))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["hour"], r["country"], r["individuals_total"]) for r in rows] == [
        ("2026-01-05T09:00:00Z", "", "2"),
        ("2026-01-05T09:00:00Z", "KZ", "2"),
        ("2026-01-05T10:00:00Z", "", "3"),
        ("2026-01-05T10:00:00Z", "AR", "1"),
        ("2026-01-05T11:00:00Z", "", "3"),
        ("2026-01-05T11:00:00Z", "AR", "1"),
    ]
    assert rows[-1]["organisations_total"] == "1"


def test_history_files_follow_the_refresh_and_answer_304(
    client, signed, django_capture_on_commit_callbacks
):
    history_refresh(statement_id=signed.pk)
    url = _url("history_json", signed)
    first = client.get(url)
    assert "public" in first["Cache-Control"] and "s-maxage=300" in first["Cache-Control"]
    assert "stale-while-revalidate" in first["Cache-Control"]
    assert first["Access-Control-Allow-Origin"] == "*"
    etag = first["ETag"]
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["Access-Control-Allow-Origin"] == "*"
    SignatureFactory(statement=signed, country="KZ", confirmed_at=T0)
    with django_capture_on_commit_callbacks(execute=True):
        history_refresh(statement_id=signed.pk)
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["hours"][0]["individuals"] == 3
    assert client.head(url).status_code == 200


def test_unknown_statement_has_no_history(client, statement):
    assert client.get("/api/statements/nope/history.json").status_code == 404


def test_statement_page_shows_chart_and_table_by_country_in_its_language(client, signed):
    history_refresh(statement_id=signed.pk)
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="kk", follow=True).content.decode()
    assert '<svg class="chart"' in body and "<polyline points=" in body
    assert '<th scope="row">Қазақстан</th><td class="num">2</td>' in body
    assert '<th scope="row">Аргентина</th><td class="num">1</td><td class="num">1</td>' in body
    assert "style=" not in body
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en", follow=True).content.decode()
    assert '<th scope="row">Kazakhstan</th>' in english
    assert _url("history_csv", signed) in english


def test_statement_page_without_history_says_so(client, statement):
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="en", follow=True).content.decode()
    assert "No signatures are counted yet." in body and "<polyline" not in body
