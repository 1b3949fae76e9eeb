"""Throwaway PostgreSQL server for the test session.

``start_postgres()`` runs ``initdb`` into a fresh temporary directory, starts the
server on a free port bound to 127.0.0.1 only (unix socket inside the temp dir),
tuned for speed rather than durability, and creates the database ``ppidbot``
(superuser ``ppidbot``, ``trust`` authentication, no password).

PostgreSQL refuses to run as root. When the tests run as root (CI, dev
containers), ``initdb``/``pg_ctl`` are run as an unprivileged account
(``$PPIDBOT_TEST_PG_USER``, else ``nobody``, else a ``ppidbot-test`` system user
created with ``useradd``), which owns the temp directory.

``PostgresServer.stop()`` stops the server (``pg_ctl -m immediate``) and removes
the directory; it is also registered with ``atexit``. A session killed with
SIGKILL cannot run ``atexit``, so every ``start_postgres()`` first reaps servers
left behind in the temp dir by processes that no longer exist.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import glob
import json
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import make_url

__all__ = ["PostgresServer", "PostgresStartError", "find_pg_bin", "start_postgres"]

PG_LIB_ROOT = Path("/usr/lib/postgresql")
DB_USER = "ppidbot"
DB_NAME = "ppidbot"
DIR_PREFIX = "ppidbot-pg-"
OWNER_FILE = "owner.json"
FALLBACK_SYSTEM_USER = "ppidbot-test"
START_ATTEMPTS = 3

# Fast, non-durable settings: a test server's data is thrown away anyway.
SERVER_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "checkpoint_timeout": "1h",
    "max_wal_size": "1GB",
    "autovacuum": "off",
    "jit": "off",
    "log_min_messages": "warning",
    "timezone": "UTC",
}

_T = TypeVar("_T")


class PostgresStartError(RuntimeError):
    """The throwaway server could not be set up; the message includes the server log."""


# --------------------------------------------------------------------------- discovery


def _is_pg_bin(directory: Path) -> bool:
    return all(os.access(directory / exe, os.X_OK) for exe in ("initdb", "pg_ctl", "postgres"))


def _version_key(path: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,)
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)


def find_pg_bin() -> Path | None:
    """Directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or None.

    Order: ``$PG_BIN``; the directory of ``initdb``/``pg_ctl`` found on PATH
    (symlinks resolved, so ``/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb``
    works); the highest ``/usr/lib/postgresql/*/bin`` (Debian's layout, not on PATH).
    """
    env = os.environ.get("PG_BIN")
    if env:
        path = Path(env)
        return path if _is_pg_bin(path) else None
    for exe in ("initdb", "pg_ctl"):
        found = shutil.which(exe)
        if found:
            for candidate in (Path(found).resolve().parent, Path(found).parent):
                if _is_pg_bin(candidate):
                    return candidate
    candidates = [Path(p) for p in glob.glob(str(PG_LIB_ROOT / "*" / "bin")) if _is_pg_bin(Path(p))]
    return max(candidates, key=_version_key) if candidates else None


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_in_thread(fn: Callable[[], _T]) -> _T:
    """Run ``fn`` in a helper thread: works whether or not an event loop is running here."""
    result: list[_T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, name="pg-admin", daemon=True)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def _asyncpg_dsn(url: str) -> str:
    """SQLAlchemy URL (``postgresql+asyncpg://...``) -> libpq-style DSN for asyncpg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _admin_execute(url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE/DROP DATABASE) on ``url``."""
    import asyncpg  # local: only needed when a server is used

    dsn = _asyncpg_dsn(url)

    async def go() -> None:
        conn = await asyncpg.connect(dsn, timeout=30)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    _run_in_thread(lambda: asyncio.run(go()))


def quote_ident(name: str) -> str:
    if not name or "\x00" in name or len(name.encode()) > 63:
        raise ValueError(f"invalid PostgreSQL identifier: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def _conf_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_log(path: Path, limit: int = 8000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no server log at {path}: {exc})"
    if len(text) > limit:
        text = "...\n" + text[-limit:]
    return text.strip() or "(server log is empty)"


# --------------------------------------------------------------------------- running as a user


@dataclass(frozen=True)
class _RunAs:
    """Who runs initdb/pg_ctl: None fields mean 'the current user' (not root)."""

    name: str | None = None
    uid: int | None = None
    gid: int | None = None

    def run(
        self, args: Sequence[str | os.PathLike[str]], *, cwd: Path, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        env.pop("LANG", None)
        extra: dict[str, Any] = {}
        if self.uid is not None:
            env["HOME"] = str(cwd)
            env["USER"] = env["LOGNAME"] = self.name or str(self.uid)
            # Python's own setgroups/setgid/setuid in the child: no runuser/sudo needed.
            extra = {"user": self.uid, "group": self.gid, "extra_groups": []}
        return subprocess.run(
            [str(a) for a in args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **extra,
        )

    def chown(self, path: Path) -> None:
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)


def _unprivileged_account() -> _RunAs:
    if os.geteuid() != 0:
        return _RunAs()
    wanted = os.environ.get("PPIDBOT_TEST_PG_USER")
    names = [wanted] if wanted else ["nobody", FALLBACK_SYSTEM_USER]
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return _RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid)
    if not wanted and shutil.which("useradd"):
        subprocess.run(
            [
                "useradd", "--system", "--no-create-home", "--user-group",
                "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                FALLBACK_SYSTEM_USER,
            ],
            capture_output=True,
            check=False,
        )  # fmt: skip
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(FALLBACK_SYSTEM_USER)
            return _RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid)
    raise PostgresStartError(
        "running as root, and PostgreSQL refuses to run as root: no unprivileged account "
        f"found (tried {', '.join(names)}; useradd unavailable or failed). "
        "Set PPIDBOT_TEST_PG_USER to an existing non-root user."
    )


def _check_traversable(path: Path, account: _RunAs) -> None:
    """Every ancestor of ``path`` must be searchable by the server's account."""
    if account.uid is None:
        return
    for parent in path.resolve().parents:
        st = parent.stat()
        if st.st_uid == account.uid:
            ok = bool(st.st_mode & stat.S_IXUSR)
        elif st.st_gid == account.gid:
            ok = bool(st.st_mode & stat.S_IXGRP)
        else:
            ok = bool(st.st_mode & stat.S_IXOTH)
        if not ok:
            raise PostgresStartError(
                f"{parent} (mode {stat.filemode(st.st_mode)}) is not traversable by "
                f"{account.name!r}, which the PostgreSQL server runs as; "
                f"choose a base directory under /tmp (got {path})"
            )


# --------------------------------------------------------------------------- the server


@dataclass
class PostgresServer:
    """A running server. ``url`` is the SQLAlchemy async URL of database ``ppidbot``.

    ``datadir`` is None (and ``stop()`` a no-op) for an external server given by
    ``PostgresServer.external(url)``.
    """

    url: str
    port: int
    datadir: Path | None
    base_dir: Path | None = None
    pg_bin: Path | None = None
    startup_seconds: float = 0.0
    _account: _RunAs = field(default_factory=_RunAs, repr=False)
    _stopped: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def external(cls, url: str) -> PostgresServer:
        """Wrap an already running server (e.g. ``$PPIDBOT_TEST_PG_URL``); never stopped."""
        parsed = make_url(url)
        if parsed.drivername != "postgresql+asyncpg":
            parsed = parsed.set(drivername="postgresql+asyncpg")
        return cls(
            url=parsed.render_as_string(hide_password=False),
            port=parsed.port or 5432,
            datadir=None,
        )

    @property
    def log_path(self) -> Path | None:
        return self.base_dir / "server.log" if self.base_dir else None

    def url_for(self, database: str) -> str:
        return make_url(self.url).set(database=database).render_as_string(hide_password=False)

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` and return its SQLAlchemy async URL."""
        _admin_execute(self.url, f"CREATE DATABASE {quote_ident(name)}")
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, disconnecting any session still using it."""
        _admin_execute(self.url, f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")

    def stop(self) -> None:
        """Stop the server (immediate mode) and remove its directory. Idempotent."""
        with self._lock:
            if self._stopped or self.base_dir is None:
                return
            self._stopped = True
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if self.pg_bin is not None and self.datadir is not None:
            _stop_datadir(self.pg_bin, self.datadir, self._account)
        shutil.rmtree(self.base_dir, ignore_errors=True)


def _stop_datadir(pg_bin: Path, datadir: Path, account: _RunAs) -> None:
    if not (datadir / "postmaster.pid").exists():
        return
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        account.run(
            [pg_bin / "pg_ctl", "-D", datadir, "-m", "immediate", "-w", "-t", "30", "stop"],
            cwd=datadir.parent,
            timeout=40,
        )


def _reap_stale_servers(root: Path, pg_bin: Path, account: _RunAs) -> None:
    """Stop and delete servers whose owning test process is gone (e.g. killed -9)."""
    for base in root.glob(DIR_PREFIX + "*"):
        try:
            owner = json.loads((base / OWNER_FILE).read_text())
            pid = int(owner["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if pid == os.getpid() or _pid_alive(pid):
            continue
        _stop_datadir(pg_bin, base / "data", account)
        shutil.rmtree(base, ignore_errors=True)


def _write_settings(datadir: Path, port: int, socket_dir: Path) -> None:
    settings = {
        **SERVER_SETTINGS,
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(socket_dir),
    }
    lines = ["", "# ppidbot test server (tests/support/postgres.py)"]
    lines += [f"{key} = {_conf_value(value)}" for key, value in settings.items()]
    with (datadir / "postgresql.conf").open("a") as conf:
        conf.write("\n".join(lines) + "\n")


def start_postgres(base_dir: Path | None = None) -> PostgresServer:
    """initdb + start a throwaway server in a new directory inside ``base_dir``.

    ``base_dir`` defaults to the system temp dir; when running as root it must be
    traversable by the unprivileged account (pytest's ``/tmp/pytest-of-root`` is not).
    """
    started = time.monotonic()
    pg_bin = find_pg_bin()
    if pg_bin is None:
        raise PostgresStartError(
            "PostgreSQL server binaries not found (set PG_BIN, or install Debian package "
            "'postgresql')"
        )
    account = _unprivileged_account()
    root = Path(base_dir) if base_dir is not None else Path(tempfile.gettempdir())
    root.mkdir(parents=True, exist_ok=True)
    if base_dir is None:
        _reap_stale_servers(root, pg_bin, account)
    base = Path(tempfile.mkdtemp(prefix=DIR_PREFIX, dir=root))
    try:
        return _start_in(base, pg_bin, account, started)
    except BaseException:
        _stop_datadir(pg_bin, base / "data", account)
        shutil.rmtree(base, ignore_errors=True)
        raise


def _start_in(base: Path, pg_bin: Path, account: _RunAs, started: float) -> PostgresServer:
    (base / OWNER_FILE).write_text(json.dumps({"pid": os.getpid()}))
    os.chmod(base, 0o755)
    account.chown(base)
    _check_traversable(base, account)
    datadir = base / "data"
    socket_dir = base / "sock"
    socket_dir.mkdir(mode=0o700)
    account.chown(socket_dir)
    log = base / "server.log"
    log.touch()
    account.chown(log)

    result = account.run(
        [
            pg_bin / "initdb", "-D", datadir, "-A", "trust", "-U", DB_USER,
            "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
        ],
        cwd=base,
        timeout=120,
    )  # fmt: skip
    if result.returncode != 0:
        raise PostgresStartError(
            f"initdb failed (exit {result.returncode}, as {account.name or 'current user'}, "
            f"binaries {pg_bin}):\n{result.stdout}\n{result.stderr}".rstrip()
        )

    for attempt in range(1, START_ATTEMPTS + 1):
        port = free_port()
        # Re-appending is fine: the last occurrence of a setting wins.
        _write_settings(datadir, port, socket_dir)
        result = account.run(
            [pg_bin / "pg_ctl", "-D", datadir, "-l", log, "-w", "-t", "60", "start"],
            cwd=base,
            timeout=90,
        )
        if result.returncode == 0:
            break
        server_log = _read_log(log)
        _stop_datadir(pg_bin, datadir, account)
        # Only a lost race for the port is worth another try.
        if "already in use" not in server_log or attempt == START_ATTEMPTS:
            raise PostgresStartError(
                f"pg_ctl start failed (exit {result.returncode}, port {port}, "
                f"as {account.name or 'current user'}, binaries {pg_bin}):\n"
                f"{result.stdout}{result.stderr}\n--- server log {log} ---\n{server_log}"
            )

    server = PostgresServer(
        url=f"postgresql+asyncpg://{DB_USER}@127.0.0.1:{port}/{DB_NAME}",
        port=port,
        datadir=datadir,
        base_dir=base,
        pg_bin=pg_bin,
        _account=account,
    )
    atexit.register(server.stop)
    try:
        _admin_execute(server.url_for("postgres"), f"CREATE DATABASE {quote_ident(DB_NAME)}")
    except Exception as exc:
        server.stop()
        raise PostgresStartError(
            f"server started but creating database {DB_NAME!r} failed: {exc!r}\n"
            f"--- server log {log} ---\n{_read_log(log)}"
        ) from exc
    server.startup_seconds = time.monotonic() - started
    return server
