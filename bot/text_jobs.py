"""The text worker: reads stored softcopies in a pool of processes, off the event loop.

The queue is in the database (``document_texts``, :mod:`sop.document_text`): a softcopy
stored queues its content in the same transaction, so nothing is lost when the bot stops;
at start, work claimed before the stop goes back to the queue. The worker wakes when a
softcopy was stored (``PpidService.on_text_queued``) and, as a safety net for files stored
by another process, every :data:`POLL_EVERY`. Reading (pypdf, Tesseract) happens in a
bounded :class:`~concurrent.futures.ProcessPoolExecutor` of ``OCR_WORKERS`` processes,
so no button press ever waits on it; a process that crashes or a page that times out
counts as a failed attempt, and a document is given up after a few (it is still stored).
When the last softcopy of a record is read, its sender is told, with the personal-data
hints (masked).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path, PurePosixPath
from typing import Any

from telegram import Bot
from telegram.ext import Application

from bot.application import PpidApplication
from bot.notify import open_button, send_safely
from bot.runtime import Runtime
from bot.texts import pii as texts
from db.texts import Work
from sop.document_text import TextNotice, TextService
from sop.extraction import OcrConfig, find_tesseract, ocr_languages
from sop.text_reading import ReadResult, read_document
from storage import DocumentStorage

log = logging.getLogger(__name__)

#: How often the worker looks for queued documents without being woken (seconds).
POLL_EVERY = 60.0
START_JOB = "texts:start"


def ocr_config(runtime: Runtime) -> OcrConfig | None:
    """Tesseract as configured, or None when OCR is off or impossible (said in the log)."""
    settings = runtime.settings
    if settings.ocr_enabled is False:
        log.info("OCR is off (OCR_ENABLED=false): photos and scans are stored unread")
        return None
    binary = find_tesseract()
    if binary is None:
        level = logging.WARNING if settings.ocr_enabled else logging.INFO
        log.log(
            level,
            "OCR is off: tesseract not found (Debian: apt-get install tesseract-ocr "
            "tesseract-ocr-ind tesseract-ocr-eng)",
        )
        return None
    languages, missing = ocr_languages(binary, settings.ocr_languages)
    if missing:
        log.warning("Tesseract has no model for %s (Debian: tesseract-ocr-<lang>)", missing)
    if not languages:
        log.warning("OCR is off: none of the languages %r is installed", settings.ocr_languages)
        return None
    return OcrConfig(binary, languages)


class TextWorker:
    def __init__(self, runtime: Runtime, bot: Bot, ocr: OcrConfig | None) -> None:
        self.runtime = runtime
        self.bot = bot
        self.ocr = ocr
        self.texts = TextService(runtime.service)
        self.workers = runtime.settings.ocr_workers
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pool: ProcessPoolExecutor | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        await self.texts.start(ocr_enabled=self.ocr is not None)
        self._task = asyncio.create_task(self._run(), name="ppidbot-text-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._pool is not None:
            _terminate(self._pool)
            self._pool = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("text worker failed; trying again in %s s", POLL_EVERY)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_EVERY)

    async def drain(self) -> None:
        """Read every queued document, telling senders as their records are complete."""
        await self.tell()
        while work := await self.texts.claim(self.workers):
            await asyncio.gather(*(self._read(item) for item in work))
            await self.tell()

    async def _read(self, work: Work) -> None:
        if work.path is None:
            await self.texts.forget(work)
            return
        loop = asyncio.get_running_loop()
        try:
            async with private_copy(self.runtime.storage, work.path) as path:
                result: ReadResult = await loop.run_in_executor(
                    self._executor(), read_document, path, work.mime_type, self.ocr
                )
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the document stays stored; the attempt is counted
            if isinstance(exc, BrokenProcessPool):
                self._pool = None  # a reader process died: a fresh pool for the next
            reason = type(exc).__name__
            log.warning(
                "reading file %s… failed (attempt %d): %s", work.sha256[:12], work.attempts, reason
            )
            await self.texts.fail(work, reason)
            return
        await self.texts.save(work, result)
        extraction = result.extraction
        log.info(
            "read file %s…: %s, %d page(s)%s",
            work.sha256[:12],
            extraction.method or "nothing",
            len(extraction.pages),
            f", {extraction.problem}" if extraction.problem else "",
        )

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    async def tell(self) -> None:
        """Tell senders whose records' softcopies are all read."""
        while notices := await self.texts.notices():
            for notice in notices:
                await self._tell(notice)
            await self.texts.told(sorted({i for n in notices for i in n.text_ids}))

    async def _tell(self, notice: TextNotice) -> None:
        service = self.runtime.service
        async with service.transaction() as repo:
            user = await repo.user(notice.user_id)
            person = await service.actor_of(repo, user) if user is not None else None
        if person is None or not person.active:
            return
        try:
            record = await service.record(person, notice.record_id)
        except Exception:  # no longer theirs to see: nothing is said
            return
        text = texts.text_ready(notice.record_number, record.fields.title, notice.documents)
        await send_safely(self.bot, [person], text, open_button(record))


@contextlib.asynccontextmanager
async def private_copy(storage: DocumentStorage, stored_path: str) -> AsyncIterator[Path]:
    """The stored file as a local file only the bot's user can read (the storage may be an
    S3 bucket), for the reader process; removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="ppidbot-read-"))  # 0700
    try:
        target = directory / ("document" + PurePosixPath(stored_path).suffix.lower())
        handle = await asyncio.to_thread(
            os.fdopen, os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb"
        )
        try:
            async for chunk in storage.read_chunks(stored_path):
                await asyncio.to_thread(handle.write, chunk)
        finally:
            await asyncio.to_thread(handle.close)
        yield target
    finally:
        await asyncio.to_thread(shutil.rmtree, directory, True)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop the reader processes now: a page may take minutes, and the document they
    read goes back to the queue at the next start (it is only marked as claimed)."""
    processes = list(getattr(pool, "_processes", {}).values())  # no public API before 3.14
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)


def install(application: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime) -> None:
    """Start the text worker with the application; stop it (and its processes) with it."""
    if not runtime.settings.document_texts:
        log.info("reading the text of softcopies is off (DOCUMENT_TEXTS=false)")
        return
    worker = TextWorker(runtime, application.bot, ocr_config(runtime))
    runtime.service.on_text_queued(worker.wake)
    if application.job_queue is None:
        raise RuntimeError("the JobQueue is missing: install python-telegram-bot[job-queue]")

    async def start(_: object) -> None:
        await worker.start()

    application.job_queue.run_once(
        start, when=0, name=START_JOB, job_kwargs={"misfire_grace_time": None}
    )
    if isinstance(application, PpidApplication):
        application.on_stop.append(worker.stop)
