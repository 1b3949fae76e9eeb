"""The register and the evidence of SOP compliance as files: an XLSX workbook (the DIK in
the columns public bodies publish, the records still in the SOP's steps, time per step
against the standard, a summary per division and month), the DIK as CSV, and a PNG chart
of on-time share per step.

The DIK holds stored records only; a record still in the steps is work in progress, and a
withdrawn draft is in neither (``report_data`` leaves it out). SOP compliance counts every
finished step run and every open one already past its due time (as late).

Pure functions over ``ReportData`` (the domain's plain data, ``sop.register``): nothing
here reads the database or talks to Telegram; the words are the catalogue's.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from bot.texts import OUTCOME_NAMES, ROLE_NAMES, STEP_ACTIONS, legal_basis, period_line
from sop.four_eyes import accepted_by_producer
from sop.locale_id import MONTHS, long_date
from sop.model import (
    STEP_ROLES,
    RecordView,
    State,
    Step,
    StepRunView,
)
from sop.register import RegisterStatus, ReportData, ReportRecord, StepTime

R = TypeVar("R")

SHEET_DIK = "DIK"
SHEET_IN_PROGRESS = "Dalam proses"
SHEET_COMPLIANCE = "Kepatuhan SOP"
SHEET_SUMMARY = "Ringkasan"

ALL_DIVISIONS = "Semua bagian"

_STEP_LABELS = {
    step: f"{int(step)}. {action.capitalize()} ({ROLE_NAMES[STEP_ROLES[step]]})"
    for step, action in STEP_ACTIONS.items()
}
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


# -- columns -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Column(Generic[R]):
    """One column of a sheet, declared once: its header, its width in the workbook, how
    its value is taken from the sheet's row, and the number format of that value."""

    header: str
    width: int
    value: Callable[[R], object]
    number_format: str | None = None


@dataclass(frozen=True, slots=True)
class DikLine:
    number: int  # the DIK's running number
    item: ReportRecord


@dataclass(frozen=True, slots=True)
class RunLine:
    """One run of a step of a record, with its measured time (None: not measured)."""

    item: ReportRecord
    run: StepRunView
    time: StepTime | None
    data: ReportData

    @property
    def record(self) -> RecordView:
        return self.item.entry.record


@dataclass(frozen=True, slots=True)
class SummaryLine:
    division: str
    month: str
    group: _Group


def headers(columns: Sequence[Column[Any]]) -> tuple[str, ...]:
    return tuple(column.header for column in columns)


def _values(columns: Sequence[Column[R]], lines: Iterable[R]) -> Iterator[list[object]]:
    for line in lines:
        yield [column.value(line) for column in columns]


DIK_COLUMNS: tuple[Column[DikLine], ...] = (
    Column("No", 5, lambda line: line.number),
    Column(
        "Informasi",
        50,
        lambda line: (
            f"{line.item.entry.record.fields.title}\n{line.item.entry.record.fields.description}"
        ),
    ),
    Column(
        "Dasar hukum",
        30,
        lambda line: legal_basis(
            line.item.entry.record.fields.pasal17, line.item.entry.record.fields.other_legal_basis
        ),
    ),
    Column("Konsekuensi", 45, lambda line: line.item.entry.record.fields.consequence),
    Column(
        "Jangka waktu",
        28,
        lambda line: period_line(line.item.entry.record.fields.period, line.item.entry.ends_on),
    ),
    Column("Keterangan", 45, lambda line: remarks(line.item)),
)

#: The columns every sheet of step runs starts with.
_RUN_COLUMNS: tuple[Column[RunLine], ...] = (
    Column("Nomor berkas", 16, lambda line: line.record.number),
    Column("Judul", 40, lambda line: line.record.fields.title),
    Column("Bagian", 30, lambda line: line.record.division_name),
    Column("Langkah", 42, lambda line: _STEP_LABELS[line.run.step]),
    Column("Percobaan", 10, lambda line: line.run.attempt),
)

