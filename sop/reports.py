"""The register and the evidence of SOP compliance as files: an XLSX workbook (the DIK in
the columns public bodies publish, the records still in the SOP's steps, time per step
against the standard, a summary per division and month), the DIK as CSV, and a PNG chart
of on-time share per step.

The DIK holds stored records only; a record still in the steps is work in progress, and a
withdrawn draft is in neither (``report_data`` leaves it out). SOP compliance counts every
finished step run and every open one already past its due time (as late).

Pure functions over ``ReportData``; nothing here reads the database or talks to Telegram.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sop.four_eyes import accepted_by_producer
from sop.locale_id import MONTHS, long_date
from sop.model import DurationUnit, ExemptionPeriod, PeriodKind, RecordView, State, Step
from sop.register import RegisterStatus, ReportData, ReportRecord, StepTime
from sop.validation import without_until

SHEET_DIK = "DIK"
SHEET_IN_PROGRESS = "Dalam proses"
SHEET_COMPLIANCE = "Kepatuhan SOP"
SHEET_SUMMARY = "Ringkasan"

DIK_HEADERS = ("No", "Informasi", "Dasar hukum", "Konsekuensi", "Jangka waktu", "Keterangan")
IN_PROGRESS_HEADERS = (
    "Nomor berkas",
    "Judul",
    "Bagian",
    "Langkah",
    "Percobaan",
    "Menunggu",
    "Mulai (WIB)",
    "Batas waktu (WIB)",
    "Terlambat",
    "Waktu kerja sejauh ini (menit)",
)
COMPLIANCE_HEADERS = (
    "Nomor berkas",
    "Judul",
    "Bagian",
    "Langkah",
    "Percobaan",
    "Pelaksana",
    "Mulai (WIB)",
    "Batas waktu (WIB)",
    "Selesai (WIB)",
    "Hasil",
    "Waktu kerja (menit)",
    "Waktu kalender (menit)",
    "Tepat waktu",
)
SUMMARY_HEADERS = (
    "Bagian",
    "Bulan",
    "Berkas",
    "Tersimpan (DIK)",
    *(f"Median langkah {int(step)} (menit)" for step in Step),
    *(f"Tepat waktu langkah {int(step)}" for step in Step),
    "Tepat waktu (semua langkah)",
)
ALL_DIVISIONS = "Semua bagian"

_STEP_LABELS = {
    Step.PRODUCE: "1. Menghasilkan dan menyimpan (Petugas PPID)",
    Step.HANDOVER: "2. Menyerahkan dan mendata (Petugas Dokumentasi)",
    Step.RECEIVE: "3. Menerima dan menyimpan (Pejabat PPID)",
}
_OUTCOMES = {"done": "selesai", "returned": "dikembalikan", "cancelled": "dibatalkan"}
_RUNNING = "berjalan"
_RUNNING_LATE = "berjalan, terlambat"
#: The delimiters a CSV can be written with: "," and ";" (Excel with Indonesian settings
#: reads ";", since "," is its decimal separator there).
CSV_DELIMITERS = (",", ";")
_IN_PROGRESS = {
    State.DRAFT: "dalam proses: langkah 1",
    State.SUBMITTED: "dalam proses: langkah 2",
    State.REGISTERED: "dalam proses: langkah 3",
}
_DATETIME_FORMAT = "dd-mm-yyyy hh:mm"
#: The mark of a record received in step 3 by its producer (possible with FOUR_EYES=standard).
ACCEPTED_BY_PRODUCER = (
    "PERHATIAN: diterima pada langkah 3 oleh pembuat berkas sendiri (syarat SOP minimal "
    "2 orang dilonggarkan)"
)


# -- words --------------------------------------------------------------------------------


def standard_text(standard: timedelta) -> str:
    minutes = int(standard.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    if hours and not rest:
        return f"{hours} jam"
    return f"{minutes} menit"


def legal_basis_text(letters: Sequence[str], other: str | None) -> str:
    parts = [f"Pasal 17 huruf {letter} UU 14/2008" for letter in letters]
    if other:
        parts.append(other)
    return "; ".join(parts)


def period_text(period: ExemptionPeriod, end: date | None) -> str:
    if period.kind is PeriodKind.UNTIL_DATE and period.until:
        return f"Sampai {long_date(period.until)}"
    if period.kind is PeriodKind.DURATION:
        unit = DurationUnit(period.unit).value if period.unit else ""
        text = f"{period.amount} {unit} sejak penetapan"
        return f"{text} (sampai {long_date(end)})" if end else text
    if period.kind is PeriodKind.CONDITION:
        return f"Sampai {without_until(period.condition or '')}"
    return "Permanen"


def remarks(item: ReportRecord) -> str:
    """Keterangan: status, register number, opened day, who classified it where and when."""
    entry = item.entry
    record = entry.record
    f = record.fields
    parts: list[str] = []
    if entry.status is RegisterStatus.OPENED and entry.opened_on:
        parts.append(f"Dibuka sejak {long_date(entry.opened_on)}")
    elif entry.status is RegisterStatus.STORED:
        parts.append("Dikecualikan")
    else:
        parts.append(_IN_PROGRESS.get(record.state, "dibatalkan").capitalize())
    parts.append(
        f"Nomor register {record.register_number}"
        if record.register_number
        else f"Nomor sementara {record.number}"
    )
    parts.append(f"Bagian {record.division_name}")
    parts.append(
        f"Ditetapkan oleh {f.classified_by}, {f.classified_place}, {long_date(f.classified_date)}"
    )
    if accepted_by_producer(record):
        parts.append(ACCEPTED_BY_PRODUCER)
    return "; ".join(parts)


# -- rows ---------------------------------------------------------------------------------
def stored(data: ReportData) -> list[ReportRecord]:
    """The records of the DIK: step 3 done (whether still exempted or opened since)."""
    return [item for item in data.records if item.entry.record.state is State.STORED]


def in_progress(data: ReportData) -> list[ReportRecord]:
    """The records still in the SOP's steps (a step open), oldest first."""
    return [item for item in data.records if item.entry.record.current_run is not None]


