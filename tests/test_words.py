"""House rules for every word a user reads, checked over the whole text catalogue
(``bot/texts``) and the user-facing strings of ``handlers`` and ``sop``: "SOP" in capitals,
"penyimpanan internal PPID", no fixed "1 jam" where the standard is configured, and no
brackets inside brackets (a title in parentheses, a step name followed by a bracket)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.texts import calendar as calendar_texts
from bot.texts import records as record_texts
from bot.texts import start as start_texts
from sop.calendar import WorkingHours
from sop.model import RecordView, State, Step, StepRunView
from tests.conftest import sample_fields

ROOT = Path(__file__).resolve().parent.parent
#: Where user-facing words live (the command line's output is English, for the operator).
SOURCES = sorted(
    path
    for folder in ("bot", "handlers", "sop")
    for path in (ROOT / folder).rglob("*.py")
    if path != ROOT / "bot" / "cli.py"
)
RULES = {
    "'SOP' is written in capitals": re.compile(r"\b(?:sop|Sop)\b(?![./_])"),
    "'penyimpanan internal PPID', not 'storage internal'": re.compile(
        r"(?i)\bstorage (?:internal|bagian)"
    ),
    "the time standard is STEP_DEADLINE, not a fixed '1 jam'": re.compile(r"(?<!\d)1 jam\b"),
}


def literals(path: Path) -> Iterator[tuple[int, str]]:
    """Every string literal of a module except docstrings (f-strings: their text parts)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.lineno, node.value


def bracketed_titles(path: Path) -> Iterator[int]:
    """Lines where a title (user text that may hold brackets itself) is put in brackets:
    ``"({title})"`` in a template, or ``f"({h(record.fields.title)})"``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if re.search(r"\(\{title\}\)", node.value):
                yield node.lineno
        elif isinstance(node, ast.JoinedStr):
            parts = node.values
            for before, value, after in zip(parts, parts[1:], parts[2:], strict=False):
                if (
                    isinstance(before, ast.Constant)
                    and str(before.value).endswith("(")
                    and isinstance(value, ast.FormattedValue)
                    and "title" in ast.unparse(value.value)
                    and isinstance(after, ast.Constant)
                    and str(after.value).startswith(")")
                ):
                    yield node.lineno


@pytest.mark.parametrize("rule", list(RULES))
def test_the_catalogue_keeps_the_house_rules(rule: str) -> None:
    pattern = RULES[rule]
    broken = [
        f"{path.relative_to(ROOT)}:{line}: {text[:80]!r}"
        for path in SOURCES
        for line, text in literals(path)
        if pattern.search(text)
    ]
    assert broken == [], rule


def test_no_title_is_put_in_brackets() -> None:
    broken = [
        f"{path.relative_to(ROOT)}:{line}" for path in SOURCES for line in bracketed_titles(path)
    ]
    assert broken == []


def test_the_rules_catch_what_they_are_about(tmp_path: Path) -> None:
    """The scan itself finds each kind of mistake (so a passing scan means something)."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Docstrings may say sop and 1 jam."""\n'
        'A = "Langkah sesuai sop"\n'
        'B = "disimpan di storage internal PPID"\n'
        'C = "standar waktu 1 jam"\n'
        'D = "✅ <b>{number}</b> ({title}) disimpan"\n'
        'E = f"⏳ <b>{n}</b> ({h(record.fields.title)}) berakhir"\n'
        'F = "berlaku 24 jam; modul sop.model"\n',
        encoding="utf-8",
    )
    found = {
        rule: [line for line, text in literals(sample) if pattern.search(text)]
        for rule, pattern in RULES.items()
    }
    assert list(found.values()) == [[2], [3], [4]]
    assert list(bracketed_titles(sample)) == [5, 6]


NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def run(step: Step, attempt: int, outcome: str | None) -> StepRunView:
    return StepRunView(
        step=step,
        attempt=attempt,
        started_at=NOW,
        due_at=NOW + timedelta(hours=1),
        completed_at=NOW + timedelta(minutes=30) if outcome else None,
        completed_by=1 if outcome else None,
        completed_by_name="Rina (Bagian Umum)" if outcome else None,
        outcome=outcome,
        overdue_at=None,
    )


def test_a_step_run_again_has_no_bracket_after_the_step_name() -> None:
    runs = (run(Step.PRODUCE, 1, "done"), run(Step.HANDOVER, 1, "returned"))
    runs += (run(Step.PRODUCE, 2, "done"), run(Step.HANDOVER, 2, None))
    record = RecordView(
        id=1,
        number="BRK-1",
        register_number=None,
        fields=replace(sample_fields(), title="Data pemilih (revisi)"),
        division_name="Umum",
        state=State.SUBMITTED,
        version=3,
        created_by=1,
        created_by_name="Rina",
        created_at=NOW,
        updated_at=NOW,
        return_reason="Kurang halaman",
        current_run=runs[-1],
        runs=runs,
    )
    text = record_texts.card(record, NOW + timedelta(minutes=40))
    history = text.split("Riwayat:")[1]
    assert (
        "Langkah 1 (menghasilkan dan menyimpan), putaran ke-2: selesai oleh Rina (Bagian "
        "Umum), tepat waktu" in history
    )
    assert "Langkah 2 (menyerahkan dan mendata), putaran ke-2: berjalan" in history
    assert not re.search(r"\)\s*\(", history)


@pytest.mark.parametrize(
    ("standard", "said"),
    [
        (timedelta(hours=1), "1 jam"),
        (timedelta(minutes=45), "45 menit"),
        (timedelta(hours=2), "2 jam"),
    ],
)
def test_help_and_calendar_state_the_configured_standard(standard: timedelta, said: str) -> None:
    assert f"standar waktu {said}." in start_texts.help_intro(standard)
    listing = calendar_texts.listing(
        [],
        WorkingHours.parse("senin-jumat 08:00-16:00"),
        NOW.date(),
        NOW.date() + timedelta(days=60),
        admin=False,
        standard=standard,
    )
    assert f"Standar waktu SOP ({said} per langkah)" in listing
