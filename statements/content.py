"""Load statements from the TOML files in statements/content/<slug>/ into the database.

Each folder holds statement.toml (slug, original language, default flag) and one
<language>.toml per language. Loading is idempotent. A text that an organiser has edited in
the admin since it was last loaded is kept, unless the caller forces the file's version.
"""

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from statements.models import Demand, DemandTranslation, Statement, StatementTranslation

CONTENT_DIR = Path(__file__).resolve().parent / "content"
TEXT_FIELDS = (
    "is_original",
    "translation_note",
    "title",
    "body",
    "slogans",
    "demands_intro",
    "signed_by",
    "date_line",
)


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_edits: list[str] = field(default_factory=list)


def read_folder(folder: Path) -> tuple[dict, list[dict]]:
    meta = tomllib.loads((folder / "statement.toml").read_text(encoding="utf-8"))
    texts = [
        tomllib.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.toml"))
        if path.name != "statement.toml"
    ]
    demand_counts = {len(text["demands"]) for text in texts}
    if len(demand_counts) > 1:
        raise ValueError(f"{folder.name}: every language must list the same number of demands")
    return meta, texts


def _row_values(text: dict) -> dict:
    return {
        "is_original": bool(text.get("is_original", False)),
        "translation_note": text.get("translation_note", ""),
        "title": text["title"],
        "body": "\n\n".join(text["body"]),
        "slogans": "\n".join(text.get("slogans", [])),
        "demands_intro": text.get("demands_intro", ""),
        "signed_by": text.get("signed_by", ""),
        "date_line": text.get("date_line", ""),
    }


def _digest(values: dict, demands: list[str]) -> str:
    payload = json.dumps([values, demands], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _current_digest(row: StatementTranslation) -> str:
    values = {key: getattr(row, key) for key in TEXT_FIELDS}
    demands = list(
        DemandTranslation.objects.filter(demand__statement=row.statement, language=row.language)
        .order_by("demand__position")
        .values_list("text", flat=True)
    )
    return _digest(values, demands)


@transaction.atomic
def load_folder(folder: Path, *, force: bool = False) -> LoadReport:
    meta, texts = read_folder(folder)
    report = LoadReport()
    statement, created = Statement.objects.get_or_create(
        slug=meta["slug"],
        defaults={
            "original_language": meta.get("original_language", "es"),
            "is_default": False,
        },
    )
    if meta.get("is_default") and not Statement.objects.filter(is_default=True).exists():
        statement.is_default = True
        statement.save(update_fields=["is_default"])
    if created:
        report.created.append(statement.slug)

    demand_count = len(texts[0]["demands"]) if texts else 0
    demands = []
    for position in range(1, demand_count + 1):
        demand, _ = Demand.objects.get_or_create(statement=statement, position=position)
        demands.append(demand)

    for text in texts:
        language = text["language"]
        label = f"{statement.slug}/{language}"
        values = _row_values(text)
        digest = _digest(values, list(text["demands"]))
        row = StatementTranslation.objects.filter(statement=statement, language=language).first()
        if row is None:
            row = StatementTranslation(statement=statement, language=language)
            report.created.append(label)
        elif row.source_digest == digest and _current_digest(row) == digest:
            report.unchanged.append(label)
            continue
        elif not force and row.source_digest and _current_digest(row) != row.source_digest:
            # Edited in the admin after the last load: the organiser's text wins.
            report.kept_edits.append(label)
            continue
        else:
            report.updated.append(label)
        for key, value in values.items():
            setattr(row, key, value)
        row.source_digest = digest
        row.save()
        for demand, demand_text in zip(demands, text["demands"], strict=True):
            DemandTranslation.objects.update_or_create(
                demand=demand, language=language, defaults={"text": demand_text}
            )
    return report


def load_all(*, force: bool = False) -> LoadReport:
    total = LoadReport()
    for folder in sorted(p for p in CONTENT_DIR.iterdir() if (p / "statement.toml").exists()):
        report = load_folder(folder, force=force)
        for name in ("created", "updated", "unchanged", "kept_edits"):
            getattr(total, name).extend(getattr(report, name))
    return total
