"""The ``ppidbot`` command: run the bot, migrate the database, manage people."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from bot.config import ConfigError, Settings, load_settings
from bot.runtime import Runtime
from sop.clock import Clock
from sop.errors import SopError
from sop.model import Role

log = logging.getLogger("ppidbot")


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _run_bot(settings: Settings) -> int:
    """Start polling until interrupted (Ctrl+C or SIGTERM)."""
    settings.require_token()
    asyncio.run(serve(settings))
    return 0


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    clock: Clock | None = None,
    handle_signals: bool = True,
    poll_timeout: int = 10,
) -> None:
    """Run the bot in this event loop until ``stop`` is set or a signal arrives."""
    import signal

    from bot.app import build_application

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM) if handle_signals else ():
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(signum, stop.set)
    runtime = await Runtime.open(settings, clock=clock)
    try:
        application = build_application(runtime)
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(
                allowed_updates=["message", "callback_query"],
                poll_interval=0.0,
                timeout=poll_timeout,
            )
            log.info("ppidbot is running; press Ctrl+C to stop")
            await stop.wait()
            await application.updater.stop()
            await application.stop()
    finally:
        await runtime.close()


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
        print(f"{actor.telegram_id}\t{actor.full_name}\t{roles}\t{division}")
    return 0


def _user_revoke(args: argparse.Namespace) -> Callable[[Runtime], Awaitable[int]]:
    async def action(runtime: Runtime) -> int:
        actor = await runtime.service.actor_by_telegram(args.telegram_id)
        if actor is None:
            print(f"no registered user with Telegram id {args.telegram_id}", file=sys.stderr)
            return 1
        await runtime.service.revoke_role(actor.user_id, Role(args.role))
        print(f"revoked {args.role} from {args.telegram_id}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ppidbot", description="Telegram bot for SOP 25/2021 (exempted public information)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the bot (long polling)")
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

    division = sub.add_parser("division", help="divisions (units)").add_subparsers(
        dest="division_command", required=True
    )
    division.add_parser("list")
    division_add = division.add_parser("add")
    division_add.add_argument("name")
    return parser


def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        return _run_bot(settings)
    actions: dict[tuple[str, str], Callable[[], Callable[[Runtime], Awaitable[int]]]] = {
        ("db", "upgrade"): lambda: _db_upgrade,
        ("db", "current"): lambda: _db_current,
        ("user", "add"): lambda: _user_add(args),
        ("user", "list"): lambda: _user_list,
        ("user", "revoke"): lambda: _user_revoke(args),
        ("division", "list"): lambda: _division_list,
        ("division", "add"): lambda: _division_add(args),
    }
    sub: Any = getattr(args, f"{args.command}_command")
    migrate = (args.command, sub) != ("db", "current")
    return asyncio.run(_with_runtime(settings, actions[(args.command, sub)](), migrate=migrate))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        _setup_logging(settings.log_level)
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