def dik_rows(data: ReportData) -> list[list[object]]:
    """The DIK as public bodies publish it, oldest record first: stored records only."""
    return list(iter_dik_rows(data))


def iter_dik_rows(data: ReportData) -> Iterator[list[object]]:
    """``dik_rows`` one at a time."""
    stored_items = (item for item in data.records if item.entry.record.state is State.STORED)
    for number, item in enumerate(stored_items, start=1):
        record = item.entry.record
        f = record.fields
        yield [
            number,
            f"{f.title}\n{f.description}",
            legal_basis_text(f.pasal17, f.other_legal_basis),
            f.consequence,
            period_text(f.period, item.entry.ends_on),
            remarks(item),
        ]


def in_progress_rows(data: ReportData) -> list[list[object]]:
    """Work in progress: each open record with its step, who it waits on and its due time."""
    return list(iter_in_progress_rows(data))


def iter_in_progress_rows(data: ReportData) -> Iterator[list[object]]:
    """``in_progress_rows`` one at a time."""
    for item in data.records:
        record = item.entry.record
        run = record.current_run
        if run is None:
            continue
        time = item.times[record.runs.index(run)] if run in record.runs else None
        yield (
            [
                record.number,
                record.fields.title,
                record.division_name,
                _STEP_LABELS[run.step],
                run.attempt,
                ", ".join(item.entry.holders) or "(belum ada yang dapat mengerjakan)",
                _local(run.started_at, data.tz),
                _local(run.due_at, data.tz),
                _yes_no(data.generated_at > run.due_at),
                _minutes(time.working) if time is not None else None,
            ]
        )


def _minutes(value: timedelta) -> float:
    return round(value.total_seconds() / 60, 1)


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    """Excel keeps no time zone: write the office's local time, as the header says."""
    return moment.astimezone(tz).replace(tzinfo=None) if moment is not None else None


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else "Ya" if value else "Tidak"


def compliance_rows(data: ReportData) -> list[list[object]]:
    """One row per run of a step (a returned step runs again and gets a row of its own)."""
    return list(iter_compliance_rows(data))


def iter_compliance_rows(data: ReportData) -> Iterator[list[object]]:
    """``compliance_rows`` one at a time."""
    for item in data.records:
        record = item.entry.record
        for run, time in zip(record.runs, item.times, strict=True):
            yield (
                [
                    record.number,
                    record.fields.title,
                    record.division_name,
                    _STEP_LABELS[run.step],
                    run.attempt,
                    run.completed_by_name,
                    _local(run.started_at, data.tz),
                    _local(run.due_at, data.tz),
                    _local(run.completed_at, data.tz),
                    _OUTCOMES.get(run.outcome or "", _RUNNING_LATE if time.overdue else _RUNNING),
                    _minutes(time.working),
                    _minutes(time.wall),
                    _yes_no(time.on_time if time.counted else None),
                ]
            )


