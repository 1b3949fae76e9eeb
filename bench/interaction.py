"""How fast the bot answers people, against a bare python-telegram-bot bot (the floor).

Both bots run as their own processes (``bench/botproc.py``), each polling its own
instance of the test suite's Bot API emulator (``tests/emulator``), which runs in this
process with the simulated people: the emulator's CPU never counts against a bot.
Samples alternate between the two bots, so both see the same load on the machine.

Measured, at each number of open records (seeded by ``bench/seed.py``, reminders
settled so the bot starts without sending anything):

* ``/tugas`` by a Petugas Dokumentasi: from the update entering the emulator to the
  bot's sendMessage arriving there;
* a step-2 button (``Daftarkan & serahkan``) to its answerCallbackQuery; after each
  press this process returns the record to step 2 through the service (as a Pejabat
  PPID), so every press hands over a record in the same state;
* the same press while another person's 20 MB softcopy is being uploaded (the press
  is made 50 ms after the upload's document message).

    .venv/bin/python -m bench.interaction                 # 10, 1,000 and 100,000 records
    .venv/bin/python -m bench.interaction --quick         # 10 and 1,000, fewer samples
    .venv/bin/python -m bench.interaction --sizes 1000 --profile /tmp/prof

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from bench.common import BotProcess, median, print_machine, quiet, ratio, read_rss, summary
from bench.seed import (
    ADMIN,
    ANCHOR,
    DOKUMENTASI,
    PEJABAT,
    PETUGAS_BASE,
    UPLOADER,
    Archive,
    SeedSpec,
    cached_archive,
    working_copy,
)
from tests.emulator import BotApiEmulator, FakeUser

T = TypeVar("T")
UPLOAD_BYTES = 20_000_000  # "20 MB": under both the Bot API's and ppidbot's 20 MiB limit


class BenchClock:
    """The bot process's clock, seen from here (same anchor, same start)."""

    def __init__(self, anchor: datetime, started: float) -> None:
        self.anchor = anchor
        self.started = started

    def now(self) -> datetime:
        return self.anchor + timedelta(seconds=time.monotonic() - self.started)


def _call_after(emulator: BotApiEmulator, method: str, since: float, **params: Any) -> float | None:
    """When the first ``method`` call with ``params`` arrived after ``since``."""
    wanted = method.lower()
    for call in emulator.calls:
        if (
            call.time >= since
            and call.method.lower() == wanted
            and all(call.params.get(k) == v for k, v in params.items())
        ):
            return call.time
    return None


async def _reply_time(
    emulator: BotApiEmulator,
    user: FakeUser,
    command: str,
    timeout: float,  # noqa: ASYNC109
) -> float:
    user.mark()
    sent = time.monotonic()
    await user.send_command(command)
    await user.wait_for(timeout=timeout)
    arrived = _call_after(emulator, "sendMessage", sent, chat_id=user.id)
    return (arrived or time.monotonic()) - sent


async def _press_time(
    emulator: BotApiEmulator,
    user: FakeUser,
    message_id: int,
    data: str,
    timeout: float = 900,  # noqa: ASYNC109
) -> tuple[float, dict[str, Any]]:
    sent = time.monotonic()
    query_id = await user.press_raw(message_id, data)
    answer = await user.wait_for_answer(query_id, timeout=timeout)
    record = emulator.callback_queries[query_id]
    arrived = _call_after(emulator, "answerCallbackQuery", sent, callback_query_id=record.id)
    return (arrived or time.monotonic()) - sent, answer


class Office:
    """The seeded people, as phones on one emulator."""

    def __init__(self, emulator: BotApiEmulator, divisions: int) -> None:
        self.admin = emulator.user(ADMIN, "Admin PPID")
        self.petugas = [
            emulator.user(PETUGAS_BASE + d, f"Petugas {d:03d}") for d in range(1, divisions + 1)
        ]
        self.uploader = emulator.user(UPLOADER, "Petugas Pengunggah")
        self.dokumentasi = [emulator.user(t, f"Dokumentasi {n}") for n, t in enumerate(DOKUMENTASI)]
        self.pejabat = [emulator.user(t, f"Pejabat {n}") for n, t in enumerate(PEJABAT)]


