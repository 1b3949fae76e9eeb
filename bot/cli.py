"""The ``ppidbot`` command: run the bot, migrate the database, manage people."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError, Settings, load_settings
from bot.runtime import Runtime
from sop.clock import Clock
from sop.errors import SopError
from sop.model import Role

if TYPE_CHECKING:
    from pathlib import Path

    from sop.service import Outcome

log = logging.getLogger("ppidbot")

#: ``ppidbot verify``'s exit code per verdict (sop.verification.Verdict's values).
_VERIFY_EXIT = {"matches": 0, "changed": 1, "unknown": 1, "pdf_differs": 2}


def _logging(settings: Settings, command: str) -> contextlib.AbstractContextManager[object]:
    """The bot logs at ``LOG_LEVEL``; the other commands print their results and log
    only warnings (or everything, with ``LOG_LEVEL=DEBUG``)."""
    from bot.logs import logging_to_stderr

    level = logging.getLevelName(settings.log_level)
    if command != "run" and level > logging.DEBUG:
        level = max(level, logging.WARNING)
    return logging_to_stderr(
        level, settings.tz, secrets=settings.secrets(), json_lines=settings.log_format == "json"
    )


def _run_bot(settings: Settings) -> int:
    """Start polling until interrupted (Ctrl+C or SIGTERM)."""
    from telegram.error import InvalidToken

    from bot.leader import AlreadyRunning, LeadershipLost

    settings.require_token()
    try:
        asyncio.run(serve(settings))
    except AlreadyRunning as exc:
        print(f"ppidbot: {exc}", file=sys.stderr)
        return 1
    except LeadershipLost as exc:  # a supervisor restarts it, as a standby if need be
        print(f"ppidbot: {exc}", file=sys.stderr)
        return 3
    except InvalidToken:
        print(
            "ppidbot: Telegram refused TELEGRAM_BOT_TOKEN (revoked or mistyped): "
            "copy the current token from @BotFather into .env",
            file=sys.stderr,
        )
        return 2
    return 0


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts to reach Telegram at start: ``first``, doubling, at most
    ``maximum`` seconds."""

    first: float = 1.0
    maximum: float = 60.0

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay
            delay = min(delay * 2, self.maximum)


async def _reach_telegram(application: Any, stop: asyncio.Event, backoff: Backoff) -> bool:
    """Ask Telegram who the bot is until it answers (True) or ``stop`` is set (False).

    Telegram unreachable (no network, DNS, a timeout, an outage) is retried with back-off,
    one WARNING line per attempt; a refused token is not (``InvalidToken`` goes up)."""
    from telegram.error import BadRequest, NetworkError, RetryAfter

    from bot.logs import describe

    failures = 0
    delays = backoff.delays()
    while not stop.is_set():
        try:
            await application.bot.initialize()
        except RetryAfter as exc:
            wait = exc.retry_after
            delay = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        except NetworkError as exc:
            if isinstance(exc, BadRequest):
                raise
            delay = next(delays)
            failures += 1
            log.warning("Telegram is unreachable (%s); trying again in %gs", describe(exc), delay)
        else:
            if failures:
                log.info("Telegram answered after %d failed attempt(s)", failures)
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
    await application.bot.shutdown()
    return False


