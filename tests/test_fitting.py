"""Every message the bot renders for a record fits Telegram's limits, with every field at
its maximum (and in characters that count double in UTF-16): shortened at a word
boundary with "…", the full text one tap away."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.texts import fitting
from bot.texts import new_record as nr
from bot.texts import notices as nt
from bot.texts import records as rt
from bot.texts import reminders as rm
from bot.texts import steps as st
from bot.texts.fitting import MAX_BUTTON_BYTES, MAX_CAPTION, MAX_TEXT, telegram_length
from sop.model import (
    PASAL17,
    Actor,
    ExemptionPeriod,
    FileView,
    PeriodKind,
    RecordFields,
    RecordView,
    Role,
    State,
    Step,
    StepRunView,
    Task,
)

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
WORDS = "Informasi pemilih disabilitas Kota Padang tahun anggaran 2026 rahasia "


def long_text(size: int, words: str = WORDS) -> str:
    return (words * (size // len(words) + 1))[:size].strip().ljust(size, "x")


def max_record(words: str = WORDS, *, files: int = 30, runs: int = 12) -> RecordView:
    fields = RecordFields(
        title=long_text(200, words),
        division_id=1,
        description=long_text(2000, words),
        pasal17=tuple(PASAL17),
        other_legal_basis=long_text(500, words),
        consequence=long_text(1000, words),
        period=ExemptionPeriod(PeriodKind.CONDITION, condition=long_text(500, words)),
        classified_by=long_text(200, words),
        classified_place=long_text(200, words),
        classified_date=date(2026, 11, 20),
    )
    run_views = tuple(
        StepRunView(
            step=Step(i % 3 + 1),
            attempt=i // 3 + 1,
            started_at=NOW + timedelta(hours=i),
            due_at=NOW + timedelta(hours=i + 1),
            completed_at=NOW + timedelta(hours=i, minutes=30) if i < runs - 1 else None,
            completed_by=7 if i < runs - 1 else None,
            completed_by_name=long_text(200, words) if i < runs - 1 else None,
            outcome=("done" if i % 3 else "returned") if i < runs - 1 else None,
            overdue_at=None,
        )
        for i in range(runs)
    )
    file_views = tuple(
        FileView(
            id=i,
            area="division",
            path=f"divisi/x/{i}.pdf",
            original_name=long_text(200, words) + f" {i}.pdf",
            mime_type="application/pdf",
            size=1234567,
            sha256="ab" * 32,
            uploaded_by=7,
            created_at=NOW,
        )
        for i in range(files)
    )
    return RecordView(
        id=123456,
        number="BRK-123456",
        register_number=None,
        fields=fields,
        division_name=long_text(200, words),
        state=State.REGISTERED,
        version=9,
        created_by=7,
        created_by_name=long_text(200, words),
        created_at=NOW,
        updated_at=NOW,
        return_reason=long_text(500, words),
        current_run=run_views[-1],
        files=file_views,
        runs=run_views,
    )


RECORDS = {
    "latin": max_record(),
    "emoji": max_record("🗳️ 😀 pemilih 🏛 "),  # astral characters: two UTF-16 units each
    "entities": max_record("<b>&amp; \"kutip\" & 'Pasal' > "),  # escaped, longer in HTML
}


def test_length_is_counted_as_telegram_counts_it() -> None:
    assert telegram_length("<b>a &amp; b</b>") == 5
    assert telegram_length("😀") == 2
    assert telegram_length("  x\n") == 1


def test_shortening_cuts_at_a_word_and_says_so() -> None:
    text = "Data pribadi pemilih disabilitas Kota Padang"
    assert fitting.shorten(text, 100) == text
    assert fitting.shorten(text, 20) == "Data pribadi…"
    assert fitting.utf16_len(fitting.shorten("😀" * 50, 21)) <= 21
    division = "Teknis Penyelenggaraan Pemilu, Partisipasi dan Hubungan Masyarakat"
    assert (
        fitting.button_text(division) == "Teknis Penyelenggaraan Pemilu, Partisipasi dan Hubungan…"
    )
    assert len(fitting.button_text(division).encode()) <= MAX_BUTTON_BYTES
    assert len(fitting.button_text("🗳️" * 40).encode()) <= MAX_BUTTON_BYTES
    assert fitting.button_text("✅ Ya, sudah") == "✅ Ya, sudah"


@pytest.mark.parametrize("kind", sorted(RECORDS))
def test_every_card_of_a_record_at_its_maximum_fits(kind: str) -> None:
    record = RECORDS[kind]
    actor = Actor(7, 101, long_text(200), None, frozenset({Role.PETUGAS_PPID}), 1, True)
    task = Task(record, Step.RECEIVE, NOW, True, timedelta(hours=3), timedelta(hours=5))
    status = st.RETURNED_STATUS.format(
        target="Langkah 1", who=long_text(200), when="Senin", reason=long_text(500)
    )
    texts = {
        "confirm": nr.confirm_card(record),
        "files prompt": nr.files_prompt(record, 20 * 1024 * 1024),
        "redo": nr.redo_header(record),
        "draft": nr.draft_created(record),
        "done": nr.done(record, [long_text(200)] * 10, anyone=True, more=["x" * 300]),
        "kept": nr.kept_as_draft(record),
        "cancelled": nr.cancelled_kept(record),
        "stored": nr.file_stored(record.files[0], 30),
        "basis": nr.chosen_basis(record.fields.pasal17, record.fields.other_legal_basis),
        "pasal": nr.pasal_question(list(PASAL17), record.fields.other_legal_basis),
        "card": st.fit(record, lambda shown: rt.card(shown, NOW)),
        "receive": st.receive_notice(record, long_text(200)),
        "closed": st.closed_card(record, NOW, status),
        "serahkan": st.waiting_list([record] * 20, NOW, 20)[0],
        "task": rt.task_line(task, NOW),
        "next step": nt.next_step(record),
        "returned": nt.returned(record, long_text(200), long_text(500)),
        "return info": nt.return_info(record, long_text(200), long_text(500), 1),
        "stored notice": nt.stored(record, long_text(200)),
        "corrected": nt.corrected(record, long_text(200), list(nt.FIELD_LABELS)),
        "report": nt.report([(long_text(200), None)] * 10, record.number),
        "reminder": rm.reminder(record, Step.RECEIVE, NOW, timedelta(minutes=5), late=True),
        "overdue": rm.overdue_actor(record, Step.RECEIVE, NOW),
        "escalation": rm.escalation(record, Step.RECEIVE, NOW, [actor] * 10),
        "return choose": st.RETURN_CHOOSE.format(number=record.number, title=record.fields.title),
        "fix value": st.FIX_ASK_VALUE.format(
            label="Uraian", label_lower="uraian", number="x", current=record.fields.description
        ),
    }
    for name, text in texts.items():
        assert telegram_length(text) <= MAX_TEXT, (name, telegram_length(text))
    for name in ("confirm", "card", "receive", "closed"):
        assert fitting.was_shortened(texts[name]), name
        assert fitting.SHORTENED_NOTE in texts[name]
        assert "…" in texts[name]
    assert telegram_length(st.file_caption(record, record.files[0])) <= MAX_CAPTION
    for label in (nr.me_button(long_text(200)), nr.detach_button(record.files[0].original_name)):
        assert len(label.encode()) <= MAX_BUTTON_BYTES and label.endswith("…")


@pytest.mark.parametrize("kind", sorted(RECORDS))
def test_the_full_text_holds_every_field_in_messages_that_fit(kind: str) -> None:
    record = RECORDS[kind]
    messages = fitting.full_text(record)
    assert len(messages) >= 2
    for message in messages:
        assert telegram_length(message) <= MAX_TEXT
    shown = fitting.html.unescape(fitting._TAG.sub("", "\n".join(messages)))
    flat = " ".join(shown.split())
    f = record.fields
    for value in (
        f.title,
        f.description,
        f.other_legal_basis or "",
        f.consequence,
        f.period.condition or "",
        f.classified_by,
        f.classified_place,
        record.return_reason or "",
    ):
        assert " ".join(value.split()) in flat


def test_a_short_record_is_not_shortened() -> None:
    record = max_record(files=1, runs=2)
    small = RecordView(
        **{
            **{name: getattr(record, name) for name in RecordView.__slots__},  # type: ignore[attr-defined]
            "fields": RecordFields(
                **{
                    **{n: getattr(record.fields, n) for n in RecordFields.__slots__},  # type: ignore[attr-defined]
                    "description": "Pendek.",
                    "consequence": "Pendek.",
                    "other_legal_basis": None,
                    "period": ExemptionPeriod(PeriodKind.PERMANENT),
                    "title": "Judul",
                }
            ),
            "return_reason": None,
            "division_name": "Hukum",
        }
    )
    card = nr.confirm_card(small)
    assert not fitting.was_shortened(card) and fitting.SHORTENED_NOTE not in card
