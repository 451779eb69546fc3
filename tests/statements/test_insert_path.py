"""The sign form's hand-written INSERT (statements.services._insert) against the stock path.

It is kept because the benchmark measured it (README: performance, "one INSERT"); this test
holds it to writing exactly the row `save(force_insert=True)` writes, for every column, so a
field added to the model, or a change in how a field prepares its value, cannot drift apart.
"""

import pytest

from statements.models import Signature
from statements.services import SignatureData, _insert, _new_signature

INDIVIDUAL = SignatureData(
    kind=Signature.Kind.INDIVIDUAL,
    full_name="Айгерим Ахметова",
    email="Aigerim@Example.org",
    country="KZ",
    language="ru",
    consent_version="2024-01",
    city="Алматы",
    affiliation="Oil workers' union",
    show_publicly=True,
    comment="Solidarity!",
)
ORGANISATION = SignatureData(
    kind=Signature.Kind.ORGANISATION,
    full_name="María López",
    email="contacto@sindicato.example.org",
    country="AR",
    language="es",
    consent_version="2024-01",
    city="Neuquén",
    organisation_name="Sindicato de Trabajadores Petroleros",
    organisation_type=Signature.OrganisationType.TRADE_UNION,
    website="https://sindicato.example.org",
    contact_role="Secretaria general",
    authorised=True,
)


def _stored(pk: int) -> dict:
    (row,) = Signature.objects.filter(pk=pk).values()
    row.pop("id")
    return row


@pytest.mark.parametrize("data", [INDIVIDUAL, ORGANISATION], ids=["individual", "organisation"])
def test_insert_writes_the_row_save_writes(statement, data):
    ours = _new_signature(statement, data, "203.0.113.9")
    _insert(ours)
    assert ours.pk is not None and not ours._state.adding

    stock = _new_signature(statement, data, "203.0.113.9")
    stock.created_at = stock.consent_at = ours.created_at
    Signature.objects.filter(pk=ours.pk).update(email_key="moved-aside")  # the unique key
    stock.save(force_insert=True)

    written, expected = _stored(ours.pk), _stored(stock.pk)
    # Unique per row: the key moved aside above, and the random public id each row draws.
    assert written.pop("public_id") == ours.public_id
    assert expected.pop("public_id") == stock.public_id
    written["email_key"] = expected["email_key"]
    assert written == expected
    assert set(written) == {f.attname for f in Signature._meta.concrete_fields} - {
        "id",
        "public_id",
    }