def _polling_failed(exc: Exception) -> None:
    """PTB's polling loop hit an error (it retries by itself): one line about it."""
    from bot.logs import describe, network_error

    if network_error(exc):
        log.warning("polling Telegram failed (%s); retrying", describe(exc))
    else:
        log.error("polling Telegram failed; retrying", exc_info=exc)


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    clock: Clock | None = None,
    handle_signals: bool = True,
    poll_timeout: int = 10,
    backoff: Backoff | None = None,
) -> None:
    """Run the bot in this event loop until ``stop`` is set or a signal arrives; while
    Telegram cannot be reached at start, keep trying (see ``Backoff``). Another instance
    active on the same PostgreSQL database: stand by until it is gone (``bot.leader``)."""
    import signal

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM) if handle_signals else ():
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(signum, stop.set)

    from bot.leader import LeadershipLost, leadership_for

    # One active instance per database: a second one on PostgreSQL stands by until the
    # active one is gone; on SQLite it is refused (AlreadyRunning).
    leadership = leadership_for(settings.database_url, retry=settings.standby_retry.total_seconds())
    try:
        if not await leadership.acquire(stop):
            return
        runtime = await Runtime.open(settings, clock=clock, recover=True)
        try:
            await _run_active(runtime, stop, leadership.lost, poll_timeout, backoff)
        finally:
            await runtime.close()
    finally:
        await leadership.release()
    if leadership.lost.is_set():
        raise LeadershipLost(
            "lost the instance lock (its database connection ended): stopped, so that "
            "only one instance runs; start it again"
        )


async def _run_active(
    runtime: Runtime,
    stop: asyncio.Event,
    lost: asyncio.Event,
    poll_timeout: int,
    backoff: Backoff | None,
) -> None:
    """The active instance: take updates (polling or webhook) and run the jobs until
    ``stop`` (or ``lost``: the instance lock is gone, another instance may take over)."""
    from bot.app import build_application, on_started

    application = build_application(runtime)
    if not await _reach_telegram(application, stop, backoff or Backoff()):
        return
    async with application:
        await application.start()
        await on_started(application)
        health = await _take_updates(application, runtime, poll_timeout)
        log.info("ppidbot is running; press Ctrl+C to stop")
        stopped = asyncio.ensure_future(stop.wait())
        gone = asyncio.ensure_future(lost.wait())
        try:
            await asyncio.wait({stopped, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            gone.cancel()
        assert application.updater is not None
        await application.updater.stop()
        if health is not None:
            await health.stop()
        await application.stop()


ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]  # blocked / unblocked


async def _take_updates(application: Any, runtime: Runtime, poll_timeout: int) -> Any:
    """Webhook mode (``WEBHOOK_URL``): python-telegram-bot's webhook server, with /healthz
    and /metrics added to it; else long polling, with them on ``HEALTH_PORT`` if set.
    Returns the separate health server (polling mode), to stop it at the end."""
    from bot.web import HealthServer, HealthState, add_to_webhook_server

    settings = runtime.settings
    updater = application.updater
    assert updater is not None
    state = HealthState(runtime)
    if settings.webhook_url is not None:
        assert settings.webhook_secret is not None  # the settings require it
        await updater.start_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=settings.webhook_path,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=-1,  # Telegram unreachable at setWebhook: keep trying
        )
        add_to_webhook_server(application, state)
        log.info(
            "webhook server on %s:%d for %s",
            settings.webhook_listen,
            settings.webhook_port,
            settings.webhook_url,
        )
        return None
    await updater.start_polling(
        allowed_updates=ALLOWED_UPDATES,
        poll_interval=0.0,
        timeout=poll_timeout,
        bootstrap_retries=-1,  # Telegram gone again right after getMe: keep trying
        error_callback=_polling_failed,
    )
    if settings.health_port is None:
        return None
    health = HealthServer(state, settings.webhook_listen, settings.health_port)
    health.start()
    log.info("health and metrics on %s:%d", settings.webhook_listen, settings.health_port)
    return health


async def _with_runtime(
    settings: Settings, action: Callable[[Runtime], Awaitable[int]], *, migrate: bool = True
) -> int:
    runtime = await Runtime.open(settings, migrate=migrate)
    try:
        return await action(runtime)
    finally:
        await runtime.close()


async def _db_upgrade(runtime: Runtime) -> int:
    from db.migrate import current_revision

    print(f"database at revision {await current_revision(runtime.engine)}")
    return 0


async def _db_current(runtime: Runtime) -> int:
    from db.migrate import current_revision

    print(await current_revision(runtime.engine) or "(empty database)")
    return 0


