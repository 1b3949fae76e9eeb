"""Webhook mode end to end: the emulator delivers updates to python-telegram-bot's webhook
server (standing for Telegram and the reverse proxy); a wrong or missing secret is refused
with 403; /healthz and /metrics are read over HTTP, in webhook and in polling mode."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from sop.clock import ManualClock
from sop.model import Role, Step
from tests.conftest import PDF_BYTES, chunks_of, sample_fields
from tests.e2e.harness import ADMIN_ID, BotHarness
from tests.emulator import BotApiEmulator
from tests.emulator.fixtures import emulator  # noqa: F401
from tests.support.postgres import free_port

SECRET = "rahasia-webhook-ppid-0123456789"
METRICS_TOKEN = "token-metrik-ppid-0123456789"
PUBLIC_URL = "https://ppid.example.go.id/telegram/hook"


@pytest.fixture
async def webhook(
    emulator: BotApiEmulator,  # noqa: F811
    tmp_path: Path,
    clock: ManualClock,
) -> AsyncIterator[BotHarness]:
    port = free_port()
    harness = BotHarness(
        emulator,
        tmp_path,
        clock,
        webhook_url=PUBLIC_URL,
        webhook_secret=SECRET,
        webhook_listen="127.0.0.1",
        webhook_port=port,
        metrics_token=METRICS_TOKEN,
    )
    emulator.deliver_webhooks_to(f"http://127.0.0.1:{port}")
    await harness.start()
    yield harness
    await harness.close()


def local(harness: BotHarness, path: str) -> str:
    settings = harness.settings
    return f"http://127.0.0.1:{settings.webhook_port}{path}"


async def fetch(
    url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: object = None
) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, headers=headers, json=body) as response,
    ):
        return response.status, await response.text()


def metric(text: str, name: str) -> float:
    """The value of a sample (``name`` with its labels, as exposed) in Prometheus text."""
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_webhook_mode_end_to_end(webhook: BotHarness) -> None:
    emu = webhook.emulator
    assert emu.webhook["url"] == PUBLIC_URL
    assert emu.webhook["secret_token"] == SECRET
    admin = emu.user(ADMIN_ID, "Kepala Admin")
    await admin.send_command("start")
    assert "Admin" in (await admin.wait_for()).text
    await admin.send_command("bantuan")
    assert "/undang" in (await admin.wait_for()).text
    await emu.updates_confirmed()
    assert emu.calls_to("getUpdates") == []  # no polling beside the webhook
    assert {status for _, status in emu.webhook_deliveries} == {200}
    assert len(emu.webhook_deliveries) == 2

    # A restart keeps the webhook and answers what arrived meanwhile.
    await webhook.stop()
    await admin.send_command("bantuan")
    await webhook.start()
    assert "/undang" in (await admin.wait_for()).text


async def test_a_wrong_or_missing_secret_is_refused_and_changes_nothing(
    webhook: BotHarness,
) -> None:
    emu = webhook.emulator
    admin = emu.user(ADMIN_ID, "Kepala Admin")
    forged = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1_780_000_000,
            "chat": {"id": ADMIN_ID, "type": "private", "first_name": "Kepala Admin"},
            "from": {"id": ADMIN_ID, "is_bot": False, "first_name": "Kepala Admin"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    url = local(webhook, "/telegram/hook")
    wrong = {"X-Telegram-Bot-Api-Secret-Token": "bukan-rahasia-yang-benar-000"}
    assert (await fetch(url, method="POST", headers=wrong, body=forged))[0] == 403
    assert (await fetch(url, method="POST", body=forged))[0] == 403

    # A genuine update after them is answered, and it is the only thing answered.
    admin.mark()
    await admin.send_command("bantuan")
    assert "/undang" in (await admin.wait_for()).text
    await emu.updates_confirmed()
    assert len(emu.calls_to("sendMessage")) == 1  # the forged /start got no answer


async def test_health_and_metrics_over_http(webhook: BotHarness) -> None:
    status, body = await fetch(local(webhook, "/healthz"))
    assert status == 200, body
    health = json.loads(body)
    assert health["status"] == "ok"
    assert health["database"] == {"ok": True}
    assert health["storage"]["ok"] is True
    assert health["pending_notices"] == 0
    assert "scheduler" in health

    status, _ = await fetch(local(webhook, "/metrics"))
    assert status == 401
    wrong = {"Authorization": "Bearer salah"}
    assert (await fetch(local(webhook, "/metrics"), headers=wrong))[0] == 401
    authorised = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    status, before = await fetch(local(webhook, "/metrics"), headers=authorised)
    assert status == 200
    assert "ppidbot_updates_handled_total" in before

    admin = webhook.emulator.user(ADMIN_ID, "Kepala Admin")
    await admin.send_command("start")
    await admin.wait_for()
    runtime = await webhook.runtime()
    _, petugas = await webhook.person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
    draft = await runtime.service.create_draft(petugas, sample_fields())
    await runtime.service.attach_file(
        petugas, draft.id, chunks_of(PDF_BYTES), "surat.pdf", "application/pdf"
    )
    await runtime.service.complete_produce(petugas, draft.id, verified=True)
    _, sari = await webhook.person(201, "Sari", Role.PETUGAS_DOKUMENTASI)
    await runtime.service.return_record(sari, draft.id, Step.PRODUCE, "Lampiran belum lengkap")

    _, after = await fetch(local(webhook, "/metrics"), headers=authorised)
    handled = "ppidbot_updates_handled_total"
    assert metric(after, handled) == metric(before, handled) + 1
    step = 'ppidbot_steps_completed_total{step="1"}'
    assert metric(after, step) == metric(before, step) + 1
    ingest = "ppidbot_ingest_bytes_total"
    assert metric(after, ingest) == metric(before, ingest) + len(PDF_BYTES)
    returns = "ppidbot_returns_total"
    assert metric(after, returns) == metric(before, returns) + 1
    assert metric(after, "ppidbot_overdue_steps") == 0


async def test_healthz_is_503_when_the_storage_takes_no_write(webhook: BotHarness) -> None:
    storage_root = webhook.settings.storage_dir
    temp = storage_root / ".tmp"
    shutil.rmtree(temp, ignore_errors=True)
    storage_root.mkdir(parents=True, exist_ok=True)
    temp.write_text("in the way")  # the storage's temp area cannot be written
    status, body = await fetch(local(webhook, "/healthz"))
    assert status == 503
    health = json.loads(body)
    assert health["status"] == "unavailable"
    assert health["storage"]["ok"] is False and health["storage"]["error"]
    assert health["database"] == {"ok": True}
    temp.unlink()
    assert (await fetch(local(webhook, "/healthz")))[0] == 200


async def test_polling_mode_serves_health_on_health_port(
    emulator: BotApiEmulator,  # noqa: F811
    tmp_path: Path,
    clock: ManualClock,
) -> None:
    port = free_port()
    harness = BotHarness(emulator, tmp_path, clock, health_port=port)
    await harness.start()
    try:
        status, body = await fetch(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, text = await fetch(f"http://127.0.0.1:{port}/metrics")  # no token: open
        assert status == 200 and "ppidbot_steps_completed_total" in text
    finally:
        await harness.close()


async def test_bot_api_errors_are_counted_by_kind(webhook: BotHarness) -> None:
    authorised = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    _, before = await fetch(local(webhook, "/metrics"), headers=authorised)
    admin = webhook.emulator.user(ADMIN_ID, "Kepala Admin")
    webhook.emulator.fail_next("sendMessage", "Bad Request: chat not found", chat_id=ADMIN_ID)
    await admin.send_command("start")
    for _ in range(500):  # the webhook answers 200 at once; the handler runs after
        if webhook.emulator.failed_calls():
            break
        await asyncio.sleep(0.01)
    assert [c.method for c in webhook.emulator.failed_calls()] == ["sendMessage"]

    refused = 'ppidbot_bot_api_errors_total{kind="BadRequest"}'
    failed = "ppidbot_updates_failed_total"  # the refused reply ended the update in an error
    for _ in range(100):  # counted once the bot has read the answer and handled the error
        _, after = await fetch(local(webhook, "/metrics"), headers=authorised)
        if metric(after, refused) > metric(before, refused) and metric(after, failed) > metric(
            before, failed
        ):
            break
        await asyncio.sleep(0.02)
    assert metric(after, refused) == metric(before, refused) + 1
    assert metric(after, failed) == metric(before, failed) + 1
