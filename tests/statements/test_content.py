import tomllib
from pathlib import Path

import pytest
from django.core.management import call_command

from statements.admin import StatementTranslationInline
from statements.content import CONTENT_DIR, load_all
from statements.models import DemandTranslation, Statement, StatementTranslation

FOLDER = CONTENT_DIR / "kazakhstan-2022"
SHARED_SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "statement-es.txt"


def _text(language: str) -> dict:
    return tomllib.loads((FOLDER / f"{language}.toml").read_text(encoding="utf-8"))


def _lines_of(text: dict) -> list[str]:
    return [
        text["title"],
        *text["body"],
        *text["slogans"],
        text["demands_intro"],
        *[f"– {demand}" for demand in text["demands"]],
        text["signed_by"],
        text["date_line"],
    ]


def _seed_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line]


def test_spanish_file_rebuilds_the_original_verbatim():
    assert _lines_of(_text("es")) == _seed_lines(FOLDER / "original-es.txt")


def test_repository_copy_of_the_original_matches_the_shared_seed():
    if not SHARED_SEED.exists():
        # Outside the development workspace only the repository copy exists; the test above
        # still pins the Spanish text to it.
        assert (FOLDER / "original-es.txt").exists()
        return
    assert _seed_lines(FOLDER / "original-es.txt") == _seed_lines(SHARED_SEED)


@pytest.mark.parametrize("language", ["en", "ru", "kk"])
def test_translations_mirror_the_original_structure(language):
    original, translation = _text("es"), _text(language)
    assert translation["language"] == language
    assert translation["is_original"] is False
    assert translation["translation_note"]
    for key in ("body", "slogans", "demands"):
        assert len(translation[key]) == len(original[key]), key
    assert all(item.strip() for item in _lines_of(translation))


def test_five_demands_loaded_in_order(statement):
    demands = list(
        DemandTranslation.objects.filter(demand__statement=statement, language="es")
        .order_by("demand__position")
        .values_list("text", flat=True)
    )
    assert demands == _text("es")["demands"]
    assert len(demands) == 5


def test_load_is_idempotent(db):
    first = load_all()
    counts = (
        Statement.objects.count(),
        StatementTranslation.objects.count(),
        DemandTranslation.objects.count(),
    )
    second = load_all()
    assert first.created and not second.created and not second.updated
    assert sorted(second.unchanged) == sorted(
        f"kazakhstan-2022/{lang}" for lang in ("es", "en", "ru", "kk")
    )
    assert counts == (1, 4, 20)
    assert (
        Statement.objects.count(),
        StatementTranslation.objects.count(),
        DemandTranslation.objects.count(),
    ) == counts
    assert Statement.objects.get().is_default


def test_admin_edits_survive_a_reload_unless_forced(statement, capsys):
    text = StatementTranslation.objects.get(statement=statement, language="en")
    text.title = "Edited by an organiser"
    text.save()
    call_command("load_statement")
    assert "kept" in capsys.readouterr().out
    text.refresh_from_db()
    assert text.title == "Edited by an organiser"

    call_command("load_statement", "--force")
    text.refresh_from_db()
    assert text.title == _text("en")["title"]


@pytest.mark.parametrize(
    "field", [f for f in StatementTranslationInline.fields if f not in {"language", "is_original"}]
)
def test_every_text_the_admin_edits_survives_a_reload(statement, field):
    text = StatementTranslation.objects.get(statement=statement, language="en")
    setattr(text, field, "Edited by an organiser")
    text.save()
    call_command("load_statement")
    text.refresh_from_db()
    assert getattr(text, field) == "Edited by an organiser"


def test_signing_switch_survives_a_reload(statement):
    statement.signing_open = False
    statement.save()
    load_all()
    statement.refresh_from_db()
    assert statement.signing_open is False
