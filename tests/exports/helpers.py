"""Read export files back and describe what they should hold, straight from the database."""

import csv
import io
import json
from datetime import UTC, datetime

from openpyxl import load_workbook

from exports import services
from exports.cells import TABLE_HEADER, code_names, neutralise
from exports.models import SignatoryExport

TIMESTAMPS = ("created_at", "confirmed_at", "decided_at")


def file_bytes(export: SignatoryExport) -> bytes:
    return services.export_path(export).read_bytes()


def expected_table(signatures, language: str = "es") -> list[dict]:
    """What a CSV or XLSX row holds for each signature, neutralised, in primary key order;
    timestamps to the second, as the files carry them."""
    names = code_names(language)
    rows = []
    for s in sorted(signatures, key=lambda s: s.pk):
        rows.append(
            {
                "id": str(s.pk),
                "kind": s.kind,
                "kind_name": names.kind[s.kind],
                "state": s.state,
                "state_name": names.state[s.state],
                "full_name": neutralise(s.full_name),
                "email": neutralise(s.email),
                "organisation_name": neutralise(s.organisation_name),
                "organisation_type": s.organisation_type,
                "organisation_type_name": names.organisation_type.get(s.organisation_type, ""),
                "contact_role": neutralise(s.contact_role),
                "website": neutralise(s.website),
                "affiliation": neutralise(s.affiliation),
                "city": neutralise(s.city),
                "country": s.country.code,
                "country_name": names.country[s.country.code],
                "show_publicly": "true" if s.show_publicly else "false",
                "comment": neutralise(s.comment),
                "language": s.language,
                "source": s.source,
                "source_name": names.source[s.source],
                "referrer": s.referrer.code if s.referrer_id else "",
                "created_at": _to_second(s.created_at),
                "confirmed_at": _to_second(s.confirmed_at),
                "decided_at": _to_second(s.decided_at),
            }
        )
    return rows


def _to_second(value: datetime | None) -> datetime | None:
    return value.replace(microsecond=0) if value else None


def _parse_time(value):
    """A CSV timestamp ("2022-01-05T10:00:00Z") or an XLSX date cell (UTC, without a zone)."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value)


def normalise_table(rows: list[dict]) -> list[dict]:
    """File rows with their timestamps parsed, so they compare with the database's."""
    out = []
    for row in rows:
        times = {key: _parse_time(row[key]) for key in TIMESTAMPS}
        row = {key: ("" if value is None else str(value)) for key, value in row.items()}
        row.update(times)
        out.append(row)
    return out


def read_csv(data: bytes) -> tuple[list[str], list[dict]]:
    text = data.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    return header, normalise_table([dict(zip(header, row, strict=True)) for row in reader])


def read_xlsx(data: bytes) -> tuple[list[list[str]], list[dict]]:
    """Every sheet's header, and the data rows of all sheets in order."""
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    headers, rows = [], []
    for sheet in workbook.worksheets:
        values = sheet.iter_rows(values_only=True)
        header = list(next(values))
        headers.append(header)
        for row in values:
            # Without a <dimension>, read-only openpyxl ends a row at its last cell.
            row = list(row) + [None] * (len(header) - len(row))
            rows.append(dict(zip(header, row, strict=True)))
    workbook.close()
    return headers, normalise_table(rows)


def read_json(data: bytes) -> dict:
    return json.loads(data.decode("utf-8"))


def table_header() -> list[str]:
    return list(TABLE_HEADER)
