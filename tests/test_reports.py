"""The register as files: the XLSX workbook read back with openpyxl, the CSV, the PNG chart,
and the ``ppidbot report`` command."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot import reports
from bot.cli import main
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
from tests.conftest import Office, office_of, sample_fields
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


def report_of(
    *items: tuple[RecordView, date | None],
    now: datetime | None = None,
    holders: dict[int, tuple[str, ...]] | None = None,
) -> ReportData:
    now = now or T0 + timedelta(days=40)
    calendar = reports_calendar()
    records = tuple(
        ReportRecord(
            RegisterEntry(
                record,
                opened_on,
                record.fields.period.end_date(date(2026, 11, 20)),
                (holders or {}).get(record.id, ()),
            ),
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
    return report_of(
        (first, None),
        (second, date(2026, 12, 1)),
        (in_progress, None),
        holders={3: ("Sari Dokumentasi",)},
    )


def sheet_rows(book: object, name: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in book[name].iter_rows(values_only=True)]  # type: ignore[index]


def test_workbook_has_the_dik_compliance_and_summary_sheets(data: ReportData) -> None:
    book = load_workbook(io.BytesIO(reports.workbook_bytes(data)))
    assert book.sheetnames == ["DIK", "Dalam proses", "Kepatuhan SOP", "Ringkasan"]
    dik = sheet_rows(book, "DIK")
    assert dik[0] == ("No", "Informasi", "Dasar hukum", "Konsekuensi", "Jangka waktu", "Keterangan")
    assert len(dik) == 3  # the stored records only; BRK-3 is still in step 2
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
    assert all("BRK-3" not in str(row) for row in dik)


def test_work_in_progress_sheet_lists_open_steps_with_holder_and_due(data: ReportData) -> None:
    book = load_workbook(io.BytesIO(reports.workbook_bytes(data)))
    rows = sheet_rows(book, "Dalam proses")
    assert rows[0] == reports.IN_PROGRESS_HEADERS
    assert rows[1:] == [
        (
            "BRK-3",
            "Data pribadi pemilih disabilitas",
            "Hukum dan SDM",
            "2. Menyerahkan dan mendata (Petugas Dokumentasi)",
            1,
            "Sari Dokumentasi",
            datetime(2026, 11, 23, 8, 45),
            datetime(2026, 11, 23, 9, 45),
            "Ya",
            pytest.approx(40 * 24 * 60 - 45),
        )
    ]
    assert book["Dalam proses"]["H2"].number_format == "dd-mm-yyyy hh:mm"


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
    # An open step already past its due time counts, as late.
    still_open = rows[-1]
    assert (still_open[0], still_open[8], still_open[9], still_open[12]) == (
        "BRK-3",
        None,
        "berjalan, terlambat",
        "Tidak",
    )


def test_summary_per_division_and_month(data: ReportData) -> None:
    book = load_workbook(io.BytesIO(reports.workbook_bytes(data)))
    rows = sheet_rows(book, "Ringkasan")
    assert rows[0] == reports.SUMMARY_HEADERS
    assert rows[0][:4] == ("Bagian", "Bulan", "Berkas", "Tersimpan (DIK)")
    table = {(row[0], row[1]): row[2:] for row in rows[1:5]}
    # Hukum, November: one record, stored; steps 20, 90 and 10 minutes; step 2 was late.
    assert table[("Hukum dan SDM", "2026-11")] == (
        1,
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
    assert table[("Keuangan, Umum dan Logistik", "2026-11")] == (1, 1, 30, 25, 27.5, 1, 1, 1, 1)
    # December's record, not stored: step 1 finished on time; step 2 is still open and
    # overdue, so it counts as late (and has no median: it has not taken its time yet).
    assert table[("Hukum dan SDM", "2026-12")] == (1, 0, 45, None, None, 1, 0, None, 0.5)
    assert table[("Semua bagian", "Jumlah")][:2] == (3, 2)
    assert table[("Semua bagian", "Jumlah")][-1] == pytest.approx(8 / 10, abs=1e-4)
    assert book["Ringkasan"]["H2"].number_format == "0%"


def test_csv_is_the_dik_sheet(data: ReportData) -> None:
    raw = reports.dik_csv_bytes(data)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == list(reports.DIK_HEADERS)
    assert len(rows) == 3
    assert rows[1][0] == "1"
    assert rows[1][1].startswith("Notulen rapat pleno tertutup\n")
    # Excel with Indonesian settings reads ";" (its decimal separator is ",").
    semicolons = reports.dik_csv_bytes(data, delimiter=";").decode("utf-8-sig")
    assert semicolons.splitlines()[0] == ";".join(reports.DIK_HEADERS)
    assert list(csv.reader(io.StringIO(semicolons), delimiter=";")) == rows
    with pytest.raises(ValueError):
        reports.dik_csv_bytes(data, delimiter="|")


def test_chart_is_a_png_and_empty_data_gives_none(data: ReportData) -> None:
    png = reports.chart_png(data)
    assert png is not None
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    width, height = image.size
    assert width >= 600 and height >= 400
    assert reports.on_time_by_month(data) == {
        "2026-11": {Step.PRODUCE: 1.0, Step.HANDOVER: 0.6667, Step.RECEIVE: 1.0},
        "2026-12": {Step.PRODUCE: 1.0, Step.HANDOVER: 0.0, Step.RECEIVE: None},
    }
    draft = view(9, [run(Step.PRODUCE, 0, None)], state=State.DRAFT)
    nothing_done = report_of((draft, None), now=T0 + minutes(30))  # within its due time
    assert reports.chart_png(nothing_done) is None
    overdue = report_of((draft, None), now=T0 + minutes(61))  # past it: counted, as late
    assert reports.on_time_by_month(overdue) == {
        "2026-11": {Step.PRODUCE: 0.0, Step.HANDOVER: None, Step.RECEIVE: None}
    }
    assert reports.chart_png(overdue) is not None
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
    # A finished run's working time is the one kept when it finished, whatever the
    # calendar says today.
    kept = replace(done, working=minutes(12))
    assert measure(kept, HalfTimeCalendar(), T0 + timedelta(days=1)).working == minutes(12)
    still_open = replace(open_run, working=minutes(12))  # never set for an open run
    assert measure(still_open, WallCalendar(), T0 + minutes(30)).working == minutes(30)


async def test_workbook_from_the_database(
    service: PpidService, office: Office, clock: ManualClock
) -> None:
    first = await make_record(service, office, title="Informasi pertama")
    await make_record(service, office, State.DRAFT, petugas=office.petugas_other)
    await make_record(service, office, State.CANCELLED, title="Draf yang ditarik")
    data = await RegisterService(service).report_data()
    book = load_workbook(io.BytesIO(reports.workbook_bytes(data)))
    dik = sheet_rows(book, "DIK")
    # The DIK holds stored records; the draft is work in progress; the withdrawn draft is
    # in no sheet at all.
    assert [row[0] for row in dik[1:]] == [1]
    assert str(dik[1][1]).startswith("Informasi pertama\n")
    assert "DIK-2026-0001" in str(dik[1][5])
    progress = sheet_rows(book, "Dalam proses")
    assert [(row[0], row[5], row[8]) for row in progress[1:]] == [
        ("BRK-2", "Budi Petugas", "Tidak")
    ]
    compliance = sheet_rows(book, "Kepatuhan SOP")
    assert [row[0] for row in compliance[1:]] == ["DIK-2026-0001"] * 3 + ["BRK-2"]
    summary = sheet_rows(book, "Ringkasan")
    assert [row[2:4] for row in summary[1:] if row[1] == "Jumlah"] == [(2, 1)]
    everything = str([sheet_rows(book, name) for name in book.sheetnames])
    assert "ditarik" not in everything and "BRK-3" not in everything
    assert first == data.records[0].entry.record.id


async def test_a_finished_steps_working_time_is_kept_when_the_calendar_changes(
    engine: object, storage: object, clock: ManualClock
) -> None:
    """Working time is written when a step finishes: a closure declared later for that day
    changes the due times of open steps, never how long a finished step took."""
    from db.session import create_sessionmaker
    from sop.calendar import OfficeCalendar, WorkingHours

    calendar = OfficeCalendar(WorkingHours.default(), WIB, national_holidays=False)
    service = PpidService(
        create_sessionmaker(engine),  # type: ignore[arg-type]
        storage,  # type: ignore[arg-type]
        clock=clock,
        calendar=calendar,
    )
    office = await office_of(service)
    record = await make_record(service, office, State.DRAFT)
    clock.advance(timedelta(minutes=25))
    await service.complete_produce(office.petugas, record, verified=True)
    clock.advance(timedelta(minutes=35))
    await service.complete_handover(office.dokumentasi, record)
    clock.advance(timedelta(minutes=10))
    register = RegisterService(service)

    def minutes_of(data: ReportData) -> list[float]:
        return [float(row[10]) for row in reports.compliance_rows(data)]  # type: ignore[arg-type]

    before = await register.report_data()
    assert minutes_of(before) == [25.0, 35.0, 10.0]
    # Monday 23 November 2026 is declared an office closure afterwards.
    calendar.set_closures({date(2026, 11, 23): "Cuti bersama"})
    after = await register.report_data()
    assert minutes_of(after)[:2] == [25.0, 35.0]  # as they were when they finished
    view = await service.record(office.admin, record)
    assert [run.working for run in view.runs][:2] == [minutes(25), minutes(35)]
    # The open step 3 is measured by today's calendar: no working time passes on a closed day.
    assert minutes_of(after)[2] == 0.0


def test_report_command_writes_the_workbook_the_csv_and_the_chart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "ppidbot.sqlite3"
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "storage"))
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", "")
    monkeypatch.setenv("WORKING_HOURS", "always")

    async def prepare(*, finish: bool) -> None:
        from bot.config import load_settings
        from bot.runtime import Runtime
        from sop.model import Role

        runtime = await Runtime.open(load_settings())  # the clock the command runs on
        try:
            service = runtime.service
            petugas = await service.add_person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
            if not finish:
                fields = sample_fields(title="Draf untuk laporan", classified_date=service.today())
                await service.create_draft(petugas, fields)
                return
            office = await office_of(service)
            await make_record(
                service,
                office,
                title="Informasi tersimpan; ber-titik koma",
                classified_date=service.today(),
            )
        finally:
            await runtime.close()

    asyncio.run(prepare(finish=False))
    workbook = tmp_path / "laporan.xlsx"
    assert main(["report", "--format", "xlsx", "--out", str(workbook)]) == 0
    book = load_workbook(workbook)
    assert book.sheetnames == ["DIK", "Dalam proses", "Kepatuhan SOP", "Ringkasan"]
    assert len(sheet_rows(book, "DIK")) == 1  # a draft is not in the DIK
    assert str(sheet_rows(book, "Dalam proses")[1][1]).startswith("Draf untuk laporan")
    # No step has finished or is late yet: there is no chart to write.
    assert main(["report", "--chart", str(tmp_path / "grafik.png")]) == 1
    assert not (tmp_path / "grafik.png").exists()

    asyncio.run(prepare(finish=True))
    table = tmp_path / "dik.csv"
    chart = tmp_path / "grafik.png"
    assert main(["report", "--format", "csv", "--out", str(table), "--chart", str(chart)]) == 0
    rows = list(csv.reader(io.StringIO(table.read_text(encoding="utf-8-sig"))))
    assert rows[0] == list(reports.DIK_HEADERS) and len(rows) == 2
    assert Image.open(chart).format == "PNG"
    excel = tmp_path / "dik-excel.csv"
    argv = ["report", "--format", "csv", "--delimiter", ";", "--out", str(excel)]
    assert main(argv) == 0
    text = excel.read_text(encoding="utf-8-sig")
    assert text.startswith("No;Informasi;Dasar hukum;Konsekuensi;Jangka waktu;Keterangan")
    assert list(csv.reader(io.StringIO(text), delimiter=";")) == rows

    assert main(["report"]) == 2
    assert main(["report", "--delimiter", ";", "--out", str(tmp_path / "x.xlsx")]) == 2
    assert main(["report", "--out", str(tmp_path / "missing" / "x.xlsx")]) == 1
    assert main(["report", "--chart", str(tmp_path / "missing" / "x.png")]) == 1
    assert not list(tmp_path.glob(".*.part"))
