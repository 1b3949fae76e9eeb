"""The operator's log: zoned timestamps, no token anywhere, network failures on one line,
quiet libraries, and one line per business event once it has committed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from telegram.error import BadRequest, InvalidToken, NetworkError, TimedOut

from bot.logs import QUIET_LOGGERS, REDACTED, setup_logging
from sop.clock import ManualClock
from sop.model import Role, Step
from sop.people import PeopleService
from sop.service import PpidService
from tests.conftest import PDF_BYTES, Office, chunks_of, sample_fields

WIB = ZoneInfo("Asia/Jakarta")
TOKEN = "7412589630:AAHfake-TokenForTheTestsOnly_0123456789"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """setup_logging configures the process's root logger: put it back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def configured(level: str = "INFO") -> io.StringIO:
    stream = io.StringIO()
    setup_logging(level, WIB, secrets=[TOKEN], stream=stream)
    return stream


def raised(exc: BaseException) -> BaseException:
    """``exc`` with a traceback, as a logging call in an ``except`` block sees it."""
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_each_line_starts_with_the_time_and_its_zone(restore_logging: None) -> None:
    stream = configured()
    logging.getLogger("ppidbot.test").info("halo")
    [line] = stream.getvalue().splitlines()
    stamp, level, name, message = line.split(" ", 3)
    assert stamp.endswith("+07:00") and "T" in stamp and "." in stamp
    assert (level, name, message) == ("INFO", "ppidbot.test:", "halo")


def test_the_token_never_reaches_the_log(restore_logging: None) -> None:
    stream = configured("DEBUG")
    log = logging.getLogger("ppidbot.test")
    log.info("token %s in an argument", TOKEN)
    log.info(f"token {TOKEN} in the message")
    # PTB's InvalidToken names the token; httpx logs the Bot API URL, which holds it.
    rejected = raised(InvalidToken(f"The token `{TOKEN}` was rejected by the server."))
    log.error("start failed", exc_info=rejected)
    logging.getLogger("httpx").debug(
        "HTTP Request: POST https://api.telegram.org/bot%s/getMe", TOKEN
    )
    log.info("stack %s", TOKEN, stack_info=True)
    # A token that is not ours, shaped like one (e.g. pasted by someone) is hidden too.
    log.warning("foreign 1234567890:AAFforeignTokenForTheTestsOnly_9876543210 here")
    text = stream.getvalue()
    assert TOKEN not in text
    assert "AAHfake" not in text and "AAFforeign" not in text
    assert text.count(REDACTED) == 6
    assert f"https://api.telegram.org/bot{REDACTED}/getMe" in text
    assert f"The token `{REDACTED}` was rejected" in text
    assert "Traceback" in text  # the traceback itself is kept, redacted


def test_a_network_failure_is_one_warning_line(restore_logging: None) -> None:
    stream = configured()
    log = logging.getLogger("ppidbot.test")
    log.exception("could not notify user 101", exc_info=raised(NetworkError("httpx.ConnectError")))
    log.error("polling failed", exc_info=raised(TimedOut("Timed out")))
    log.error("download failed", exc_info=raised(httpx.ConnectError("connection refused")))
    # Telegram answering "no" is not a network failure: its traceback stays.
    log.error("edit failed", exc_info=raised(BadRequest("Message to edit not found")))
    lines = stream.getvalue().splitlines()
    assert [line.split(" ", 3)[1:] for line in lines[:3]] == [
        [
            "WARNING",
            "ppidbot.test:",
            "could not notify user 101 (NetworkError: httpx.ConnectError)",
        ],
        ["WARNING", "ppidbot.test:", "polling failed (TimedOut: Timed out)"],
        ["WARNING", "ppidbot.test:", "download failed (ConnectError: connection refused)"],
    ]
    assert lines[3].split(" ", 3)[1:] == ["ERROR", "ppidbot.test:", "edit failed"]
    assert "Traceback" in lines[4]
    assert stream.getvalue().count("Traceback") == 1

    # At DEBUG the traceback of a network failure is there too.
    stream = configured("DEBUG")
    log.exception("could not notify user 101", exc_info=raised(NetworkError("boom")))
    text = stream.getvalue()
    assert " WARNING ppidbot.test: could not notify user 101\nTraceback" in text


def test_libraries_routine_lines_stay_out(restore_logging: None) -> None:
    stream = configured()
    logging.getLogger("apscheduler.scheduler").info('Added job "remind:1:2" to job store')
    logging.getLogger("apscheduler.executors.default").info('Running job "remind:1:2"')
    logging.getLogger("httpx").info("HTTP Request: POST http://x/getUpdates 200 OK")
    logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and "Run time of job was missed" in lines[0]