_STARTED: Column[RunLine] = Column(
    "Mulai (WIB)", 17, lambda line: _local(line.run.started_at, line.data.tz), _DATETIME_FORMAT
)
_DUE: Column[RunLine] = Column(
    "Batas waktu (WIB)", 17, lambda line: _local(line.run.due_at, line.data.tz), _DATETIME_FORMAT
)

IN_PROGRESS_COLUMNS: tuple[Column[RunLine], ...] = (
    *_RUN_COLUMNS,
    Column(
        "Menunggu",
        30,
        lambda line: ", ".join(line.item.entry.holders) or "(belum ada yang dapat mengerjakan)",
    ),
    _STARTED,
    _DUE,
    Column("Terlambat", 10, lambda line: _yes_no(line.data.generated_at > line.run.due_at)),
    Column(
        "Waktu kerja sejauh ini (menit)",
        14,
        lambda line: _minutes(line.time.working) if line.time is not None else None,
    ),
)

COMPLIANCE_COLUMNS: tuple[Column[RunLine], ...] = (
    *_RUN_COLUMNS,
    Column("Pelaksana", 24, lambda line: line.run.completed_by_name),
    _STARTED,
    _DUE,
    Column(
        "Selesai (WIB)",
        17,
        lambda line: _local(line.run.completed_at, line.data.tz),
        _DATETIME_FORMAT,
    ),
    Column("Hasil", 13, lambda line: _outcome(line.run, line.time)),
    Column("Waktu kerja (menit)", 12, lambda line: _minutes(_measured(line).working)),
    Column("Waktu kalender (menit)", 12, lambda line: _minutes(_measured(line).wall)),
    Column(
        "Tepat waktu",
        11,
        lambda line: _yes_no(_measured(line).on_time if _measured(line).counted else None),
    ),
)


def _step_columns(step: Step) -> tuple[Column[SummaryLine], Column[SummaryLine]]:
    return (
        Column(
            f"Median langkah {int(step)} (menit)",
            14,
            lambda line: _median(line.group.times[step]),
        ),
        Column(
            f"Tepat waktu langkah {int(step)}",
            13,
            lambda line: _share(line.group.times[step]),
            "0%",
        ),
    )


_MEDIANS, _SHARES = zip(*(_step_columns(step) for step in Step), strict=True)

SUMMARY_COLUMNS: tuple[Column[SummaryLine], ...] = (
    Column("Bagian", 30, lambda line: line.division),
    Column("Bulan", 10, lambda line: line.month),
    Column("Berkas", 8, lambda line: line.group.records),
    Column("Tersimpan (DIK)", 10, lambda line: line.group.stored),
    *_MEDIANS,
    *_SHARES,
    Column(
        "Tepat waktu (semua langkah)",
        14,
        lambda line: _share([time for step in Step for time in line.group.times[step]]),
        "0%",
    ),
)

DIK_HEADERS = headers(DIK_COLUMNS)
IN_PROGRESS_HEADERS = headers(IN_PROGRESS_COLUMNS)
COMPLIANCE_HEADERS = headers(COMPLIANCE_COLUMNS)
SUMMARY_HEADERS = headers(SUMMARY_COLUMNS)


# -- rows ---------------------------------------------------------------------------------
def stored(data: ReportData) -> list[ReportRecord]:
    """The records of the DIK: step 3 done (whether still exempted or opened since)."""
    return [item for item in data.records if item.entry.record.state is State.STORED]


def in_progress(data: ReportData) -> list[ReportRecord]:
    """The records still in the SOP's steps (a step open), oldest first."""
    return [item for item in data.records if item.entry.record.current_run is not None]


def _dik_lines(data: ReportData) -> Iterator[DikLine]:
    """The DIK as public bodies publish it, oldest record first: stored records only."""
    stored_items = (item for item in data.records if item.entry.record.state is State.STORED)
    for number, item in enumerate(stored_items, start=1):
        yield DikLine(number, item)


def _in_progress_lines(data: ReportData) -> Iterator[RunLine]:
    """Work in progress: each open record with its step, who it waits on and its due time."""
    for item in data.records:
        record = item.entry.record
        run = record.current_run
        if run is None:
            continue
        time = item.times[record.runs.index(run)] if run in record.runs else None
        yield RunLine(item, run, time, data)