def _user_add(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        actor = await runtime.service.add_person(
            args.telegram_id, args.name, Role(args.role), division_id=args.division
        )
        roles = ", ".join(sorted(actor.roles))
        print(f"user {actor.telegram_id} ({actor.full_name}): {roles}")
        return 0

    return action


async def _user_list(runtime: Runtime) -> int:
    divisions = {d.id: d.name for d in await runtime.service.divisions(include_inactive=True)}
    people = await runtime.service.people()
    if not people:
        print("no users yet")
    for actor in people:
        roles = ", ".join(sorted(actor.roles)) or "(no role)"
        division = divisions.get(actor.division_id or -1, "-")
        name = actor.full_name
        if actor.other_telegram_name:
            name += f" (Telegram: {actor.other_telegram_name})"
        print(f"{actor.telegram_id}\t{name}\t{roles}\t{division}")
    return 0


def _user_revoke(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        from sop.people import PeopleService

        actor = await runtime.service.actor_by_telegram(args.telegram_id)
        if actor is None:
            print(f"no registered user with Telegram id {args.telegram_id}", file=sys.stderr)
            return 1
        role = Role(args.role)
        warning = await PeopleService(runtime.service).revocation_warning(actor.user_id, role)
        if warning is not None:
            where = f" of {warning.division_name}" if warning.division_name else ""
            print(
                f"warning: {actor.full_name} is the only {role.value}{where}, and "
                f"{warning.open_steps} record(s) wait on step {int(warning.step)}; after the "
                "revocation nobody can complete them",
                file=sys.stderr,
            )
            if not args.yes and not _confirm("revoke anyway? [y/N] "):
                print("nothing revoked (add --yes to revoke anyway)", file=sys.stderr)
                return 1
        await runtime.service.revoke_role(actor.user_id, role)
        print(f"revoked {args.role} from {args.telegram_id}")
        return 0

    return action


def _confirm(question: str) -> bool:
    """Ask on the terminal; without one (a script, a pipe) the answer is no."""
    if not sys.stdin.isatty():
        return False
    print(question, end="", file=sys.stderr, flush=True)  # stdout stays the result
    return sys.stdin.readline().strip().lower() in {"y", "yes", "ya"}


async def _invitation_list(runtime: Runtime) -> int:
    from sop.people import PeopleService

    invitations = await PeopleService(runtime.service).open_invitations()
    if not invitations:
        print("no open invitations")
    tz = runtime.settings.tz
    for item in invitations:
        division = item.division_name or "-"
        expires = item.expires_at.astimezone(tz).isoformat(timespec="minutes")
        print(
            f"{item.id}\t{item.role.value}\t{division}\t{item.name or '-'}\t"
            f"by {item.created_by_name or '-'}\texpires {expires}"
        )
    return 0


def _invitation_revoke(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        from sop.people import PeopleService

        item = await PeopleService(runtime.service).revoke_invitation(args.id)
        print(f"revoked invitation {item.id} ({item.role.value}); its link no longer works")
        return 0

    return action


async def _division_list(runtime: Runtime) -> int:
    for division in await runtime.service.divisions(include_inactive=True):
        state = "" if division.active else "\t(inactive)"
        print(f"{division.id}\t{division.name}{state}")
    return 0


def _division_add(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        division = await runtime.service.add_division(args.name)
        print(f"{division.id}\t{division.name}")
        return 0

    return action


def _calendar_list(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        calendar = runtime.calendar_service
        print(f"working hours: {calendar.hours}")
        closures = await calendar.closures()
        print("office closures:" if closures else "office closures: none")
        for closure in closures:
            by = closure.created_by_name or "(command line)"
            print(f"{closure.day.isoformat()}\t{closure.description}\t{by}")
        print(f"closed days in the next {args.days} days:")
        for item in calendar.upcoming(args.days):
            print(f"{item.day.isoformat()}\t{item.kind}\t{item.name}")
        return 0

    return action


def _calendar_add(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        from sop.validation import parse_date

        change = await runtime.calendar_service.add_closure(
            parse_date(args.date), " ".join(args.description)
        )
        print(
            f"office closed on {change.closure.day.isoformat()} ({change.closure.description}); "
            f"{change.rescheduled} open step(s) got a new due time"
        )
        print("a running bot picks this up within a minute")
        return 0

    return action


def _calendar_remove(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        from sop.validation import parse_date

        change = await runtime.calendar_service.remove_closure(parse_date(args.date))
        print(
            f"removed the closure on {change.closure.day.isoformat()} "
            f"({change.closure.description}); "
            f"{change.rescheduled} open step(s) got a new due time"
        )
        print("a running bot picks this up within a minute")
        return 0

    return action


async def _with_operator_runtime(
    settings: Settings, action: Callable[[Runtime], Awaitable[int]]
) -> int:
    """Like :func:`_with_runtime`, without adding the configured admins first: check and
    export change no record (check only removes what interrupted writes left behind), and
    import needs the database untouched."""
    return await _with_runtime(settings.model_copy(update={"admin_telegram_ids": []}), action)


async def _check(runtime: Runtime) -> int:
    from db.session import create_sessionmaker
    from sop.integrity import IntegrityChecker

    checker = IntegrityChecker(create_sessionmaker(runtime.engine), runtime.storage, runtime.clock)
    report = await checker.check()
    print(report.render_text(runtime.settings.tz))
    return report.exit_code


def _transfer(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        from pathlib import Path

        from db.session import create_sessionmaker
        from sop.transfer import Transfer, TransferError

        transfer = Transfer(create_sessionmaker(runtime.engine), runtime.storage, runtime.clock)
        try:
            if args.command == "export":
                summary = await transfer.export_to(Path(args.directory))
            else:
                summary = await transfer.import_from(Path(args.directory))
        except TransferError as exc:
            print(f"ppidbot {args.command}: {exc.message}", file=sys.stderr)
            return 1
        print(summary.render_text("exported" if args.command == "export" else "imported"))
        if args.command == "import":
            print("now run `ppidbot check` to verify the imported data")
        return 0

    return action


def _backup(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        from pathlib import Path

        from sop.backup import BackupError, Backups

        backups = Backups(
            runtime.engine, runtime.settings.database_url, runtime.storage, runtime.clock
        )
        try:
            if args.command == "backup":
                summary = await backups.backup_to(Path(args.directory))
            else:
                summary = await backups.restore_from(Path(args.directory))
        except BackupError as exc:
            print(f"ppidbot {args.command}: {exc.message}", file=sys.stderr)
            return 1
        print(summary.render_text("backed up" if args.command == "backup" else "restored"))
        if args.command == "restore":
            print("now run `ppidbot check` to verify the restored data")
        return 0

    return action


def _report(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        from functools import partial
        from pathlib import Path

        from bot import reports
        from sop.register import RegisterService

        targets = [Path(name) for name in (args.out, args.chart) if name]
        for target in targets:
            if not target.parent.is_dir():
                print(f"ppidbot: directory {target.parent} does not exist", file=sys.stderr)
                return 1
        data = await RegisterService(runtime.service).report_data()
        counts = (
            f"{len(reports.stored(data))} records in the DIK, "
            f"{len(reports.in_progress(data))} in progress"
        )
        if args.out:
            build = (
                reports.workbook_bytes
                if args.format == "xlsx"
                else partial(reports.dik_csv_bytes, delimiter=args.delimiter)
            )
            out = Path(args.out)
            _write_atomically(out, await asyncio.to_thread(build, data))
            print(f"wrote {out} ({args.format}, {counts})")
        if args.chart:
            chart = await asyncio.to_thread(reports.chart_png, data)
            if chart is None:
                print(
                    "ppidbot: no chart written: no step has finished or is overdue yet",
                    file=sys.stderr,
                )
                return 1
            _write_atomically(Path(args.chart), chart)
            print(f"wrote {args.chart} (chart of on-time share per step and month)")
        return 0

    return action


def _write_atomically(path: Path, content: bytes) -> None:
    """Write via a hidden partial file and a rename: a reader never sees half a file."""
    partial = path.with_name(f".{path.name}.part")
    partial.write_bytes(content)
    partial.replace(path)


def _papers(runtime: Runtime) -> Any:
    from bot.papers.pdf import renderer
    from sop.verification import PapersService

    return PapersService(runtime.service, renderer(runtime.settings.tz))


def _verify(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    from pathlib import Path

    path = Path(args.subject)
    is_file = path.suffix.lower() == ".pdf" or path.is_file()

    async def action(runtime: Runtime) -> int:
        from bot.papers.report import render_verification

        subject: str | bytes = args.subject
        if is_file:
            try:
                subject = await asyncio.to_thread(path.read_bytes)
            except OSError as exc:
                print(f"ppidbot verify: cannot read {path}: {exc.strerror}", file=sys.stderr)
                return 1
        result = await _papers(runtime).verify(subject)
        print(render_verification(result, runtime.settings.tz))
        return _VERIFY_EXIT[result.verdict]

    return action


def _publish(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        from pathlib import Path

        from bot.papers.public import write_public_list
        from sop.publish import PublishService

        publish = PublishService(runtime.service)
        summary = await write_public_list(
            Path(args.directory), publish.entries(), publish.now(), tz=runtime.settings.tz
        )
        counts = summary.counts
        print(
            f"wrote {', '.join(summary.files)} to {summary.directory}: {counts.total} records "
            f"({counts.exempt} exempted, {counts.opened} opened)"
        )
        return 0

    return action


async def _anchor(runtime: Runtime) -> int:
    """Record the chain's head as an anchor and, with a bot token, send it to the admins
    and the Pejabat PPID as the daily job does."""
    from telegram.constants import ParseMode
    from telegram.error import TelegramError
    from telegram.ext import Defaults, ExtBot

    from bot.papers_job import send_anchor
    from sop.anchors import Anchor, AnchorService

    settings = runtime.settings
    anchor: Anchor | None = None
    sent = ""
    try:
        token = settings.require_token()
    except ConfigError:
        sent = "not sent (TELEGRAM_BOT_TOKEN is not set)"
    else:
        options: dict[str, Any] = {}
        if settings.telegram_base_url:
            options["base_url"] = settings.telegram_base_url
        try:
            defaults = Defaults(parse_mode=ParseMode.HTML)
            async with ExtBot(token, defaults=defaults, **options) as bot:
                anchor = await send_anchor(bot, runtime, source="cli")
            sent = "sent to the admins and the Pejabat PPID"
        except TelegramError as exc:
            sent = f"not sent (Telegram: {exc})"
    if anchor is None:
        anchor = await AnchorService(runtime.service).anchor("cli")
    print(f"anchor {anchor.text}")
    print(
        f"recorded; {sent}; keep it outside this server: "
        f"`ppidbot check --anchor {anchor.text}` proves the audit chain still holds it"
    )
    return 0


def _check_anchors(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        from sop.anchors import AnchorService, parse_anchor

        anchors = [parse_anchor(text) for text in args.anchor or []]
        code = await _check(runtime)
        service = AnchorService(runtime.service)
        for seq, expected in anchors:
            result = await service.check(seq, expected)
            if result.ok:
                print(f"anchor {seq}:{expected}: OK, the audit chain still holds it")
                continue
            print(f"anchor {seq}:{expected}: FAILED")
            print("\n".join(f"  - {problem}" for problem in result.problems))
            code = 1
        return code

    return action


def _evidence(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        from pathlib import Path

        from bot.papers.evidence import write_evidence
        from sop.evidence import EvidenceService

        out = Path(args.out)
        if not out.parent.is_dir():
            print(f"ppidbot: directory {out.parent} does not exist", file=sys.stderr)
            return 1
        data = await EvidenceService(runtime.service, _papers(runtime)).gather(args.number)
        summary = await write_evidence(
            out, data, runtime.storage, with_files=args.with_files, tz=runtime.settings.tz
        )
        print(
            f"wrote {out}: {data.record.number}, {summary.papers} paper(s), "
            f"{len(data.trail)} audit entries of the record, {summary.entries} in the chain "
            f"proof, {summary.softcopies} softcopy checksum(s)"
            + (" with the files" if args.with_files else "")
        )
        if not summary.anchored:
            print(
                "note: the proof's last segment ends at the chain's head, not at an anchor; "
                "run `ppidbot anchor` and make the pack again to tie it to a witness"
            )
        return 0

    return action


def _record_internal(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        from sop.publish import PublishService

        internal = args.value == "yes"
        changed = await PublishService(runtime.service).set_internal(None, args.number, internal)
        state = "internal (left out of the public list)" if internal else "public"
        print(f"{args.number} is {state}" + ("" if changed else " already; nothing changed"))
        return 0

    return action


def _record_cancel(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        from sop.service import PpidService

        kind, key = PpidService.parse_reference(args.number)
        if kind == "number":
            print(
                f"ppidbot: {key} is in the register; only drafts (BRK-...) can be withdrawn",
                file=sys.stderr,
            )
            return 1
        outcome = await runtime.service.cancel_draft(None, int(key), args.reason)
        record = outcome.record
        print(f"withdrew {record.number} ({record.fields.title}); it left the register")
        print("its reminders stop; a running bot picks this up within a minute")
        await _tell_withdrawal(runtime, outcome, args.reason)
        return 0

    return action


async def _tell_withdrawal(runtime: Runtime, outcome: Outcome, reason: str) -> None:
    """Tell the people a withdrawn draft waited on, through the Bot API (when a token is
    configured); print who was told and who could not be."""
    from telegram.constants import ParseMode
    from telegram.error import TelegramError
    from telegram.ext import Defaults, ExtBot

    from bot import texts
    from bot.notify import open_button, send_safely
    from bot.texts import withdraw as t

    people = list(outcome.notify)
    if not people:
        print("nobody to notify")
        return
    names = ", ".join(actor.full_name for actor in people)
    settings = runtime.settings
    try:
        token = settings.require_token()
    except ConfigError:
        print(f"not notified (TELEGRAM_BOT_TOKEN is not set): {names}")
        return
    record = outcome.record
    text = t.NOTICE.format(
        number=texts.h(record.number),
        title=texts.h(record.fields.title),
        who=t.OPERATOR,
        reason=texts.h(reason),
    )
    options: dict[str, Any] = {}
    if settings.telegram_base_url:
        options["base_url"] = settings.telegram_base_url
    if settings.telegram_base_file_url:
        options["base_file_url"] = settings.telegram_base_file_url
    try:
        # The running bot's defaults: notices are HTML.
        defaults = Defaults(parse_mode=ParseMode.HTML)
        async with ExtBot(token, defaults=defaults, **options) as bot:
            delivered = set(await send_safely(bot, people, text, open_button(record)))
    except TelegramError as exc:
        print(f"not notified (Telegram: {exc}): {names}")
        return
    told = [a.full_name for a in people if a.telegram_id in delivered]
    missed = [a.full_name for a in people if a.telegram_id not in delivered]
    if told:
        print(f"notified: {', '.join(told)}")
    if missed:
        print(f"could not notify: {', '.join(missed)}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ppidbot", description="Telegram bot for SOP 25/2021 (exempted public information)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the bot (long polling, or a webhook with WEBHOOK_URL)")
    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply all migrations")
    db.add_parser("current", help="show the current revision")

    user = sub.add_parser("user", help="people and roles").add_subparsers(
        dest="user_command", required=True
    )
    add = user.add_parser("add", help="register a person with a role")
    add.add_argument("--telegram-id", type=int, required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=[r.value for r in Role], required=True)
    add.add_argument("--division", type=int, help="division id (required for petugas_ppid)")
    user.add_parser("list", help="list people and their roles")
    revoke = user.add_parser("revoke", help="take a role away")
    revoke.add_argument("--telegram-id", type=int, required=True)
    revoke.add_argument("--role", choices=[r.value for r in Role], required=True)
    revoke.add_argument(
        "--yes",
        action="store_true",
        help="revoke even if nobody else then holds the role for records waiting on it",
    )

    invitation = sub.add_parser("invitation", help="invitation links (made with /undang)")
    invitations = invitation.add_subparsers(dest="invitation_command", required=True)
    invitations.add_parser("list", help="open invitations (not used, revoked or expired)")
    invitation_revoke = invitations.add_parser("revoke", help="make an invitation link invalid")
    invitation_revoke.add_argument("id", type=int, help="the invitation's number (see list)")

    division = sub.add_parser("division", help="divisions (units)").add_subparsers(
        dest="division_command", required=True
    )
    division.add_parser("list")
    division_add = division.add_parser("add")
    division_add.add_argument("name")

    calendar = sub.add_parser(
        "calendar", help="office closures (cuti bersama); national holidays are built in"
    ).add_subparsers(dest="calendar_command", required=True)
    calendar_list = calendar.add_parser("list", help="working hours, closures, closed days ahead")
    calendar_list.add_argument("--days", type=int, default=60, help="how far ahead (default 60)")
    calendar_add = calendar.add_parser("add", help="close the office on a date")
    calendar_add.add_argument("date", help="YYYY-MM-DD or DD-MM-YYYY")
    calendar_add.add_argument("description", nargs="+", help="e.g. Cuti bersama Natal")
    calendar_remove = calendar.add_parser("remove", help="remove an office closure")
    calendar_remove.add_argument("date", help="YYYY-MM-DD or DD-MM-YYYY")

    check = sub.add_parser(
        "check",
        help=(
            "re-hash every stored file and verify the database; exit 1 for damage, "
            "2 when steps are only late"
        ),
    )
    check.add_argument(
        "--anchor",
        action="append",
        metavar="N:HASH",
        help="also prove the audit chain still holds this anchor (from `ppidbot anchor`)",
    )
    export = sub.add_parser("export", help="write a complete export (manifest and files)")
    export.add_argument("directory", help="a new or empty directory")
    report = sub.add_parser(
        "report", help="the register (DIK) and SOP compliance as a workbook, as in /laporan"
    )
    report.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    report.add_argument("--out", help="the workbook (xlsx) or the DIK (csv) to write")
    report.add_argument(
        "--delimiter",
        choices=[",", ";"],
        default=",",
        help="CSV separator; ';' for Excel with Indonesian settings (default ',')",
    )
    report.add_argument("--chart", metavar="FILE.png", help="also write the chart /laporan sends")
    record = sub.add_parser("record", help="records (berkas)").add_subparsers(
        dest="record_command", required=True
    )
    record_cancel = record.add_parser(
        "cancel", help="withdraw a draft that was never submitted (it stops reminding)"
    )
    record_cancel.add_argument("number", help="the draft's number, e.g. BRK-12")
    record_cancel.add_argument("--reason", required=True, help="why it is withdrawn (audited)")
    record_internal = record.add_parser(
        "internal", help="leave a record out of the public list (yes) or list it again (no)"
    )
    record_internal.add_argument("number", help="the record, e.g. DIK-2026-0001")
    record_internal.add_argument("value", choices=["yes", "no"])
    verify = sub.add_parser(
        "verify",
        help=(
            "check a handover record or other paper (its verification code, or the PDF) "
            "against the register; exit 0 matches, 1 changed or unknown, 2 only the PDF differs"
        ),
    )
    verify.add_argument("subject", help="a verification code (ABCDE-FGHJK) or a PDF file")
    publish = sub.add_parser(
        "publish",
        help="write the public list of exempted information (index.html, dik.csv, dik.json)",
    )
    publish.add_argument("directory", help="where to write it (created if missing)")
    sub.add_parser("anchor", help="record and print the audit chain's head (N:HASH)")
    evidence = sub.add_parser(
        "evidence", help="the evidence pack of one record (ZIP, verifiable without ppidbot)"
    )
    evidence.add_argument("number", help="the record, e.g. DIK-2026-0001 or BRK-12")
    evidence.add_argument("out", help="the ZIP file to write")
    evidence.add_argument(
        "--with-files", action="store_true", help="include the softcopies themselves"
    )
    import_ = sub.add_parser("import", help="load an export into an empty database and storage")
    import_.add_argument("directory", help="a directory written by `ppidbot export`")
    backup = sub.add_parser(
        "backup", help="a consistent backup while the bot runs: database copy, files, manifest"
    )
    backup.add_argument("directory", help="a new or empty directory")
    restore = sub.add_parser(
        "restore", help="put a backup back into an empty database and storage (bot stopped)"
    )
    restore.add_argument("directory", help="a directory written by `ppidbot backup`")
    return parser


def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        return _run_bot(settings)
    if args.command == "report":
        if not (args.out or args.chart):
            print("ppidbot report: give --out FILE, --chart FILE.png, or both", file=sys.stderr)
            return 2
        if args.delimiter != "," and (args.format != "csv" or not args.out):
            print("ppidbot report: --delimiter is for --format csv --out FILE", file=sys.stderr)
            return 2
        return asyncio.run(_with_runtime(settings, _report(args)))
    if args.command == "verify":
        return asyncio.run(_with_operator_runtime(settings, _verify(args)))
    if args.command == "check" and args.anchor:
        return asyncio.run(_with_operator_runtime(settings, _check_anchors(args)))
    operator = {"publish": _publish, "anchor": lambda _: _anchor, "evidence": _evidence}
    if args.command in operator:
        return asyncio.run(_with_operator_runtime(settings, operator[args.command](args)))
    if args.command in {"check", "export", "import", "backup", "restore"}:
        action = (
            _check
            if args.command == "check"
            else _transfer(args)
            if args.command in {"export", "import"}
            else _backup(args)
        )
        return asyncio.run(_with_operator_runtime(settings, action))
    actions: dict[tuple[str, str], Callable[[], Callable[[Runtime], Awaitable[int]]]] = {
        ("db", "upgrade"): lambda: _db_upgrade,
        ("db", "current"): lambda: _db_current,
        ("user", "add"): lambda: _user_add(args),
        ("user", "list"): lambda: _user_list,
        ("user", "revoke"): lambda: _user_revoke(args),
        ("invitation", "list"): lambda: _invitation_list,
        ("invitation", "revoke"): lambda: _invitation_revoke(args),
        ("division", "list"): lambda: _division_list,
        ("division", "add"): lambda: _division_add(args),
        ("calendar", "list"): lambda: _calendar_list(args),
        ("calendar", "add"): lambda: _calendar_add(args),
        ("calendar", "remove"): lambda: _calendar_remove(args),
        ("record", "cancel"): lambda: _record_cancel(args),
        ("record", "internal"): lambda: _record_internal(args),
    }
    sub: Any = getattr(args, f"{args.command}_command")
    migrate = (args.command, sub) != ("db", "current")
    return asyncio.run(_with_runtime(settings, actions[(args.command, sub)](), migrate=migrate))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        with _logging(settings, args.command):
            return dispatch(args, settings)
    except ConfigError as exc:
        print(f"ppidbot: {exc}", file=sys.stderr)
        return 2
    except SopError as exc:
        print(f"ppidbot: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