def month_of(record: RecordView, tz: ZoneInfo) -> str:
    """The month a record was started, ``2026-11``; its steps are counted in that month."""
    local = record.created_at.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


@dataclass
class _Group:
    records: int = 0
    stored: int = 0
    times: dict[Step, list[StepTime]] = field(default_factory=lambda: {s: [] for s in Step})


def _counted_by_step(item: ReportRecord) -> Iterable[tuple[Step, StepTime]]:
    """The runs SOP compliance counts: finished ones, and open ones already overdue."""
    for run, time in zip(item.entry.record.runs, item.times, strict=True):
        if time.counted:
            yield run.step, time


def _share(times: Sequence[StepTime]) -> float | None:
    if not times:
        return None
    return round(sum(1 for t in times if t.on_time) / len(times), 4)


def _median(times: Sequence[StepTime]) -> float | None:
    """The median working time of the finished runs (an open run has not taken its time
    yet)."""
    finished = [t.working.total_seconds() / 60 for t in times if t.finished]
    if not finished:
        return None
    return round(statistics.median(finished), 1)


def summary_rows(data: ReportData) -> list[list[object]]:
    """Per division and month: records, of which stored, median working time per step,
    share on time (of finished runs and of open runs already overdue, which count as
    late); the last row adds everything up."""
    groups: dict[tuple[str, str], _Group] = defaultdict(_Group)
    total = _Group()
    for item in data.records:
        record = item.entry.record
        key = (record.division_name, month_of(record, data.tz))
        for group in (groups[key], total):
            group.records += 1
            group.stored += record.state is State.STORED
            for step, time in _counted_by_step(item):
                group.times[step].append(time)
    rows = [
        _summary_row(division, month, group) for (division, month), group in sorted(groups.items())
    ]
    rows.append(_summary_row(ALL_DIVISIONS, "Jumlah", total))
    return rows


def _summary_row(division: str, month: str, group: _Group) -> list[object]:
    every = [time for step in Step for time in group.times[step]]
    return [
        division,
        month,
        group.records,
        group.stored,
        *(_median(group.times[step]) for step in Step),
        *(_share(group.times[step]) for step in Step),
        _share(every),
    ]


def on_time_by_month(data: ReportData) -> dict[str, dict[Step, float | None]]:
    """The chart's numbers: per month, per step, the share on time of the runs compliance
    counts (finished, or open and already overdue)."""
    months: dict[str, dict[Step, list[StepTime]]] = defaultdict(lambda: {s: [] for s in Step})
    for item in data.records:
        month = month_of(item.entry.record, data.tz)
        for step, time in _counted_by_step(item):
            months[month][step].append(time)
    return {
        month: {step: _share(times[step]) for step in Step}
        for month, times in sorted(months.items())
    }


