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
    ChatMemberHandler,
    ContextTypes,
    Defaults,
    TypeHandler,
)

from bot import file_jobs, metrics, notify, reminders, text_jobs
from bot.application import PpidApplication
from bot.backup_job import schedule_daily_backup
from bot.cards import CardTracker
from bot.commands import publish_default
from bot.config import Settings
from bot.context import BotData, PpidContext
from bot.dispatch import NoticeDispatcher, background
from bot.expiry_job import schedule_expiry_checks
from bot.integrity_job import schedule_weekly_check
from bot.papers_job import schedule_papers_jobs
from bot.persistence import DatabasePersistence
from bot.ratelimit import PpidRateLimiter
from bot.runtime import Runtime
from bot.updates import OrderedUpdateProcessor
from db.session import create_sessionmaker
from handlers import (
    access,
    admin,
    calendar,
    contact,
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
from sop.outbox import OutboxService

log = logging.getLogger(__name__)

GUARD_GROUP = -1
CONTACT_GROUP = -2  # before the guard: who writes to the bot can be reached
MEMBER_GROUP = -3  # the person blocked or unblocked the bot
METRICS_GROUP = -4  # first of all: every update is counted, refused ones too
SWEEP_START_JOB = "notices:start"
SWEEP_JOB = "notices:sweep"


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
        .rate_limiter(rate_limiter(settings))
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
    install_notices(application, runtime)
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


def rate_limiter(settings: Settings) -> PpidRateLimiter:
    """Telegram's flood limits as configured; every request of the bot goes through it."""
    return PpidRateLimiter(
        overall_per_second=settings.send_rate_overall,
        group_per_minute=settings.send_rate_per_group,
        chat_per_second=settings.send_rate_per_chat,
        chat_burst=settings.send_burst_per_chat,
    )


def install_notices(
    application: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime
) -> NoticeDispatcher:
    """The outbox's dispatcher and the card tracker: every committed change of a record
    sends its notices and edits its cards; the outbox is swept at start and periodically
    (notices left by a crash, retries, changes made on the command line)."""
    settings = runtime.settings
    spawn = background(application)
    outbox = OutboxService(runtime.service, lease=settings.notice_lease)
    cards = CardTracker(
        application.bot,
        outbox,
        tz=settings.tz,
        spawn=spawn,
        document_texts=settings.document_texts,
    )
    dispatcher = NoticeDispatcher(
        application.bot, outbox, tz=settings.tz, wait=settings.notice_wait, spawn=spawn, cards=cards
    )
    application.bot_data.notices = dispatcher
    application.bot_data.cards = cards
    notify.register_dispatcher(application.bot, dispatcher)
    runtime.service.subscribe(cards.on_change)
    runtime.service.subscribe(dispatcher.on_change)
    if application.job_queue is None:
        raise RuntimeError("python-telegram-bot's JobQueue is missing: install the job-queue extra")

    async def sweep(context: PpidContext) -> None:
        dispatcher.kick()  # in the background: a long sweep never holds up the next check

    # A late start (Telegram unreachable for a while) is still a start: never skipped.
    late_ok = {"misfire_grace_time": None, "coalesce": True}
    application.job_queue.run_once(sweep, when=0, name=SWEEP_START_JOB, job_kwargs=late_ok)
    application.job_queue.run_repeating(
        sweep,
        interval=settings.reminder_check_interval,
        first=settings.reminder_check_interval,
        name=SWEEP_JOB,
        job_kwargs=late_ok,
    )
    return dispatcher


def register_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(TypeHandler(Update, _count_update), group=METRICS_GROUP)
    application.add_handler(
        ChatMemberHandler(contact.member_changed, ChatMemberHandler.MY_CHAT_MEMBER),
        group=MEMBER_GROUP,
    )
    application.add_handler(TypeHandler(Update, contact.wrote), group=CONTACT_GROUP)
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
