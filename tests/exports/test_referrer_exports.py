"""Signatures made through a partner's embedded form carry its referral code in every
export an organiser can download."""

import json

from statements.models import Partner
from tests.exports.helpers import file_bytes, read_csv, read_xlsx
from tests.factories import OrganisationFactory, SignatureFactory


def test_referral_codes_are_exported(statement, organiser, build):
    union = Partner.objects.create(name="Metalworkers' union", code="metal-kz")
    SignatureFactory(statement=statement, full_name="Direct Signer")
    SignatureFactory(statement=statement, full_name="Embedded Signer", referrer=union)
    OrganisationFactory(statement=statement, organisation_name="Union Org", referrer=union)

    header, rows = read_csv(file_bytes(build(statement, "csv")))
    assert header[header.index("source_name") + 1] == "referrer"
    assert {(r["full_name"], r["referrer"]) for r in rows if r["kind"] == "individual"} == {
        ("Direct Signer", ""),
        ("Embedded Signer", "metal-kz"),
    }
    _, rows = read_xlsx(file_bytes(build(statement, "xlsx")))
    assert sorted(r["referrer"] for r in rows) == ["", "metal-kz", "metal-kz"]
    records = json.loads(file_bytes(build(statement, "json")))["_embedded"]["osdi:signatures"]
    by_name = {
        r["person"]["custom_fields"]["full_name"]: r["custom_fields"].get("referrer", "")
        for r in records
    }
    assert by_name["Embedded Signer"] == "metal-kz"
    assert by_name["Direct Signer"] == ""