# -- files --------------------------------------------------------------------------------
def workbook_bytes(data: ReportData) -> bytes:
    """The XLSX workbook: sheets "DIK", "Dalam proses", "Kepatuhan SOP" and "Ringkasan".

    Written in openpyxl's write-only mode: each row goes to the file as it is made, with
    only the header, wrapped text and date or percent formats styled, so the workbook of
    a large archive is not held cell by cell in memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    book.properties.title = "Daftar Informasi yang Dikecualikan"
    book.properties.creator = "ppidbot"
    standard = standard_text(data.standard)
    bold = Font(bold=True)
    wrapped = Alignment(wrap_text=True, vertical="top")

    def fill(
        title: str,
        headers: Sequence[str],
        rows: Iterable[list[object]],
        widths: Sequence[int],
        *,
        formats: dict[int, str] | None = None,  # by column index, 0-based
        wrap: bool = False,
    ) -> Any:
        ws = book.create_sheet(title)
        for index, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
        ws.freeze_panes = "A2"
        header = []
        for text in headers:
            cell = WriteOnlyCell(ws, text)
            cell.font = bold
            cell.alignment = wrapped
            header.append(cell)
        ws.append(header)
        count = 0
        for row in rows:
            if formats or wrap:
                styled: list[object] = []
                for index, value in enumerate(row):
                    number_format = formats.get(index) if formats else None
                    if not wrap and number_format is None:
                        styled.append(value)
                        continue
                    cell = WriteOnlyCell(ws, value)
                    if wrap:
                        cell.alignment = wrapped
                    if number_format is not None and value is not None:
                        cell.number_format = number_format
                    styled.append(cell)
                row = styled
            ws.append(row)
            count += 1
        if count:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
        return ws

    fill(SHEET_DIK, DIK_HEADERS, iter_dik_rows(data), (5, 50, 30, 45, 28, 45), wrap=True)
    fill(
        SHEET_IN_PROGRESS,
        IN_PROGRESS_HEADERS,
        iter_in_progress_rows(data),
        (16, 40, 30, 42, 10, 30, 17, 17, 10, 14),
        formats={6: _DATETIME_FORMAT, 7: _DATETIME_FORMAT},
    )
    fill(
        SHEET_COMPLIANCE,
        COMPLIANCE_HEADERS,
        iter_compliance_rows(data),
        (16, 40, 30, 42, 10, 24, 17, 17, 17, 13, 12, 12, 11),
        formats={6: _DATETIME_FORMAT, 7: _DATETIME_FORMAT, 8: _DATETIME_FORMAT},
    )
    summary_lines = summary_rows(data)
    summary = fill(
        SHEET_SUMMARY,
        SUMMARY_HEADERS,
        summary_lines,
        (30, 10, 8, 10, 14, 14, 14, 13, 13, 13, 14),
        formats={index: "0%" for index in range(7, 11)},
    )
    summary.append([])
    summary.append([f"Standar waktu setiap langkah: {standard} (SOP 25/2021)."])
    summary.append(
        [
            "Waktu kerja dihitung dengan kalender kerja kantor dan dicatat saat langkah "
            "selesai; waktu kalender adalah waktu yang berlalu. Bulan = bulan berkas mulai "
            "dicatat. Ketepatan waktu menghitung langkah yang selesai atau dikembalikan, dan "
            "langkah yang masih berjalan tetapi sudah lewat batas waktunya (terlambat); "
            "median hanya dari langkah yang selesai. Berkas yang dibatalkan tidak dihitung."
        ]
    )
    summary.append([f"Dibuat {data.generated_at.astimezone(data.tz):%d-%m-%Y %H.%M} WIB."])

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def dik_csv_bytes(data: ReportData, delimiter: str = ",") -> bytes:
    """The DIK sheet as CSV (UTF-8 with a byte-order mark, so spreadsheets read it right);
    ``delimiter`` ";" for Excel with Indonesian settings."""
    if delimiter not in CSV_DELIMITERS:
        raise ValueError(f"CSV delimiter must be one of {CSV_DELIMITERS}, not {delimiter!r}")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(DIK_HEADERS)
    writer.writerows(dik_rows(data))
    return buffer.getvalue().encode("utf-8-sig")


def chart_png(data: ReportData) -> bytes | None:
    """A bar chart of on-time share per step per month; None when no step has finished
    or is overdue."""
    shares = on_time_by_month(data)
    if not shares:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    months = list(shares)
    figure = Figure(figsize=(max(6.0, 1.6 * len(months) + 3), 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    width = 0.8 / len(Step)
    for index, step in enumerate(Step):
        # A month without a counted run of the step gets no bar (not a 0 % bar).
        values = [
            math.nan if shares[month][step] is None else 100 * (shares[month][step] or 0)
            for month in months
        ]
        positions = [m + (index - 1) * width for m in range(len(months))]
        bars = axes.bar(positions, values, width, label=f"Langkah {int(step)}")
        axes.bar_label(bars, fmt="%.0f%%", fontsize=8)
    axes.set_xticks(range(len(months)))
    axes.set_xticklabels([_month_label(month) for month in months])
    axes.set_xlim(-0.6, len(months) - 0.4)
    axes.set_ylim(0, 112)
    axes.set_ylabel("Tepat waktu (%)")
    axes.set_title(f"Ketepatan waktu per langkah (standar {standard_text(data.standard)})")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(Step), frameon=False)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _month_label(month: str) -> str:
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1][:3]} {year}"


__all__ = [
    "COMPLIANCE_HEADERS",
    "CSV_DELIMITERS",
    "DIK_HEADERS",
    "IN_PROGRESS_HEADERS",
    "SHEET_COMPLIANCE",
    "SHEET_DIK",
    "SHEET_IN_PROGRESS",
    "SHEET_SUMMARY",
    "SUMMARY_HEADERS",
    "chart_png",
    "compliance_rows",
    "dik_csv_bytes",
    "dik_rows",
    "in_progress",
    "in_progress_rows",
    "on_time_by_month",
    "stored",
    "summary_rows",
    "workbook_bytes",
]
