"""The register as files: the XLSX workbook read back with openpyxl, the CSV, the PNG chart,
and the ``ppidbot report`` command."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot.cli import main
from sop import reports
from sop.clock import ManualClock
from sop.model import (
    DurationUnit,
    ExemptionPeriod,
    PeriodKind,
    RecordView,
    State,
    Step,
    StepRunView,
)
from sop.register import (
    RegisterEntry,
    RegisterService,
    ReportData,
    ReportRecord,
    StepTime,
    measure,
)
from sop.service import PpidService
from tests.conftest import Office, sample_fields
from tests.test_register import make_record

WIB = ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 08:00 WIB


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def run(
    step: Step, start: float, took: float | None, *, attempt: int = 1, outcome: str = "done"
) -> StepRunView:
    """A run starting ``start`` minutes after T0 that took ``took`` minutes (None: open)."""
    started = T0 + minutes(start)
    return StepRunView(
        step=step,
        attempt=attempt,
        started_at=started,
        due_at=started + timedelta(hours=1),
        completed_at=started + minutes(took) if took is not None else None,
        completed_by=10 + int(step) if took is not None else None,  # one person per step
        completed_by_name=f"Petugas {int(step)}" if took is not None else None,
        outcome=outcome if took is not None else None,
        overdue_at=None,
    )


def view(
    record_id: int,
    runs: list[StepRunView],
    *,
    state: State = State.STORED,
    division: str = "Hukum dan SDM",
    created: datetime = T0,
    **fields: object,
) -> RecordView:
    number = f"DIK-2026-{record_id:04d}" if state is State.STORED else None
    return RecordView(
        id=record_id,
        number=number or f"BRK-{record_id}",
        register_number=number,
        fields=sample_fields(**fields),
        division_name=division,
        state=state,
        version=1,
        created_by=1,
        created_by_name="Rina",
        created_at=created,
        updated_at=created,
        return_reason=None,
        current_run=next((r for r in runs if r.completed_at is None), None),
        runs=tuple(runs),
    )


def report_of(*items: tuple[RecordView, date | None], now: datetime | None = None) -> ReportData:
    now = now or T0 + timedelta(days=40)
    calendar = reports_calendar()
    records = tuple(
        ReportRecord(
            RegisterEntry(record, opened_on, record.fields.period.end_date(date(2026, 11, 20))),
            tuple(measure(r, calendar, now) for r in record.runs),
        )
        for record, opened_on in items
    )
    return ReportData(records, now, timedelta(hours=1), WIB)


class HalfTimeCalendar:
    """An office calendar where only half of the elapsed time is working time."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return start + 2 * duration

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        return (end - start) / 2


class WallCalendar:
    def add(self, start: datetime, duration: timedelta) -> datetime:
        return start + duration


def reports_calendar() -> WallCalendar:
    return WallCalendar()


@pytest.fixture
def data() -> ReportData:
    five_years = ExemptionPeriod(PeriodKind.DURATION, amount=5, unit=DurationUnit.YEARS)
    first = view(
        1,
        [run(Step.PRODUCE, 0, 20), run(Step.HANDOVER, 20, 90), run(Step.RECEIVE, 110, 10)],
        title="Notulen rapat pleno tertutup",
        pasal17=("a", "i"),
        other_legal_basis="PKPU 10/2018",
        period=five_years,
    )
    second = view(
        2,
        [
            run(Step.PRODUCE, 0, 30),
            run(Step.HANDOVER, 30, 40),
            run(Step.RECEIVE, 70, 5, outcome="returned"),
            run(Step.HANDOVER, 75, 10, attempt=2),
            run(Step.RECEIVE, 85, 50),
        ],
        division="Keuangan, Umum dan Logistik",
    )
    in_progress = view(
        3,
        [run(Step.PRODUCE, 0, 45), run(Step.HANDOVER, 45, None)],
        state=State.SUBMITTED,
        created=datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
    )
    return report_of((first, None), (second, date(2026, 12, 1)), (in_progress, None))


def sheet_rows(book: object, name: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in book[name].iter_rows(values_only=True)]  # type: ignore[index]


