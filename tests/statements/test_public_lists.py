"""The public lists: signatories.csv and signatories.json under a statement."""

import csv
import io
import json

from django.urls import reverse

from statements.models import Signature
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


def _get(client, name, statement, **headers):
    response = client.get(reverse(f"statements:{name}", kwargs={"slug": statement.slug}), **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body.decode("utf-8")


def test_urls():
    assert reverse("statements:signatories_csv", kwargs={"slug": "x"}) == "/s/x/signatories.csv"
    assert reverse("statements:signatories_json", kwargs={"slug": "x"}) == "/s/x/signatories.json"


def test_json_lists_approved_organisations_and_listed_individuals_only(
    client, statement, signatures
):
    response, body = _get(client, "signatories_json", statement, HTTP_ACCEPT_LANGUAGE="en")
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
    for s in Signature.objects.filter(statement=statement):
        assert s.email not in body
    for row in rows:
        assert all(not v or v[0] not in "=+-@\t\r" for v in row.values())


def test_public_lists_are_cached(client, statement, signatures, django_assert_max_num_queries):
    response, first = _get(client, "signatories_csv", statement)
    assert response["Cache-Control"] == "public, max-age=300"
    assert "Accept-Language" in response["Vary"]
    SignatureFactory(statement=statement, full_name="Late Signer")
    # Served from the cache: one query to find the statement, none for the list.
    with django_assert_max_num_queries(1):
        response, second = _get(client, "signatories_csv", statement)
    assert second == first and "Late Signer" not in second


def test_unknown_statement_is_not_found(client, db):
    response = client.get("/s/no-such-statement/signatories.json")
    assert response.status_code == 404