async def _a_message(user: FakeUser) -> int:
    """A bot message in the user's chat to press buttons on (the reply to /start)."""
    user.mark()
    await user.send_command("start")
    return (await user.wait_for(timeout=60)).message_id


async def measure_size(
    open_records: int,
    args: argparse.Namespace,
    echo_emulator: BotApiEmulator,
    echo_user: FakeUser,
    echo_message: int,
    results: dict[str, Any],
) -> None:
    quick = args.quick
    spec = SeedSpec(open_records, max(open_records // 5, 2), "settled")
    archive = await cached_archive(spec, args.cache_dir)
    workdir = Path(tempfile.mkdtemp(prefix=f"ppidbot-bench-{open_records}-"))
    copy = working_copy(archive, workdir / "data")
    emulator = BotApiEmulator()
    await emulator.start()
    office = Office(emulator, spec.divisions)
    profile = Path(args.profile) / f"interaction-{open_records}.txt" if args.profile else None
    bot = BotProcess(
        "ppid",
        emulator,
        workdir,
        env={
            "DATABASE_URL": copy.url,
            "STORAGE_DIR": str(copy.storage),
            "ADMIN_TELEGRAM_IDS": str(ADMIN),
            "BENCH_ANCHOR": ANCHOR.isoformat(),
        },
        profile=profile,
    )
    label = f"{open_records:,} open records"
    print(f"\n== {label} ({archive.summary.states}) ==")
    bot.start()
    try:
        polling = await bot.wait_polling(0, timeout=args.start_timeout)
        rebuilt = await bot.wait_stat(["rebuild_done", "rebuild_failed"], args.start_timeout)
        ready = (rebuilt["t"] - bot.spawned_at) if rebuilt else float("nan")
        await quiet(emulator, 0.5, timeout=args.start_timeout)
        rss, _ = read_rss(bot.pid)
        print(f"  started: polling after {polling:.1f} s, reminder rebuild done after "
              f"{ready:.1f} s ({rebuilt and rebuilt['event']}), RSS {rss:.0f} MB")  # fmt: skip
        clock = BenchClock(ANCHOR, bot.started_at())
        service = await _service(copy, clock)

        # /tugas ---------------------------------------------------------------------
        reader = office.dokumentasi[0]
        samples = 0 if args.no_tugas else 1 if open_records >= 100_000 else (5 if quick else 20)
        timeout = args.tugas_timeout
        ppid_tugas: list[float] = []
        echo_tugas: list[float] = []
        for _ in range(samples):
            echo_tugas.append(await _reply_time(echo_emulator, echo_user, "tugas", 30))
            try:
                ppid_tugas.append(await _reply_time(emulator, reader, "tugas", timeout))
            except AssertionError:
                print(f"  /tugas: no answer within {timeout:.0f} s")
                break
            await quiet(emulator, 0.2)
        floor = median(echo_tugas)
        print(f"  /tugas        ppidbot {summary(ppid_tugas)}")
        print(f"                echo    {summary(echo_tugas)}")
        print(f"                ratio   {ratio(median(ppid_tugas), floor)} (medians)")

        # a step-2 press, idle ---------------------------------------------------------
        presser = office.dokumentasi[1]
        card = await _a_message(presser)
        record_id = archive.summary.sample_ids["submitted"][0]
        presses = 3 if quick else 15
        ppid_press: list[float] = []
        echo_press: list[float] = []
        for _ in range(presses):
            version = await _version(service, record_id)
            echo_press.append(
                (await _press_time(echo_emulator, echo_user, echo_message, "act:x:1:1"))[0]
            )
            seconds, answer = await _press_time(
                emulator, presser, card, f"act:handover:{record_id}:{version}"
            )
            if "Diserahkan" not in (answer.get("text") or ""):
                print(f"  unexpected answer to the press: {answer}")
            ppid_press.append(seconds)
            await quiet(emulator, 0.3)
            await _back_to_step_2(service, record_id)
        press_floor = median(echo_press)
        print(f"  step-2 press  ppidbot {summary(ppid_press)}")
        print(f"                echo    {summary(echo_press)}")
        print(f"                ratio   {ratio(median(ppid_press), press_floor)} (medians)")

        # the same press during a 20 MB upload -----------------------------------------
        during: list[float] = []
        uploads: list[float] = []
        if open_records <= args.upload_max_records:
            from tests.e2e.flows import fill_in

            payload = b"%PDF-1.4\n" + os.urandom(UPLOAD_BYTES - 9)  # PDF-headed: a softcopy
            rss_before = read_rss(bot.pid)[0]
            for index in range(1 if quick else 3):
                uploader = office.uploader
                await fill_in(uploader, f"Unggahan besar nomor {index + 1}")
                await quiet(emulator, 0.3)
                version = await _version(service, record_id)
                uploader.mark()
                started = time.monotonic()
                await uploader.send_document(
                    payload[:-8] + index.to_bytes(8, "big"), f"besar-{index}.pdf", "application/pdf"
                )
                await asyncio.sleep(0.05)
                seconds, _ = await _press_time(
                    emulator, presser, card, f"act:handover:{record_id}:{version}"
                )
                during.append(seconds)
                await uploader.wait_for("Tersimpan", timeout=120)
                uploads.append(time.monotonic() - started)
                await uploader.send_command("batal")
                await quiet(emulator, 0.5)
                await _back_to_step_2(service, record_id)
            print(f"  press during a 20 MB upload {summary(during)}")
            idle_ratio = ratio(median(during), median(ppid_press))
            echo_ratio = ratio(median(during), press_floor)
            print(f"                ratio   {idle_ratio} of the idle press, {echo_ratio} of echo's")
            print(f"  the upload itself (document sent -> 'Tersimpan') {summary(uploads)}")
            floors = [await _ingest_floor(emulator, payload, workdir) for _ in range(3)]
            print(f"      floor: getFile + download + sha256 + write + fsync here {summary(floors)}"
                  f" -> {ratio(median(uploads), median(floors))}")  # fmt: skip
            print(f"      bot RSS before the uploads {rss_before:.0f} MB, after "
                  f"{read_rss(bot.pid)[0]:.0f} MB, peak {read_rss(bot.pid)[1]:.0f} MB")  # fmt: skip
            results[label + " ingest floor"] = floors
        await service_close(service)
        await bot.dump_profile()
        rss, peak = read_rss(bot.pid)
        print(f"  bot RSS now {rss:.0f} MB, peak {peak:.0f} MB")
        if LOCKED:
            print(f"  the bench found the database locked (30 s busy timeout) {len(LOCKED)} times")
            LOCKED.clear()
        results[label] = {
            "tugas": ppid_tugas,
            "tugas_echo": echo_tugas,
            "press": ppid_press,
            "press_echo": echo_press,
            "press_during_upload": during,
            "upload": uploads,
        }
    finally:
        await bot.stop()
        await emulator.stop()


async def _ingest_floor(emulator: BotApiEmulator, payload: bytes, workdir: Path) -> float:
    """The least an ingest costs: ask for the file, stream it over HTTP, hash it, write
    it and fsync (in this process, which also serves it)."""
    import hashlib

    import aiohttp

    stored = emulator.add_file(payload, "floor.pdf", "application/pdf")
    token = emulator.token
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"{emulator.base_url}{token}/getFile", params={"file_id": stored.file_id}
        ) as response:
            path = (await response.json())["result"]["file_path"]
        digest = hashlib.sha256()
        target = workdir / "ingest-floor.part"
        handle = await asyncio.to_thread(target.open, "wb")
        try:
            async with session.get(f"{emulator.base_file_url}{token}/{path}") as response:
                async for chunk in response.content.iter_chunked(64 * 1024):
                    digest.update(chunk)
                    await asyncio.to_thread(handle.write, chunk)
            await asyncio.to_thread(handle.flush)
            await asyncio.to_thread(os.fsync, handle.fileno())
        finally:
            await asyncio.to_thread(handle.close)
    digest.hexdigest()
    return time.monotonic() - started


def _pejabat(service: Any) -> Any:
    return service.bench_pejabat


async def _service(archive: Archive, clock: BenchClock) -> Any:
    """The service on the bot's database, with the bot's clock (to return records)."""
    from bot.config import Settings
    from bot.runtime import Runtime

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=archive.url, storage_dir=archive.storage
    )
    runtime = await _patiently(lambda: Runtime.open(settings, clock=clock))
    service = runtime.service
    pejabat = await service.actor_by_telegram(PEJABAT[0])
    assert pejabat is not None
    service.bench_pejabat = pejabat  # type: ignore[attr-defined]
    service.bench_runtime = runtime  # type: ignore[attr-defined]
    return service


