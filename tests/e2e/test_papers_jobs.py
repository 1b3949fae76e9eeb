"""The papers' daily jobs over the Bot API emulator: the audit anchor reaches the admins
and the Pejabat PPID (nobody else), is recorded with its recipients and proves the chain;
with PUBLISH_DIR the bot writes the public list there, and both jobs are scheduled."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.app import build_application
from bot.papers_job import (
    ANCHOR_JOB,
    PUBLISH_JOB,
    publish_now,
    schedule_papers_jobs,
    send_anchor,
)
from sop.anchors import AnchorService
from sop.clock import ManualClock
from sop.model import Role
from tests.conftest import PDF_BYTES, chunks_of, sample_fields
from tests.e2e.harness import ADMIN_ID, BotHarness
from tests.emulator import BotApiEmulator


@pytest.fixture
async def harness(
    emulator: BotApiEmulator, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    harness = BotHarness(emulator, tmp_path, clock, publish_dir=tmp_path / "publik")
    await harness.start()
    yield harness
    await harness.close()


@pytest.fixture
async def application(
    harness: BotHarness,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A second Application on the harness's runtime, initialised but not polling."""
    app = build_application(await harness.runtime())
    async with app:
        yield app


async def test_the_daily_anchor_goes_to_admins_and_pejabat_and_proves_the_chain(
    harness: BotHarness, application: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    petugas_phone, petugas = await harness.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    pejabat_phone, pejabat = await harness.person(301, "Andi", Role.PEJABAT_PPID)
    admin = harness.emulator.user(ADMIN_ID, "Kepala Admin")
    runtime = await harness.runtime()
    await runtime.service.create_draft(petugas, sample_fields())
    seen = len(petugas_phone.inbox)
    admin.mark()
    pejabat_phone.mark()

    anchor = await send_anchor(application.bot, runtime)

    for phone in (admin, pejabat_phone):
        message = await phone.wait_for("Jangkar rantai audit")
        assert f"{anchor.seq}:{anchor.hash}" in message.text
        assert f"ppidbot check --anchor {anchor.seq}:{anchor.hash}" in message.text
    assert len(petugas_phone.inbox) == seen  # witnesses only
    anchors = AnchorService(runtime.service)
    assert [(a.seq, a.source) for a in await anchors.anchors()] == [(anchor.seq, "daily")]
    assert (await anchors.check(anchor.seq, anchor.hash)).ok
    async with runtime.service.transaction() as repo:
        [sent] = [
            row
            for row in await repo.audit_entries(after_seq=anchor.seq)
            if row.action == "audit.anchor_sent"
        ]
    details = json.loads(sent.details)
    assert (details["seq"], details["hash"]) == (anchor.seq, anchor.hash)
    admin_actor = await runtime.service.actor_by_telegram(ADMIN_ID)
    assert admin_actor is not None
    assert details["to"] == sorted([admin_actor.user_id, pejabat.user_id])
    assert harness.emulator.failed_calls() == []


async def test_publish_dir_gets_the_public_list_and_the_jobs_are_scheduled(
    harness: BotHarness, application: Application[Any, Any, Any, Any, Any, Any], tmp_path: Path
) -> None:
    _, petugas = await harness.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    _, dokumentasi = await harness.person(201, "Sari", Role.PETUGAS_DOKUMENTASI)
    _, pejabat = await harness.person(301, "Andi", Role.PEJABAT_PPID)
    service = (await harness.runtime()).service
    draft = await service.create_draft(petugas, sample_fields())
    await service.attach_file(petugas, draft.id, chunks_of(PDF_BYTES), "a.pdf", "application/pdf")
    await service.complete_produce(petugas, draft.id, verified=True)
    await service.complete_handover(dokumentasi, draft.id)
    await service.complete_receive(pejabat, draft.id)

    summary = await publish_now(await harness.runtime())

    assert summary.counts.total == 1
    page = (tmp_path / "publik" / "index.html").read_text(encoding="utf-8")
    assert "DIK-2026-0001" in page and "Data pribadi pemilih disabilitas" in page
    jobs = schedule_papers_jobs(application)
    assert [job.name for job in jobs] == [ANCHOR_JOB, PUBLISH_JOB, PUBLISH_JOB]
