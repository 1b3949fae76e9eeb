"""``GET /healthz`` and ``GET /metrics``: on python-telegram-bot's webhook server in webhook
mode, on their own small server (``HEALTH_PORT``) in polling mode.

Both servers are tornado's (the one python-telegram-bot's webhook runs on): the two
handlers are added to the webhook application, after its own Telegram route, so the
Telegram route and its secret-token check stay exactly as python-telegram-bot made them.

``/healthz`` answers 200 with JSON when the database answers and the storage takes a
write, else 503 (the same JSON says which part failed). ``/metrics`` is Prometheus' text
format (:mod:`bot.metrics`); with ``METRICS_TOKEN`` set it needs
``Authorization: Bearer <token>`` (else 401).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from tornado.httpserver import HTTPServer

from bot import metrics
from bot.runtime import Runtime
from db.repositories import Repository
from db.session import create_sessionmaker
from storage import StorageError

log = logging.getLogger(__name__)

#: How long one part of the health check may take before it counts as failed.
CHECK_TIMEOUT = 5.0


class _Base(tornado.web.RequestHandler):
    def initialize(self, state: HealthState) -> None:
        self.state = state

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if not isinstance(value, tornado.web.HTTPError):
            log.error("error answering %s", self.request.path, exc_info=(typ, value, tb))


class HealthState:
    """What the handlers need: the runtime, the scheduler's role, the metrics token."""

    def __init__(self, runtime: Runtime, *, scheduler_role: Any = None) -> None:
        self.runtime = runtime
        self.scheduler_role = scheduler_role or (lambda: "active")

    async def report(self) -> tuple[bool, dict[str, object]]:
        runtime = self.runtime
        database = await _timed(self._database())
        storage = await _timed(runtime.storage.probe())
        body: dict[str, object] = {
            "status": "ok" if database is None and storage is None else "unavailable",
            "database": {"ok": database is None, **({"error": database} if database else {})},
            "storage": {
                "ok": storage is None,
                "location": runtime.storage.location,
                **({"error": storage} if storage else {}),
            },
            "scheduler": self.scheduler_role(),
        }
        if database is None:
            body["pending_notices"] = await self._pending()
        return database is None and storage is None, body

    async def _database(self) -> None:
        async with self.runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def _pending(self) -> int:
        sessions = create_sessionmaker(self.runtime.engine)
        async with sessions() as session:
            return await Repository(session).undelivered_notice_count()

    async def overdue(self) -> int:
        sessions = create_sessionmaker(self.runtime.engine)
        async with sessions() as session:
            return await Repository(session).overdue_step_count(self.runtime.clock.now())


async def _timed(check: Any) -> str | None:
    """None when ``check`` finished in time, else what went wrong (one line)."""
    try:
        await asyncio.wait_for(check, CHECK_TIMEOUT)
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT:g}s"
    except StorageError as exc:
        return exc.message
    except Exception as exc:  # a database or network failure of any kind
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return f"{type(exc).__name__}: {reason[0] if reason else ''}"[:300]
    return None


class HealthHandler(_Base):
    async def get(self) -> None:
        ok, body = await self.state.report()
        self.set_status(200 if ok else 503)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


class MetricsHandler(_Base):
    async def get(self) -> None:
        token = self.state.runtime.settings.metrics_token
        if token is not None:
            given = self.request.headers.get("Authorization", "")
            expected = f"Bearer {token.get_secret_value()}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
                self.set_status(401)
                self.set_header("WWW-Authenticate", 'Bearer realm="metrics"')
                self.finish("unauthorized\n")
                return
        try:
            metrics.OVERDUE_STEPS.set(await asyncio.wait_for(self.state.overdue(), CHECK_TIMEOUT))
        except Exception:  # the database is down: the counters are still worth reading
            log.warning("overdue steps could not be counted for /metrics", exc_info=True)
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest(metrics.REGISTRY))


def routes(state: HealthState) -> list[Any]:
    return [
        (r"/healthz", HealthHandler, {"state": state}),
        (r"/metrics", MetricsHandler, {"state": state}),
    ]


def add_to_webhook_server(application: Any, state: HealthState) -> None:
    """Add the two routes to python-telegram-bot's running webhook server."""
    httpd = getattr(application.updater, "_httpd", None)
    server = getattr(httpd, "_http_server", None)
    app = getattr(server, "request_callback", None)
    if not isinstance(app, tornado.web.Application):
        raise RuntimeError(
            "python-telegram-bot's webhook server was not found: /healthz and /metrics "
            "cannot be served (python-telegram-bot changed?)"
        )
    app.add_handlers(r".*", routes(state))


class HealthServer:
    """The two routes on their own port (polling mode with ``HEALTH_PORT``)."""

    def __init__(self, state: HealthState, listen: str, port: int) -> None:
        self._server = HTTPServer(tornado.web.Application(routes(state)))
        self.listen = listen
        self.port = port

    def start(self) -> None:
        self._server.listen(self.port, address=self.listen)

    async def stop(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()
