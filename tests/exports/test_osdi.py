"""The JSON export is an OSDI collection of signatures: it validates against a schema written
from OSDI's documents, and every record says what the database holds."""

import json
from datetime import UTC, datetime
from pathlib import Path

from jsonschema import Draft202012Validator

from exports import osdi
from statements.models import Signature
from tests.exports.helpers import file_bytes, read_json

SCHEMA = json.loads((Path(__file__).with_name("osdi_signatures.schema.json")).read_text())
ALL_STATES = [s.value for s in Signature.State if s != Signature.State.WITHDRAWN]


def _date(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _second(value: datetime | None) -> datetime | None:
    return value.replace(microsecond=0) if value else None


def test_the_file_is_a_valid_osdi_collection(statement, signatures, build):
    export = build(statement, "json", states=ALL_STATES, language="en")
    data = read_json(file_bytes(export))
    errors = sorted(Draft202012Validator(SCHEMA).iter_errors(data), key=str)
    assert errors == []
    records = data["_embedded"]["osdi:signatures"]
    assert len(records) == data["total_records"] == data["per_page"] == 11
    assert (data["page"], data["total_pages"]) == (1, 1)
    assert data["_links"]["self"]["href"].endswith(f"/staff/exports/{export.pk}/")
    assert data["_links"]["osdi:petition"]["href"].endswith(f"/s/{statement.slug}/")
    assert data["statement"] == statement.slug and data["export"] == str(export.pk)
    assert "email_language" not in data["filters"] and "notify" not in data["filters"]


def test_each_signature_carries_its_person(statement, signatures, build):
    data = read_json(file_bytes(build(statement, "json", states=ALL_STATES, language="en")))
    records = {r["identifiers"][0]: r for r in data["_embedded"]["osdi:signatures"]}
    for s in Signature.objects.filter(statement=statement, state__in=ALL_STATES):
        record = records[f"petition:{s.pk}"]
        assert record["origin_system"] == osdi.ORIGIN_SYSTEM
        # action_date is when the person signed; modified_date the last change.
        assert _date(record["action_date"]) == _second(s.created_at)
        assert _date(record["created_date"]) == _second(s.created_at)
        latest = max(t for t in (s.created_at, s.confirmed_at, s.decided_at) if t)
        assert _date(record["modified_date"]) == _second(latest)
        assert record.get("comments", "") == s.comment  # verbatim: JSON is not a spreadsheet
        assert record["_links"]["self"]["href"].endswith(f"/staff/signatures/{s.pk}/")
        person = record["person"]
        assert person["email_addresses"][0]["address"] == s.email
        assert person["email_addresses"][0]["primary"] is True
        assert person["postal_addresses"][0]["country"] == s.country.code
        assert person["postal_addresses"][0].get("locality", "") == s.city
        assert person["languages_spoken"] == [s.language]
        assert person["custom_fields"]["full_name"] == s.full_name
        # One full name is asked for; it is not split into given and family names by guess.
        assert "given_name" not in person and "family_name" not in person
        custom = record["custom_fields"]
        assert custom["signatory_type"] == s.kind
        assert custom["state"] == s.state
        assert custom["show_publicly"] == ("true" if s.show_publicly else "false")
        assert all(isinstance(value, str) for value in custom.values())
        assert all(isinstance(value, str) for value in person["custom_fields"].values())
        if s.confirmed_at:
            assert _date(custom["confirmed_date"]) == _second(s.confirmed_at)


def test_organisations_are_told_apart_from_people(statement, signatures, build):
    data = read_json(file_bytes(build(statement, "json", states=ALL_STATES, language="ru")))
    records = {r["identifiers"][0]: r for r in data["_embedded"]["osdi:signatures"]}
    union = signatures["org_kz"]
    record = records[f"petition:{union.pk}"]
    assert record["custom_fields"]["signatory_type"] == "organisation"
    assert record["custom_fields"]["signatory_type_name"] == "Организация"
    assert record["custom_fields"]["organisation_type"] == union.organisation_type
    assert record["custom_fields"]["organisation_type_name"] == "Профсоюз"
    assert record["custom_fields"]["website"] == union.website
    assert record["organization"] == {
        "name": "Профсоюз «Әділет»",
        "location": {"locality": "Жанаозен", "country": "KZ"},
        "contact": {"name": union.full_name, "email_address": union.email},
    }
    # The person is the organisation's contact: their employer and role.
    assert record["person"]["employer"] == "Профсоюз «Әділет»"
    assert record["person"]["occupation"] == union.contact_role
    assert record["person"]["email_addresses"][0]["address_type"] == "Work"

    teacher = signatures["ind_kz"]
    record = records[f"petition:{teacher.pk}"]
    assert record["custom_fields"]["signatory_type"] == "individual"
    assert "organization" not in record and "employer" not in record["person"]
    assert record["person"]["occupation"] == "учитель"
    assert record["person"]["email_addresses"][0]["address_type"] == "Personal"
    assert record["custom_fields"]["country_name"] == "Казахстан"


def test_an_empty_list_is_a_valid_collection(statement, build):
    data = read_json(file_bytes(build(statement, "json")))
    assert list(Draft202012Validator(SCHEMA).iter_errors(data)) == []
    assert data["_embedded"]["osdi:signatures"] == [] and data["total_records"] == 0