async def service_close(service: Any) -> None:
    await service.bench_runtime.close()


LOCKED: list[float] = []  # when this process found the database locked (and waited)


async def _patiently(call: Callable[[], Awaitable[T]]) -> T:
    """Run a service call; while the bot holds SQLite's write lock past the 30 s busy
    timeout ("database is locked"), note it and try again."""
    from sqlalchemy.exc import OperationalError

    for _ in range(60):
        try:
            return await call()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            LOCKED.append(time.monotonic())
            print("  (the bench found the database locked for 30 s; trying again)")
    return await call()


async def _version(service: Any, record_id: int) -> int:
    record = await _patiently(lambda: service.record(service.bench_pejabat, record_id))
    return int(record.version)


async def _back_to_step_2(service: Any, record_id: int) -> None:
    """After a hand-over, the Pejabat PPID returns the record to step 2 (the SOP's own
    path), so the next press hands over a record in the same state."""
    from sop.model import Step

    await _patiently(
        lambda: service.return_record(
            service.bench_pejabat,
            record_id,
            Step.HANDOVER,
            "Dikembalikan oleh pengukuran kinerja.",
        )
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    print("ppidbot interaction benchmark (bench/interaction.py)")
    print_machine()
    echo_emulator = BotApiEmulator()
    await echo_emulator.start()
    echo_user = echo_emulator.user(DOKUMENTASI[0], "Dokumentasi")
    workdir = Path(tempfile.mkdtemp(prefix="ppidbot-bench-echo-"))
    echo = BotProcess("echo", echo_emulator, workdir)
    echo.start()
    results: dict[str, Any] = {}
    try:
        polling = await echo.wait_polling(0, timeout=60)
        print(f"echo bot polling after {polling:.2f} s (pid {echo.pid})")
        echo_message = await _a_message(echo_user)
        for size in args.sizes:
            await measure_size(size, args, echo_emulator, echo_user, echo_message, results)
    finally:
        await echo.stop()
        await echo_emulator.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--quick", action="store_true", help="10 and 1,000 records, few samples")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--profile", help="directory for pyinstrument profiles of the bot")
    parser.add_argument("--start-timeout", type=float, default=1800)
    parser.add_argument("--tugas-timeout", type=float, default=2400)
    parser.add_argument("--upload-max-records", type=int, default=1000)
    parser.add_argument("--no-tugas", action="store_true", help="measure the presses only")
    parser.add_argument("--json", help="also write the samples (seconds) to this file")
    args = parser.parse_args()
    if args.sizes is None:
        args.sizes = [10, 1000] if args.quick else [10, 1000, 100_000]
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    results = asyncio.run(run(args))
    if args.json:
        import json

        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
