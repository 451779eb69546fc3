"""Filters: statement, kinds, states (published ones by default), countries and dates."""

from datetime import date, timedelta

from django.utils import timezone

from exports import pdf
from exports.models import SignatoryExport
from exports.selectors import ExportFilters, export_queryset, iter_chunks
from statements.models import Signature, Statement
from tests.exports.helpers import file_bytes, read_csv
from tests.factories import SignatureFactory


def _ids(export) -> set[int]:
    _, rows = read_csv(file_bytes(export))
    return {int(r["id"]) for r in rows}


def _pks(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_default_states_are_the_published_ones(statement, signatures, build):
    export = build(statement, "csv")
    assert export.filters["states"] == ["confirmed", "approved"]
    expected = Signature.objects.filter(statement=statement, state__in=["confirmed", "approved"])
    assert _ids(export) == _pks(expected)


def test_kinds(statement, signatures, build):
    organisations = build(statement, "csv", kinds=("organisation",))
    assert _ids(organisations) == _pks(
        Signature.objects.filter(kind="organisation", state__in=["confirmed", "approved"])
    )
    individuals = build(statement, "csv", kinds=("individual",), states=("pending",))
    assert _ids(individuals) == {signatures["ind_pending"].pk}


def test_countries(statement, signatures, build):
    export = build(statement, "csv", countries=("KZ", "ES"))
    expected = Signature.objects.filter(
        country__in=["KZ", "ES"], state__in=["confirmed", "approved"]
    )
    assert _ids(export) == _pks(expected) and len(_ids(export)) == 5


def test_date_range_is_inclusive_and_by_day(statement, signatures, build):
    old = signatures["ind_old"]
    day = timezone.localdate(old.created_at)
    only_old = build(statement, "csv", date_from=day, date_to=day)
    assert _ids(only_old) == {old.pk}
    recent = build(statement, "csv", date_from=day + timedelta(days=1))
    assert old.pk not in _ids(recent) and len(_ids(recent)) == 7
    before = build(statement, "csv", date_to=day - timedelta(days=1))
    assert _ids(before) == set()


def test_withdrawn_signatures_are_never_exported(statement, signatures, build):
    withdrawn = SignatureFactory(statement=statement, state="withdrawn", email="", full_name="")
    export = build(statement, "csv", states=("withdrawn", "confirmed"))
    assert withdrawn.pk not in _ids(export)


def test_other_statements_are_left_out(statement, signatures, build):
    other = Statement.objects.create(slug="other-statement")
    SignatureFactory(statement=other)
    assert _ids(build(statement, "csv")) == _pks(
        Signature.objects.filter(statement=statement, state__in=["confirmed", "approved"])
    )


def test_pdf_prints_only_what_may_be_published(statement, signatures, organiser):
    export = SignatoryExport(
        statement=statement,
        format="pdf",
        requested_by=organiser,
        filters=ExportFilters(
            states=("confirmed", "approved", "rejected", "awaiting_moderation", "pending")
        ).to_json(),
    )
    content = pdf.list_content(export)
    organisations = {e.name for g in content.organisations for e in g.entries}
    people = {e.name for g in content.individuals for e in g.entries}
    assert signatures["org_rejected"].organisation_name not in organisations
    assert signatures["org_pending"].organisation_name not in organisations
    assert signatures["ind_hidden"].full_name not in people
    assert signatures["ind_pending"].full_name not in people
    assert content.organisation_count == 3 and content.individual_count == 4


def test_filters_survive_json(statement):
    filters = ExportFilters(
        kinds=("individual",),
        states=("approved",),
        countries=("KZ",),
        date_from=date(2022, 1, 5),
        date_to=date(2022, 1, 31),
        language="ru",
        bom=True,
        email_language="en",
    )
    assert ExportFilters.from_json(filters.to_json()) == filters
    assert ExportFilters.from_json({}) == ExportFilters()


def test_chunks_cover_every_row_once_in_key_order(statement):
    SignatureFactory.create_batch(23, statement=statement)
    export = SignatoryExport(statement=statement, filters={})
    chunks = list(iter_chunks(export_queryset(export), chunk_size=5))
    assert [len(c) for c in chunks] == [5, 5, 5, 5, 3]
    ids = [row[0] for chunk in chunks for row in chunk]
    assert ids == sorted(ids) and len(set(ids)) == 23