def test_workbook_has_the_dik_compliance_and_summary_sheets(data: ReportData) -> None:
    book = load_workbook(io.BytesIO(reports.workbook_bytes(data)))
    assert book.sheetnames == ["DIK", "Kepatuhan SOP", "Ringkasan"]
    dik = sheet_rows(book, "DIK")
    assert dik[0] == ("No", "Informasi", "Dasar hukum", "Konsekuensi", "Jangka waktu", "Keterangan")
    assert len(dik) == 4
    no, info, basis, consequence, period, remark = dik[1]
    assert no == 1
    assert info == (
        "Notulen rapat pleno tertutup\n"
        "Daftar nama dan alamat pemilih disabilitas hasil pemutakhiran."
    )
    assert basis == "Pasal 17 huruf a UU 14/2008; Pasal 17 huruf i UU 14/2008; PKPU 10/2018"
    assert consequence == "Membuka rahasia pribadi; merugikan pemilih bila dibuka."
    assert period == "5 tahun sejak penetapan (sampai 20 November 2031)"
    assert remark == (
        "Dikecualikan; Nomor register DIK-2026-0001; Bagian Hukum dan SDM; "
        "Ditetapkan oleh Andi Pejabat, Padang, 20 November 2026"
    )
    assert dik[2][4] == "Permanen"
    assert str(dik[2][5]).startswith("Dibuka sejak 1 Desember 2026; Nomor register DIK-2026-0002")
    assert str(dik[3][5]).startswith("Dalam proses: langkah 2; Nomor sementara BRK-3")


def test_compliance_sheet_has_one_row_per_step_run(data: ReportData) -> None:
    book = load_workbook(io.BytesIO(reports.workbook_bytes(data)))
    rows = sheet_rows(book, "Kepatuhan SOP")
    assert rows[0] == reports.COMPLIANCE_HEADERS
    assert len(rows) == 1 + 3 + 5 + 2
    assert rows[1] == (
        "DIK-2026-0001",
        "Notulen rapat pleno tertutup",
        "Hukum dan SDM",
        "1. Menghasilkan dan menyimpan (Petugas PPID)",
        1,
        "Petugas 1",
        datetime(2026, 11, 23, 8, 0),
        datetime(2026, 11, 23, 9, 0),
        datetime(2026, 11, 23, 8, 20),
        "selesai",
        20.0,
        20.0,
        "Ya",
    )
    late = rows[2]
    assert (late[3], late[10], late[12]) == (
        "2. Menyerahkan dan mendata (Petugas Dokumentasi)",
        90.0,
        "Tidak",
    )
    returned = rows[6]
    assert (returned[0], returned[4], returned[9], returned[12]) == (
        "DIK-2026-0002",
        1,
        "dikembalikan",
        "Ya",
    )
    assert rows[7][4] == 2  # the hand-over ran again after the return
    still_open = rows[-1]
    assert (still_open[0], still_open[8], still_open[9], still_open[12]) == (
        "BRK-3",
        None,
        "berjalan",
        None,
    )


def test_summary_per_division_and_month(data: ReportData) -> None:
    book = load_workbook(io.BytesIO(reports.workbook_bytes(data)))
    rows = sheet_rows(book, "Ringkasan")
    assert rows[0] == reports.SUMMARY_HEADERS
    assert rows[0][:3] == ("Bagian", "Bulan", "Berkas")
    table = {(row[0], row[1]): row[2:] for row in rows[1:5]}
    # Hukum, November: one record; steps 20, 90 and 10 minutes; step 2 was late.
    assert table[("Hukum dan SDM", "2026-11")] == (
        1,
        20,
        90,
        10,
        1,
        0,
        1,
        pytest.approx(2 / 3, abs=1e-4),
    )
    # Keuangan: step 2 ran twice (40 and 10 minutes), step 3 returned (5) then done (50).
    assert table[("Keuangan, Umum dan Logistik", "2026-11")] == (1, 30, 25, 27.5, 1, 1, 1, 1)
    # December's record has only step 1 finished; the open step 2 is not counted.
    assert table[("Hukum dan SDM", "2026-12")] == (1, 45, None, None, 1, None, None, 1)
    assert table[("Semua bagian", "Jumlah")][0] == 3
    assert table[("Semua bagian", "Jumlah")][-1] == pytest.approx(8 / 9, abs=1e-4)
    assert book["Ringkasan"]["G2"].number_format == "0%"


