"""Reads of the hourly history for the public page and the open-data files.

The history table is small next to the signatures (one row per hour, country and kind that
saw a signature), and these reads are cached: the files in the cache until the history
changes, the page's summary in the process for a few minutes.
"""

import csv
import hashlib
import io
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from statements import selectors
from statements.models import Signature, Statement
from statements.opendata.models import SignatureHour

logger = logging.getLogger(__name__)

Kind = Signature.Kind
SUMMARY_SECONDS = 120
FILE_SECONDS = 24 * 3600
CSV_HEADER = (
    "hour",
    "country",
    "individuals",
    "organisations",
    "individuals_total",
    "organisations_total",
)


def _version_key(statement_id: int) -> str:
    return f"history:v1:{statement_id}:version"


def history_version(statement_id: int) -> str:
    """Changes whenever the stored history of the statement changes."""
    try:
        version = cache.get(_version_key(statement_id))
        if version is None:
            version = str(time.time_ns())
            cache.add(_version_key(statement_id), version, None)
            version = cache.get(_version_key(statement_id)) or version
        return version
    except Exception:
        logger.warning("history cache unavailable; reading the history from the database")
        return "uncached"


def forget_history(statement_id: int) -> None:
    try:
        cache.set(_version_key(statement_id), str(time.time_ns()), None)
    except Exception:
        logger.warning("history cache unavailable; cached history files expire by themselves")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rows(statement_id: int):
    return (
        SignatureHour.objects.filter(statement_id=statement_id)
        .order_by("hour", "country", "kind")
        .values_list("hour", "country", "kind", "count")
        .iterator(chunk_size=5000)
    )


@dataclass
class HourRow:
    hour: datetime
    country: str  # "" for every country together
    individuals: int
    organisations: int
    individuals_total: int
    organisations_total: int


def hour_rows(statement_id: int) -> list[HourRow]:
    """Every hour with signatures: first all countries together, then each country, with
    running totals (per country for the country rows)."""
    by_hour: dict[datetime, dict[str, list[int]]] = defaultdict(dict)
    for hour, country, kind, count in _rows(statement_id):
        pair = by_hour[hour].setdefault(country, [0, 0])
        pair[0 if kind == Kind.INDIVIDUAL else 1] += count
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    result = []
    for hour in sorted(by_hour):
        countries = by_hour[hour]
        overall = [sum(p[0] for p in countries.values()), sum(p[1] for p in countries.values())]
        for country, (individuals, organisations) in [("", overall), *sorted(countries.items())]:
            total = totals[country]
            total[0] += individuals
            total[1] += organisations
            result.append(HourRow(hour, country, individuals, organisations, total[0], total[1]))
    return result


def _build_json(statement: Statement) -> bytes:
    hours, countries = [], defaultdict(list)
    for row in hour_rows(statement.pk):
        entry = {
            "hour": _iso(row.hour),
            "individuals": row.individuals,
            "organisations": row.organisations,
            "individuals_total": row.individuals_total,
            "organisations_total": row.organisations_total,
        }
        (countries[row.country] if row.country else hours).append(entry)
    document = {
        "statement": statement.slug,
        "generated_at": _iso(timezone.now()),
        "interval": "hour",
        "hours": hours,
        "countries": [{"country": code, "hours": rows} for code, rows in sorted(countries.items())],
    }
    return json.dumps(document, separators=(",", ":")).encode()


def _build_csv(statement: Statement) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in hour_rows(statement.pk):
        writer.writerow(
            (
                _iso(row.hour),
                row.country,
                row.individuals,
                row.organisations,
                row.individuals_total,
                row.organisations_total,
            )
        )
    return buffer.getvalue().encode()


BUILDERS = {"json": _build_json, "csv": _build_csv}


def history_file(statement: Statement, fmt: str) -> tuple[bytes, str]:
    """(body, etag) of history.json or history.csv, built once per version of the history."""
    version = history_version(statement.pk)
    key = f"history:v1:{statement.pk}:{fmt}:{version}"
    try:
        found = cache.get(key)
    except Exception:
        found = None
    if found is None:
        body = BUILDERS[fmt](statement)
        found = (body, hashlib.sha256(body).hexdigest()[:32])
        try:
            cache.set(key, found, FILE_SECONDS)
        except Exception:
            logger.warning("history cache unavailable; the file is built for every request")
    return found


@dataclass(frozen=True)
class Summary:
    """What the statement page shows: the running total per day or hour, and per country."""

    points: list[tuple[datetime, int]]  # (moment, running total of all signatures)
    hourly: bool
    countries: list[tuple[str, int, int]]  # (code, individuals, organisations), largest first


# Up to this many days the chart shows hours; beyond it, days.
HOURLY_UP_TO_DAYS = 3


def _summary(statement_id: int) -> Summary:
    per_hour = (
        SignatureHour.objects.filter(statement_id=statement_id)
        .values_list("hour")
        .annotate(n=Sum("count"))
        .order_by("hour")
    )
    hours = list(per_hour)
    hourly = bool(hours) and (hours[-1][0] - hours[0][0]).days < HOURLY_UP_TO_DAYS
    points: list[tuple[datetime, int]] = []
    running = 0
    for hour, n in hours:
        running += n
        moment = hour if hourly else hour.replace(hour=0)
        if points and points[-1][0] == moment:
            points[-1] = (moment, running)
        else:
            points.append((moment, running))
    per_country: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    rows = (
        SignatureHour.objects.filter(statement_id=statement_id)
        .values_list("country", "kind")
        .annotate(n=Sum("count"))
        .order_by()
    )
    for country, kind, n in rows:
        per_country[country][0 if kind == Kind.INDIVIDUAL else 1] += n
    countries = sorted(
        ((code, i, o) for code, (i, o) in per_country.items()),
        key=lambda item: (-(item[1] + item[2]), item[0]),
    )
    return Summary(points=points, hourly=hourly, countries=countries)


def history_summary(statement: Statement) -> Summary:
    key = ("history-summary", statement.pk, history_version(statement.pk))
    return selectors.remembered(key, lambda: _summary(statement.pk), seconds=SUMMARY_SECONDS)
