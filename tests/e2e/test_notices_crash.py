"""Notices survive a crash: the bot killed (SIGKILL) while a step-3 package is on its way
goes on with it after the restart (once its claim has lapsed): what had not gone out goes
out, what had gone out is not sent twice."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.texts import records as record_texts
from db.models import NoticeRow
from sop.model import Role
from tests.conftest import chunks_of, sample_fields
from tests.e2e.test_steps import open_via_serahkan, pdf
from tests.emulator import BotApiEmulator
from tests.emulator.fixtures import emulator  # noqa: F401
from tests.support.botprocess import ADMIN_ID, BotProcess

WAIT = 20.0


async def recorded(process: BotProcess, status: str, chat_id: int) -> None:
    """Wait until the package to ``chat_id`` has ``status`` in the bot's database."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    async with process.runtime() as runtime:
        while True:
            async with runtime.service.transaction() as repo:
                user = await repo.user_by_telegram(chat_id)
                assert user is not None
                rows = (
                    await repo.session.scalars(
                        select(NoticeRow.status).where(
                            NoticeRow.recipient_id == user.id, NoticeRow.kind == "receive"
                        )
                    )
                ).all()
            if list(rows) == [status]:
                return
            assert loop.time() < deadline, f"the package to {chat_id} is {rows}"
            await asyncio.sleep(0.05)


def packages(user: object, number: str) -> int:
    return sum(
        1
        for m in user.inbox  # type: ignore[attr-defined]
        if m.text and "menunggu penerimaan Anda" in m.text and number in m.text
    )


@pytest.mark.parametrize(
    "cut",
    [
        "sendMessage",  # killed before the card went out: the whole package goes later
        "sendDocument",  # killed after the card: only the softcopy follows, no second card
    ],
)
async def test_a_package_cut_off_by_a_kill_arrives_once_after_the_restart(
    emulator: BotApiEmulator,  # noqa: F811
    tmp_path: Path,
    cut: str,
) -> None:
    # A short lease: the notice the killed bot held is taken over two seconds later.
    process = BotProcess(
        emulator, tmp_path, env={"NOTICE_LEASE": "2s", "REMINDER_CHECK_INTERVAL": "1s"}
    )
    emulator.user(ADMIN_ID, "Kepala Admin")
    sari = emulator.user(201, "Sari Dokumentasi")
    andi = emulator.user(301, "Andi Pejabat")
    dewi = emulator.user(302, "Dewi Pejabat")
    async with process.runtime() as runtime:
        service = runtime.service
        rina = await service.add_person(101, "Rina Petugas", Role.PETUGAS_PPID, division_id=1)
        await service.add_person(201, "Sari Dokumentasi", Role.PETUGAS_DOKUMENTASI)
        await service.add_person(301, "Andi Pejabat", Role.PEJABAT_PPID)
        await service.add_person(302, "Dewi Pejabat", Role.PEJABAT_PPID)
        draft = await service.create_draft(rina, sample_fields(1))
        await service.attach_file(
            rina, draft.id, chunks_of(pdf("kill")), "surat.pdf", "application/pdf"
        )
        record = (await service.complete_produce(rina, draft.id, verified=True)).record
    try:
        await process.start()
        held = emulator.slow_down(cut, chat_id=andi.id)
        card = await open_via_serahkan(sari, record)
        await sari.press(card, text=record_texts.BUTTON_HANDOVER)
        await held.wait(WAIT)
        await dewi.wait_for(lambda m: m.kind == "document", timeout=WAIT)
        await recorded(process, "delivered", dewi.id)  # Dewi's package is done and known so
        assert await process.kill() == -signal.SIGKILL
        held.release()  # the killed bot hung up: the held call never reaches Telegram
        assert packages(andi, record.number) == (1 if cut == "sendDocument" else 0)
        assert not [m for m in andi.inbox if m.kind == "document"]

        await process.start()
        if cut == "sendMessage":
            await andi.wait_for(
                lambda m: m.text is not None and "menunggu penerimaan Anda" in m.text,
                timeout=WAIT,
            )
        document = await andi.wait_for(lambda m: m.kind == "document", timeout=WAIT)
        assert await andi.download(document) == pdf("kill")
        assert packages(andi, record.number) == 1
        assert len([m for m in andi.inbox if m.kind == "document"]) == 1
        assert packages(dewi, record.number) == 1
        await recorded(process, "delivered", andi.id)
        check = await process.cli("check")
        assert check.returncode == 0, check
    finally:
        await process.close()