def test_csv_is_the_dik_sheet(data: ReportData) -> None:
    raw = reports.dik_csv_bytes(data)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == list(reports.DIK_HEADERS)
    assert len(rows) == 4
    assert rows[1][0] == "1"
    assert rows[1][1].startswith("Notulen rapat pleno tertutup\n")
    assert rows[3][5].startswith("Dalam proses: langkah 2")


def test_chart_is_a_png_and_empty_data_gives_none(data: ReportData) -> None:
    png = reports.chart_png(data)
    assert png is not None
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    width, height = image.size
    assert width >= 600 and height >= 400
    assert reports.on_time_by_month(data) == {
        "2026-11": {Step.PRODUCE: 1.0, Step.HANDOVER: 0.6667, Step.RECEIVE: 1.0},
        "2026-12": {Step.PRODUCE: 1.0, Step.HANDOVER: None, Step.RECEIVE: None},
    }
    nothing_done = report_of((view(9, [run(Step.PRODUCE, 0, None)], state=State.DRAFT), None))
    assert reports.chart_png(nothing_done) is None
    assert reports.chart_png(report_of()) is None
    empty = load_workbook(io.BytesIO(reports.workbook_bytes(report_of())))
    assert sheet_rows(empty, "DIK") == [reports.DIK_HEADERS]


def test_measure_uses_working_time_when_the_calendar_counts_it() -> None:
    done = run(Step.PRODUCE, 0, 50)
    half = measure(done, HalfTimeCalendar(), T0 + timedelta(days=1))
    assert (half.working, half.wall, half.finished, half.on_time) == (
        minutes(25),
        minutes(50),
        True,
        True,
    )
    wall = measure(done, WallCalendar(), T0 + timedelta(days=1))
    assert wall.working == wall.wall == minutes(50)
    open_run = run(Step.HANDOVER, 0, None)
    assert measure(open_run, WallCalendar(), T0 + minutes(30)) == StepTime(
        minutes(30), minutes(30), False, None
    )
    assert measure(open_run, WallCalendar(), T0 + minutes(61)).on_time is False
    cancelled = run(Step.PRODUCE, 0, 5, outcome="cancelled")
    assert measure(cancelled, WallCalendar(), T0).finished is False


async def test_workbook_from_the_database(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    first = await make_record(service, office, title="Informasi pertama")
    await make_record(service, office, State.DRAFT, petugas=office.petugas_other)
    data = await RegisterService(service).report_data()
    book = load_workbook(io.BytesIO(reports.workbook_bytes(data)))
    dik = sheet_rows(book, "DIK")
    assert [row[0] for row in dik[1:]] == [1, 2]
    assert str(dik[1][1]).startswith("Informasi pertama\n")
    assert "DIK-2026-0001" in str(dik[1][5])
    compliance = sheet_rows(book, "Kepatuhan SOP")
    assert [row[0] for row in compliance[1:]] == ["DIK-2026-0001"] * 3 + ["BRK-2"]
    assert first == data.records[0].entry.record.id


def test_report_command_writes_the_workbook_and_the_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "ppidbot.sqlite3"
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "storage"))
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", "")

    async def prepare() -> None:
        from bot.config import load_settings
        from bot.runtime import Runtime
        from sop.model import Role

        runtime = await Runtime.open(load_settings(), clock=ManualClock())
        try:
            petugas = await runtime.service.add_person(
                101, "Rina", Role.PETUGAS_PPID, division_id=1
            )
            await runtime.service.create_draft(petugas, sample_fields(title="Draf untuk laporan"))
        finally:
            await runtime.close()

    asyncio.run(prepare())
    workbook = tmp_path / "laporan.xlsx"
    assert main(["report", "--format", "xlsx", "--out", str(workbook)]) == 0
    book = load_workbook(workbook)
    assert book.sheetnames == ["DIK", "Kepatuhan SOP", "Ringkasan"]
    assert str(sheet_rows(book, "DIK")[1][1]).startswith("Draf untuk laporan")
    table = tmp_path / "dik.csv"
    assert main(["report", "--format", "csv", "--out", str(table)]) == 0
    rows = list(csv.reader(io.StringIO(table.read_text(encoding="utf-8-sig"))))
    assert rows[0] == list(reports.DIK_HEADERS) and len(rows) == 2
    assert main(["report", "--out", str(tmp_path / "missing" / "x.xlsx")]) == 1
    assert not list(tmp_path.glob(".*.part"))
