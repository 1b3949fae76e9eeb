"""``ppidbot publish``'s public list: only stored, not internal records, only the
whitelisted fields, counts per letter and division, streamed in a constant number of
queries; the page opened in headless Chromium (Debian's ``chromium``) on a phone-sized
window, its DOM checked and a screenshot kept."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.papers.public import write_public_list
from sop.clock import ManualClock
from sop.model import DurationUnit, ExemptionPeriod, PeriodKind
from sop.publish import PUBLIC_FIELDS, PublishService
from sop.register import RegisterService
from sop.service import PpidService
from tests.conftest import Office, sample_fields
from tests.papers_support import stored_record

#: Where the screenshot is kept after the run (``build/`` is ignored by git).
ARTIFACTS = Path(__file__).resolve().parent.parent / "build" / "test-artifacts"


def test_the_whitelist_is_exactly_the_public_fields() -> None:
    assert PUBLIC_FIELDS == (
        "no",
        "register_number",
        "information",
        "division",
        "pasal17",
        "other_legal_basis",
        "consequence",
        "period",
        "ends_on",
        "opened_on",
    )


async def office_archive(service: PpidService, office: Office, clock: ManualClock) -> None:
    """Three stored records (one opened later, one internal), a draft and a withdrawn one."""
    await stored_record(service, office, clock)
    second = await stored_record(
        service,
        office,
        clock,
        title="Memo rahasia penanganan sengketa",
        pasal17=("a", "i"),
        description="RAHASIA-URAIAN tidak untuk publik",
        period=ExemptionPeriod(PeriodKind.DURATION, amount=2, unit=DurationUnit.YEARS),
    )
    third = await stored_record(service, office, clock, title="Judul internal rahasia")
    await PublishService(service).set_internal(None, third.id, True)
    clock.advance(timedelta(days=1))
    await RegisterService(service).mark_opened(office.pejabat, second.id, date(2026, 11, 24))
    await service.create_draft(office.petugas, sample_fields(title="Draf belum selesai"))
    withdrawn = await service.create_draft(office.petugas, sample_fields(title="Draf ditarik"))
    await service.cancel_draft(office.petugas, withdrawn.id, "Salah input")


async def test_only_stored_public_records_with_whitelisted_fields(
    service: PpidService, office: Office, clock: ManualClock, tmp_path: Path
) -> None:
    await office_archive(service, office, clock)
    publish = PublishService(service)
    entries = [entry async for entry in publish.entries()]
    assert [(e.no, e.register_number, e.information) for e in entries] == [
        (1, "DIK-2026-0001", "Data pribadi pemilih disabilitas"),
        (2, "DIK-2026-0002", "Memo rahasia penanganan sengketa"),
    ]
    assert entries[1].opened_on == date(2026, 11, 24)
    assert entries[1].ends_on == date(2028, 11, 20)

    summary = await write_public_list(tmp_path / "publik", publish.entries(), publish.now())
    assert (summary.counts.exempt, summary.counts.opened) == (1, 1)
    out = tmp_path / "publik"
    assert sorted(p.name for p in out.iterdir()) == ["dik.csv", "dik.json", "index.html"]
    everything = "".join((out / name).read_text(encoding="utf-8") for name in summary.files)
    for secret in (
        "Judul internal rahasia",  # internal
        "Draf belum selesai",  # not stored
        "Draf ditarik",  # withdrawn
        "RAHASIA-URAIAN",  # descriptions are not published
        "Rina Petugas",
        "Sari Dokumentasi",
        "Andi Pejabat",  # staff names
        "daftar-pemilih.pdf",  # files
    ):
        assert secret not in everything, secret
    for stored in await service.record(office.pejabat, 1), await service.record(office.pejabat, 2):
        for file in stored.files:
            assert file.sha256 not in everything

    data = json.loads((out / "dik.json").read_text(encoding="utf-8"))
    assert [item["informasi"] for item in data["data"]] == [e.information for e in entries]
    assert set(data["data"][0]) == {
        "no",
        "nomor_register",
        "informasi",
        "bagian",
        "pasal17",
        "dasar_hukum_lain",
        "dasar_hukum",
        "konsekuensi",
        "jangka_waktu",
        "berakhir",
        "dibuka",
        "status",
    }
    assert data["jumlah"]["pasal17"]["a"] == {"dikecualikan": 0, "dibuka": 1}
    assert data["jumlah"]["pasal17"]["h"] == {"dikecualikan": 1, "dibuka": 0}
    rows = list(csv.reader(io.StringIO((out / "dik.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["No", "Nomor register", "Informasi"]
    assert rows[2][7] == "Dibuka sejak 24 November 2026" and rows[2][8] == "2026-11-24"


async def test_the_list_is_one_query_whatever_its_length(
    service: PpidService, office: Office, clock: ManualClock, engine: AsyncEngine, tmp_path: Path
) -> None:
    for _ in range(3):
        await stored_record(service, office, clock)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        publish = PublishService(service)
        few = len([e async for e in publish.entries()])
        queries_for_three = len(statements)
        for _ in range(4):
            await stored_record(service, office, clock)
        statements.clear()
        many = len([e async for e in publish.entries()])
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert (few, many) == (3, 7)
    assert len(statements) == queries_for_three  # the divisions, then the stream


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return name
    pytest.skip("needs Debian's chromium (.ci/run installs it)")


def run_chromium(page: Path, profile: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            *flags,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )


async def test_the_page_in_a_browser_on_a_phone(
    service: PpidService, office: Office, clock: ManualClock, tmp_path: Path, db_url: str
) -> None:
    if "postgresql" in db_url:
        pytest.skip("the page is the same on both databases; the browser runs once (SQLite)")
    await office_archive(service, office, clock)
    publish = PublishService(service)
    await write_public_list(tmp_path / "publik", publish.entries(), publish.now())
    page = tmp_path / "publik" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert '<html lang="id">' in html and "<script" not in html
    assert '<th scope="col">Informasi</th>' in html and "<caption>" in html

    dom = run_chromium(page, tmp_path / "profile-dom", "--dump-dom", "--window-size=390,844")
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = dom.stdout
    for shown in (
        "Daftar Informasi yang Dikecualikan",
        "Data pribadi pemilih disabilitas",
        "Memo rahasia penanganan sengketa",
        "Dibuka sejak 24 November 2026",
        "Dikecualikan",
        "Pasal 17 huruf a UU 14/2008; Pasal 17 huruf i UU 14/2008",
        "2 tahun sejak penetapan (sampai 20 November 2028)",
        "Jumlah menurut huruf Pasal 17 UU 14/2008",
        "Keuangan, Umum dan Logistik",
    ):
        assert shown in text, shown
    assert "Judul internal rahasia" not in text

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "publik-ponsel.png"
    result = run_chromium(
        page,
        tmp_path / "profile-shot",
        f"--screenshot={shot}",
        "--window-size=390,1600",
        "--hide-scrollbars",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.stat().st_size > 10_000
    print(f"screenshot of the public list on a phone: {shot}")