async def test_one_line_per_business_event_with_names_and_numbers(
    service: PpidService, office: Office, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ppidbot.events")
    record = await service.create_draft(office.petugas, sample_fields(title="Data pemilih"))
    await service.attach_file(
        office.petugas, record.id, chunks_of(PDF_BYTES), "surat.pdf", "application/pdf"
    )
    await service.complete_produce(office.petugas, record.id, verified=True)
    await service.complete_handover(office.dokumentasi, record.id)
    await service.return_record(office.pejabat, record.id, Step.HANDOVER, "Nomor surat salah.")
    await service.complete_handover(office.dokumentasi, record.id)
    await service.complete_receive(office.pejabat2, record.id)
    draft = await service.create_draft(office.petugas, sample_fields(title="Salah input"))
    await service.cancel_draft(office.petugas, draft.id, "Dibuat ulang.")
    invitation = await service.create_invitation(office.admin, Role.PEJABAT_PPID, name="Nina")
    nina = await PeopleService(service).redeem(invitation.code, 7001, "Nina K", None)
    await service.revoke_role(nina.actor.user_id, Role.PEJABAT_PPID, by=office.admin)
    clock.advance(timedelta(minutes=1))

    lines = [r.getMessage() for r in caplog.records if r.name == "ppidbot.events"]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "ppidbot.events")
    rina, sari = f"Rina Petugas (user {office.petugas.user_id})", "Sari Dokumentasi"
    assert lines == [
        f"BRK-1 created by {rina}: 'Data pemilih'",
        f"BRK-1 step 1 done by {rina}: submitted to the Petugas Dokumentasi",
        f"BRK-1 step 2 done by {sari} (user {office.dokumentasi.user_id}): handed over to "
        "the Pejabat PPID",
        f"BRK-1 returned from step 3 to step 2 by Andi Pejabat (user {office.pejabat.user_id}):"
        " 'Nomor surat salah.'",
        f"BRK-1 step 2 done by {sari} (user {office.dokumentasi.user_id}): handed over to "
        "the Pejabat PPID",
        f"BRK-1 step 3 done by Dewi Pejabat (user {office.pejabat2.user_id}): accepted and "
        "stored as DIK-2026-0001 (1 file(s))",
        f"BRK-2 created by {rina}: 'Salah input'",
        f"BRK-2 withdrawn by {rina}: 'Dibuat ulang.'",
        f"invitation #1 for pejabat_ppid named 'Nina' created by Admin 900 "
        f"(user {office.admin.user_id})",
        f"invitation #1 used by Nina (user {nina.actor.user_id}): now pejabat_ppid",
        f"role pejabat_ppid revoked from Nina (user {nina.actor.user_id}) by Admin 900 "
        f"(user {office.admin.user_id})",
    ]


async def test_nothing_is_logged_for_what_did_not_commit(
    service: PpidService, office: Office, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ppidbot.events")
    with pytest.raises(RuntimeError):
        async with service.transaction() as repo:
            await service.audit(repo, "record.created", actor_id=office.petugas.user_id)
            raise RuntimeError("the transaction fails after its audit entry")
    assert [r for r in caplog.records if r.name == "ppidbot.events"] == []


async def test_json_lines_carry_time_level_logger_message_and_record_id(
    restore_logging: None, service: PpidService, office: Office
) -> None:
    stream = io.StringIO()
    setup_logging("INFO", WIB, secrets=[TOKEN], stream=stream, json_lines=True)
    draft = await service.create_draft(office.petugas, sample_fields())
    logging.getLogger("ppidbot.test").warning("token %s in a message", TOKEN)
    try:
        raise InvalidToken(f"Telegram refused {TOKEN}")
    except InvalidToken:
        logging.getLogger("ppidbot.test").exception("start failed")

    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    created = next(e for e in entries if e["logger"] == "ppidbot.events")
    assert created["record_id"] == draft.id
    assert created["level"] == "INFO"
    assert created["message"].startswith(f"BRK-{draft.id} created by Rina Petugas")
    assert created["timestamp"].endswith("+07:00")
    warned, failed = [e for e in entries if e["logger"] == "ppidbot.test"]
    assert warned["message"] == f"token {REDACTED} in a message" and "record_id" not in warned
    assert "InvalidToken" in failed["exception"]
    assert TOKEN not in stream.getvalue()