def _compliance_lines(data: ReportData) -> Iterator[RunLine]:
    """One line per run of a step (a returned step runs again and gets a line of its own)."""
    for item in data.records:
        for run, time in zip(item.entry.record.runs, item.times, strict=True):
            yield RunLine(item, run, time, data)


def dik_rows(data: ReportData) -> list[list[object]]:
    """The DIK sheet's rows, oldest record first: stored records only."""
    return list(_values(DIK_COLUMNS, _dik_lines(data)))


def in_progress_rows(data: ReportData) -> list[list[object]]:
    """The rows of the sheet of work in progress."""
    return list(_values(IN_PROGRESS_COLUMNS, _in_progress_lines(data)))


def compliance_rows(data: ReportData) -> list[list[object]]:
    """The rows of the SOP compliance sheet: one per run of a step."""
    return list(_values(COMPLIANCE_COLUMNS, _compliance_lines(data)))


def _measured(line: RunLine) -> StepTime:
    assert line.time is not None  # every run of the compliance sheet is measured
    return line.time


def _outcome(run: StepRunView, time: StepTime | None) -> str:
    running = _RUNNING_LATE if time is not None and time.overdue else _RUNNING
    return OUTCOME_NAMES.get(run.outcome or "", running)


def _minutes(value: timedelta) -> float:
    return round(value.total_seconds() / 60, 1)


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    """Excel keeps no time zone: write the office's local time, as the header says."""
    return moment.astimezone(tz).replace(tzinfo=None) if moment is not None else None


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else "Ya" if value else "Tidak"


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
    return list(_values(SUMMARY_COLUMNS, _summary_lines(data)))


def _summary_lines(data: ReportData) -> list[SummaryLine]:
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
    lines = [
        SummaryLine(division, month, group) for (division, month), group in sorted(groups.items())
    ]
    lines.append(SummaryLine(ALL_DIVISIONS, "Jumlah", total))
    return lines


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
        title: str, columns: Sequence[Column[R]], lines: Iterable[R], *, wrap: bool = False
    ) -> Any:
        ws = book.create_sheet(title)
        for index, column in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        ws.freeze_panes = "A2"
        header = []
        for column in columns:
            cell = WriteOnlyCell(ws, column.header)
            cell.font = bold
            cell.alignment = wrapped
            header.append(cell)
        ws.append(header)
        styled = wrap or any(column.number_format for column in columns)
        count = 0
        for values in _values(columns, lines):
            if styled:
                values = [
                    _cell(ws, column, value, wrap)
                    for column, value in zip(columns, values, strict=True)
                ]
            ws.append(values)
            count += 1
        if count:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
        return ws

    def _cell(ws: Any, column: Column[Any], value: object, wrap: bool) -> object:
        """A value as it goes in the sheet: a styled cell only where wrapping or a number
        format asks for one (write-only cells cost memory)."""
        if not wrap and (column.number_format is None or value is None):
            return value
        cell = WriteOnlyCell(ws, value)
        if wrap:
            cell.alignment = wrapped
        if column.number_format is not None and value is not None:
            cell.number_format = column.number_format
        return cell

    fill(SHEET_DIK, DIK_COLUMNS, _dik_lines(data), wrap=True)
    fill(SHEET_IN_PROGRESS, IN_PROGRESS_COLUMNS, _in_progress_lines(data))
    fill(SHEET_COMPLIANCE, COMPLIANCE_COLUMNS, _compliance_lines(data))
    summary = fill(SHEET_SUMMARY, SUMMARY_COLUMNS, _summary_lines(data))
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
    "COMPLIANCE_COLUMNS",
    "COMPLIANCE_HEADERS",
    "CSV_DELIMITERS",
    "DIK_COLUMNS",
    "DIK_HEADERS",
    "IN_PROGRESS_COLUMNS",
    "IN_PROGRESS_HEADERS",
    "SHEET_COMPLIANCE",
    "SHEET_DIK",
    "SHEET_IN_PROGRESS",
    "SHEET_SUMMARY",
    "SUMMARY_COLUMNS",
    "SUMMARY_HEADERS",
    "Column",
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
