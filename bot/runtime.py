"""The running parts, built once from settings: engine, storage, clock and the service."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.albums import AlbumBook
from bot.config import Settings
from db.migrate import upgrade
from db.session import create_engine, create_sessionmaker
from sop.calendar import OfficeCalendar
from sop.calendar_service import CalendarService
from sop.clock import Clock, SystemClock
from sop.files import FileRecovery
from sop.service import PpidService
from storage import DocumentStorage, open_storage


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    storage: DocumentStorage
    clock: Clock
    service: PpidService
    calendar_service: CalendarService
    albums: AlbumBook = field(init=False)

    def __post_init__(self) -> None:
        self.albums = AlbumBook(create_sessionmaker(self.engine), self.clock)

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        migrate: bool = True,
        recover: bool = False,
    ) -> Runtime:
        """Connect, bring the schema up to date, and prepare storage.

        ``recover`` (the bot's start, before it takes updates): remove what a crash left of
        interrupted writes (temp files, files no row records) and keep the interrupted
        uploads for their senders to be told (:mod:`sop.files`). Nothing else may be writing
        then; the operator's commands, which may run beside the bot, do not recover.
        """
        engine = create_engine(settings.database_url)
        calendar = OfficeCalendar(settings.hours, settings.tz)
        if migrate:
            await upgrade(engine, calendar=calendar)
        storage = open_storage(
            settings.storage_location, max_size=settings.max_file_size, s3=settings.s3_options
        )
        clock = clock or SystemClock()
        if recover:
            await storage.cleanup_temp()
            await storage.secure()
            await FileRecovery(create_sessionmaker(engine), storage, clock).reconcile()
        service = PpidService(
            create_sessionmaker(engine),
            storage,
            clock=clock,
            step_deadline=settings.step_deadline,
            timezone=settings.tz,
            calendar=calendar,
            four_eyes=settings.four_eyes,
        )
        calendar_service = CalendarService(service, calendar)
        if migrate:  # the closures table exists only once migrated
            await calendar_service.refresh()
        if settings.admin_telegram_ids:
            await service.ensure_admins(settings.admin_telegram_ids)
        return cls(settings, engine, storage, clock, service, calendar_service=calendar_service)

    async def close(self) -> None:
        await self.storage.close()
        await self.engine.dispose()
