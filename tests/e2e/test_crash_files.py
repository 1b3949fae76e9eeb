"""kill -9 at each point of an upload and of step 3, against the bot as its own process:
after the restart ``ppidbot check`` passes (no orphan, no row without its file), the person
whose upload was cut hears so, and the retried action succeeds."""

from __future__ import annotations

import asyncio
import json
import signal

import pytest

from bot.persistence import CONVERSATION
from bot.texts import records as record_texts
from db.repositories import Repository
from db.session import create_sessionmaker
from handlers.new_record import Stage
from sop.model import Actor, Role, State
from storage import Area
from tests.conftest import chunks_of, sample_fields
from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.fixtures import emulator  # noqa: F401
from tests.support import documents
from tests.support.backends import stored_paths
from tests.support.botprocess import BotProcess, bot_process  # noqa: F401

FAULTS = "PPIDBOT_FAULTS"


async def office(process: BotProcess) -> dict[str, Actor]:
    async with process.runtime() as runtime:
        service = runtime.service
        return {
            "rina": await service.add_person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1),
            "sari": await service.add_person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI),
            "andi": await service.add_person(301, "Andi Pejabat", Role.PEJABAT_PPID),
        }


async def draft_at_the_files(process: BotProcess, rina: FakeUser, actor: Actor) -> None:
    """A draft made on the command line, continued by Rina with "Perbaiki": the bot waits for
    softcopies (and that waiting is persisted, so it outlives a kill)."""
    async with process.runtime() as runtime:
        await runtime.service.create_draft(actor, sample_fields())
    rina.mark()
    await rina.send_command("tugas")
    await rina.press(await rina.wait_for("Tugas Anda"), text="Buka BRK-1")
    card = await rina.wait_for("Status:")
    await rina.press(card, text="✏️ Perbaiki (langkah 1)")
    await rina.wait_for("Perbaiki BRK-1")
    await persisted_at_files(process)


async def persisted_at_files(process: BotProcess) -> None:
    async with process.runtime() as runtime:
        sessions = create_sessionmaker(runtime.engine)
        for _ in range(300):
            async with sessions() as session, session.begin():
                rows = await Repository(session).kv_all(CONVERSATION + "baru")
            if any(json.loads(row.data) == Stage.FILES for row in rows):
                return
            await asyncio.sleep(0.02)
    raise AssertionError("the conversation was never persisted at the files stage")


async def files_of(process: BotProcess, actor: Actor) -> list[str]:
    async with process.runtime() as runtime:
        record = await runtime.service.record(actor, 1)
        return [f.path for f in record.files]


async def disk(process: BotProcess) -> list[str]:
    async with process.runtime() as runtime:
        return await stored_paths(runtime.storage)


async def assert_check_passes(process: BotProcess) -> None:
    check = await process.cli("check")
    assert check.returncode == 0, check
    assert "OK: no problems found" in check.stdout


@pytest.mark.parametrize("point", ["upload.intent", "download", "storage.written"])
async def test_killed_at_each_point_of_an_upload(
    emulator: BotApiEmulator,  # noqa: F811
    bot_process: BotProcess,  # noqa: F811
    point: str,
) -> None:
    people = await office(bot_process)
    rina = emulator.user(101, "Rina")
    if point != "download":
        bot_process.settings_env[FAULTS] = f"{point}=kill"
    await bot_process.start()
    await draft_at_the_files(bot_process, rina, people["rina"])
    pdf = documents.pdf()

    slow = emulator.slow_download(bytes_per_second=200) if point == "download" else None
    await rina.send_document(pdf, "laporan.pdf", "application/pdf")
    if slow is not None:
        await slow.wait()  # the download has begun...
        assert await bot_process.kill() == -signal.SIGKILL  # ...and the bot dies
        slow.release()
    else:
        await asyncio.wait_for(_exited(bot_process), 15)
    assert bot_process.returncodes[-1] == -signal.SIGKILL
    assert await files_of(bot_process, people["rina"]) == []

    bot_process.settings_env.pop(FAULTS, None)
    rina.mark()
    await bot_process.start()
    told = await rina.wait_for("tidak tersimpan")
    assert "laporan.pdf" in told.text and "BRK-1" in told.text
    assert await disk(bot_process) == []  # whatever was written is gone
    await assert_check_passes(bot_process)

    await rina.send_document(pdf, "laporan.pdf", "application/pdf")
    await rina.wait_for("Tersimpan")
    [stored] = await files_of(bot_process, people["rina"])
    assert await disk(bot_process) == [stored]
    await assert_check_passes(bot_process)


@pytest.mark.parametrize("point", ["storage.written", "receive.copied"])
async def test_killed_at_each_point_of_step_three(
    emulator: BotApiEmulator,  # noqa: F811
    bot_process: BotProcess,  # noqa: F811
    point: str,
) -> None:
    people = await office(bot_process)
    async with bot_process.runtime() as runtime:
        service = runtime.service
        draft = await service.create_draft(people["rina"], sample_fields())
        for name in ("satu.pdf", "dua.pdf"):
            await service.attach_file(
                people["rina"],
                draft.id,
                chunks_of(documents.minimal_pdf(name)),
                name,
                "application/pdf",
            )
        await service.complete_produce(people["rina"], draft.id, verified=True)
        await service.complete_handover(people["sari"], draft.id)
    andi = emulator.user(301, "Andi")
    bot_process.settings_env[FAULTS] = f"{point}=kill"
    await bot_process.start()
    await andi.send_command("berkas", "BRK-1")
    card = await andi.wait_for("BRK-1")
    await andi.press(card, text=record_texts.BUTTON_ACCEPT)
    await asyncio.wait_for(_exited(bot_process), 15)
    assert bot_process.returncodes[-1] == -signal.SIGKILL

    bot_process.settings_env.pop(FAULTS)
    await bot_process.start()
    await assert_check_passes(bot_process)  # the copies written before the kill are gone
    assert [p for p in await disk(bot_process) if p.startswith(Area.PPID.value)] == []
    async with bot_process.runtime() as runtime:
        record = await runtime.service.record(people["andi"], draft.id)
        assert record.state is State.REGISTERED  # still waiting at step 3

    query = await andi.press(card, text=record_texts.BUTTON_ACCEPT)
    answer = await andi.wait_for_answer(query)
    assert answer["text"].startswith("Tersimpan sebagai DIK-")  # the year is today's
    async with bot_process.runtime() as runtime:
        record = await runtime.service.record(people["andi"], draft.id)
        assert record.state is State.STORED
        assert len([f for f in record.files if f.area == Area.PPID]) == 2
    await assert_check_passes(bot_process)


async def _exited(process: BotProcess) -> None:
    """The bot killed itself at the armed fault point."""
    for _ in range(1000):
        if not process.running:
            return
        await asyncio.sleep(0.02)
