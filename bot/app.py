"""The composition root: builds the Application from settings and wires every component."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    TypeHandler,
)

from bot import file_jobs, metrics, reminders, text_jobs
from bot.application import PpidApplication
from bot.backup_job import schedule_daily_backup
from bot.commands import publish_default
from bot.context import BotData, PpidContext
from bot.expiry_job import schedule_expiry_checks
from bot.integrity_job import schedule_weekly_check
from bot.papers_job import schedule_papers_jobs
from bot.persistence import DatabasePersistence
from bot.runtime import Runtime
from bot.updates import OrderedUpdateProcessor
from db.session import create_sessionmaker
from handlers import (
    access,
    admin,
    calendar,
    errors,
    full_text,
    new_record,
    papers,
    records,
    register,
    start,
    steps,
    withdraw,
)

log = logging.getLogger(__name__)

GUARD_GROUP = -1
METRICS_GROUP = -2  # before the guard: every update is counted, refused ones too


def build_application(runtime: Runtime) -> Application[Any, Any, Any, Any, Any, Any]:
    """An Application for ``runtime``; nothing talks to Telegram until it is started."""
    settings = runtime.settings
    token = settings.require_token()
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(token)
        .application_class(PpidApplication)
        .context_types(ContextTypes(context=PpidContext, bot_data=BotData))
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .persistence(DatabasePersistence(create_sessionmaker(runtime.engine), runtime.clock))
        .concurrent_updates(OrderedUpdateProcessor(settings.max_concurrent_updates))
    )
    if settings.telegram_base_url:
        builder = builder.base_url(settings.telegram_base_url)
    if settings.telegram_base_file_url:
        builder = builder.base_file_url(settings.telegram_base_file_url)
    if settings.telegram_local_mode:
        builder = builder.local_mode(True)
    # Bot API errors are counted by kind (/metrics); the pool size is PTB's default.
    builder = builder.request(metrics.CountingRequest(connection_pool_size=256))
    application = builder.build()
    application.bot_data.runtime = runtime
    register_handlers(application)
    schedule_expiry_checks(application)  # daily at 08:00 and once at start
    schedule_weekly_check(application)  # the JobQueue runs it once the application starts
    schedule_daily_backup(application)  # with BACKUP_DIR: every night at 01:30
    schedule_papers_jobs(application)  # the audit anchor at 07:05; with PUBLISH_DIR the list
    # The JobQueue runs the reminder rebuild as soon as it starts.
    reminders.install(application, runtime)
    file_jobs.install(application, runtime)  # full-disk alerts; interrupted uploads told
    text_jobs.install(application, runtime)  # the text of stored softcopies, read off-loop
    return application


def register_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(TypeHandler(Update, _count_update), group=METRICS_GROUP)
    application.add_handler(TypeHandler(Update, access.guard), group=GUARD_GROUP)
    start.register(application)
    withdraw.register(application)  # before /baru: a withdrawal's reason is not a /baru answer
    new_record.register(application)
    steps.register(application)
    admin.register(application)
    calendar.register(application)
    register.register(application)
    records.register(application)
    papers.register(application)
    full_text.register(application)
    new_record.register_fallbacks(application)  # a softcopy no conversation took
    start.register_fallbacks(application)
    application.add_error_handler(errors.on_error)
    application.add_error_handler(_count_failure)


async def _count_update(update: object, context: Any) -> None:
    metrics.UPDATES.inc()


async def _count_failure(update: object, context: Any) -> None:
    if update is not None:  # an error of a job is no failed update
        metrics.UPDATES_FAILED.inc()


async def on_started(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Once the bot is known to Telegram: publish the default command menu.

    Per-person menus are set when a person registers, opens the bot (/start) or has a role
    changed; pushing them to everyone here would fail for people who never opened the
    chat ("chat not found").
    """
    try:
        await publish_default(application.bot)
    except TelegramError as exc:  # the menu is a convenience: the bot runs without it
        log.warning("could not publish the command menu: %s", exc)
    log.info("ppidbot started as @%s", application.bot.username)
