"""Signatures gathered on paper are in the exports, marked as such."""

import json

from statements.paper.services import paper_import_create
from tests.exports.helpers import file_bytes, read_csv, read_xlsx
from tests.factories import SignatureFactory

SHEET = b"full_name,country,email\nAigerim Bekova,KZ,aigerim@example.kz\nNurlan Sadykov,KZ,\n"


def test_paper_signatures_are_exported_with_their_source(statement, organiser, build):
    SignatureFactory(statement=statement, full_name="Online Signer")
    outcome = paper_import_create(
        statement=statement, file_name="meeting.csv", data=SHEET, actor=organiser, language="en"
    )
    assert outcome.imported
    _, rows = read_csv(file_bytes(build(statement, "csv")))
    assert {(r["full_name"], r["source"]) for r in rows} == {
        ("Online Signer", "online"),
        ("Aigerim Bekova", "paper"),
        ("Nurlan Sadykov", "paper"),
    }
    _, rows = read_xlsx(file_bytes(build(statement, "xlsx")))
    assert sorted(r["source"] for r in rows) == ["online", "paper", "paper"]
    document = json.loads(file_bytes(build(statement, "json")))
    records = document["_embedded"]["osdi:signatures"]
    assert sorted(r["custom_fields"]["source"] for r in records) == ["online", "paper", "paper"]
    nurlan = next(
        r for r in records if r["person"]["custom_fields"]["full_name"] == "Nurlan Sadykov"
    )
    assert nurlan["person"]["email_addresses"] == []
    assert nurlan["custom_fields"]["source_name"] == "En papel"  # the list is in Spanish
