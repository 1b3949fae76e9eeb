"""The throwaway PostgreSQL server used by database tests (tests/support/postgres.py)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support import postgres
from tests.support.postgres import PostgresServer, find_pg_bin, start_postgres

# Same module name as in tests/conftest.py: pytest registers the plugin once.
pytest_plugins = ["tests.support.pg_fixtures"]


async def _scalar(url: str, sql: str) -> object:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()
    finally:
        await engine.dispose()


async def test_version_and_table(pg_url: str) -> None:
    assert pg_url.startswith("postgresql+asyncpg://")
    engine = create_async_engine(pg_url)
    try:
        async with engine.begin() as conn:
            version = (await conn.execute(text("select version()"))).scalar_one()
            assert version.startswith("PostgreSQL")
            await conn.execute(text("create table item (id serial primary key, name text)"))
            await conn.execute(
                text("insert into item (name) values (:a), (:b)"),
                [{"a": "permohonan", "b": "keberatan"}],
            )
        async with engine.connect() as conn:
            rows = (await conn.execute(text("select name from item order by id"))).all()
        assert [r.name for r in rows] == ["permohonan", "keberatan"]
        encoding = await _scalar(pg_url, "show server_encoding")
        assert encoding == "UTF8"
    finally:
        await engine.dispose()


async def test_pg_url_is_empty(pg_url: str) -> None:
    # A table made by another test must not be visible here.
    count = await _scalar(
        pg_url, "select count(*) from information_schema.tables where table_schema = 'public'"
    )
    assert count == 0


async def test_fresh_databases_are_independent(postgres_server: PostgresServer) -> None:
    names = ["t_indep_a_" + os.urandom(4).hex(), "t_indep_b_" + os.urandom(4).hex()]
    url_a, url_b = (postgres_server.create_database(n) for n in names)
    try:
        assert url_a != url_b
        engine_a = create_async_engine(url_a)
        try:
            async with engine_a.begin() as conn:
                await conn.execute(text("create table only_in_a (x int)"))
                await conn.execute(text("insert into only_in_a values (1)"))
        finally:
            await engine_a.dispose()
        assert await _scalar(url_a, "select count(*) from only_in_a") == 1
        assert await _scalar(url_b, "select to_regclass('only_in_a') is null") is True
        assert await _scalar(url_b, "select current_database()") == names[1]
    finally:
        for name in names:
            postgres_server.drop_database(name)


def test_find_pg_bin_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PG_BIN", str(tmp_path))
    assert find_pg_bin() is None  # directory without initdb/pg_ctl/postgres
    for exe in ("initdb", "pg_ctl", "postgres"):
        (tmp_path / exe).write_text("#!/bin/sh\n")
        (tmp_path / exe).chmod(0o755)
    assert find_pg_bin() == tmp_path


def test_find_pg_bin_none_when_absent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PG_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(postgres, "PG_LIB_ROOT", tmp_path / "no-such-dir")
    assert find_pg_bin() is None


def test_stop_shuts_down_and_removes_directory(postgres_server: PostgresServer) -> None:
    if postgres_server.datadir is None:
        pytest.skip("external server from PPIDBOT_TEST_PG_URL: nothing to start or stop")
    server = start_postgres()
    assert server.base_dir is not None and server.base_dir.is_dir()
    assert server.port != postgres_server.port
    server.stop()
    assert not server.base_dir.exists()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", server.port)) != 0
    server.stop()  # idempotent
