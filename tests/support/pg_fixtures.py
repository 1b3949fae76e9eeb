"""pytest fixtures for tests that need PostgreSQL.

Register them in ``tests/conftest.py`` with::

    pytest_plugins = ["tests.support.pg_fixtures"]

``postgres_server`` (session): a throwaway server started once per session (see
``tests.support.postgres``), or the server at ``$PPIDBOT_TEST_PG_URL`` when set
(SQLAlchemy URL; ``postgresql://`` is accepted too). Tests using it are skipped,
with the reason shown by ``-ra``, when no PostgreSQL server binaries are installed,
unless ``PPIDBOT_TEST_PG_REQUIRED=1``, which turns that into a failure.

``pg_url`` (function): SQLAlchemy async URL of a new, empty database for this test,
dropped afterwards.
"""

from __future__ import annotations

import itertools
import os
import re
import uuid
from collections.abc import Iterator

import pytest

from tests.support.postgres import PostgresServer, find_pg_bin, start_postgres

__all__ = ["pg_url", "postgres_server"]

SKIP_REASON = (
    "PostgreSQL server binaries not found (install Debian package 'postgresql'); "
    "PostgreSQL tests skipped"
)

_counter = itertools.count(1)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    external = os.environ.get("PPIDBOT_TEST_PG_URL")
    if external:
        yield PostgresServer.external(external)
        return
    if find_pg_bin() is None:
        if _truthy(os.environ.get("PPIDBOT_TEST_PG_REQUIRED")):
            pytest.fail(SKIP_REASON.replace("tests skipped", "tests required"), pytrace=False)
        pytest.skip(SKIP_REASON)
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


def unique_db_name(hint: str = "") -> str:
    """``t_<hint>_<n>_<random>``: unique across tests, processes and reruns; <= 63 bytes."""
    slug = re.sub(r"[^a-z0-9]+", "_", hint.lower()).strip("_")[:32]
    return f"t_{slug}_{next(_counter)}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def pg_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    name = unique_db_name(request.node.name)
    url = postgres_server.create_database(name)
    yield url
    # WITH (FORCE) ends connections a test leaked; keeps a long-lived external server clean.
    postgres_server.drop_database(name)
