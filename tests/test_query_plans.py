"""The answers that must not grow with the archive read it through indexes: every
statement of /tugas, /serahkan, /daftar, /cari, /kedaluwarsa, a step button and the recipients of a
notice is explained (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN`` on PostgreSQL) and
none may read a whole archive table. On PostgreSQL sequential scans are priced out
(``enable_seqscan = off``): a tiny test table would otherwise rightly be scanned, and
what matters is that an index *can* answer; without one the plan still shows the scan.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.plans import capture
from sop.model import State, Step
from sop.register import RegisterFilter, RegisterService, RegisterStatus
from sop.service import PpidService
from tests.conftest import Office
from tests.test_register import make_record

#: Tables that grow with the archive (people, divisions and settings grow with the office).
ARCHIVE = ("records", "step_runs", "record_files", "audit_log", "reminders_sent")


async def bulk_archive(engine: AsyncEngine, template: int, count: int = 3000) -> None:
    """``count`` stored copies of record ``template``, so PostgreSQL's planner prices
    the tables as an archive (then ANALYZE); the triggers index their words on SQLite."""
    columns = (
        "division_id, description, pasal17, other_legal_basis, consequence, period_kind, "
        "period_until, period_amount, period_unit, period_condition, classified_by, "
        "classified_place, classified_date, state, version, created_by, created_at, updated_at"
    )
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
                f"INSERT INTO records (title, {columns}) "
                f"SELECT 'Arsip lama nomor ' || n.i, {columns} FROM records, n "
                "WHERE records.id = :template"
            ),
            {"count": count, "template": template},
        )
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
            await connection.commit()


async def plan_of(engine: AsyncEngine, statement: str, parameters: Any) -> list[str]:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        if engine.dialect.name == "sqlite":
            cursor = await driver.execute(f"EXPLAIN QUERY PLAN {statement}", parameters or ())
            return [str(row[3]) for row in await cursor.fetchall()]
        await driver.execute("SET enable_seqscan = off")
        args = list(parameters) if isinstance(parameters, list | tuple) else []
        return [row[0] for row in await driver.fetch(f"EXPLAIN {statement}", *args)]


def full_scans(statement: str, plan: list[str]) -> list[str]:
    """The lines of ``plan`` that read a whole archive table or a whole index of one, or
    sort a range nothing bounds. Allowed: SQLite walking the primary key newest first
    until the LIMIT (a page of the register), and sorting the union of ranges that are
    each limited (``LIMIT`` in every branch)."""
    sql = " ".join(statement.split())
    limits = sql.count(" LIMIT ")
    found = []
    for line in plan:
        text = line.strip()
        if text == "USE TEMP B-TREE FOR ORDER BY" and limits < 2 and "FROM records" in sql:
            found.append(text)
            continue
        if m := re.search(r"Seq Scan on (\w+)", text):
            table = m.group(1)
        elif m := re.match(r"SCAN (\w+)( USING (?:COVERING )?INDEX \w+)?$", text):
            table = m.group(1)
            if (
                m.group(2) is None
                and "ORDER BY records.id DESC LIMIT" in sql
                and "USE TEMP B-TREE FOR ORDER BY" not in plan
            ):
                continue  # the primary key, newest first, stopped by the LIMIT
        else:
            continue
        if table in ARCHIVE:
            found.append(text)
    return found


async def explained(
    engine: AsyncEngine, answer: Callable[[], Awaitable[object]]
) -> list[tuple[str, list[str]]]:
    """Run ``answer`` and explain each SELECT it ran."""
    with capture(engine) as captured:
        await answer()
    assert captured.count, "the answer ran no statement"
    result = []
    for statement, parameters in captured.distinct():
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            result.append((statement, await plan_of(engine, statement, parameters)))
    return result


async def test_answers_read_the_archive_through_indexes(
    engine: AsyncEngine, service: PpidService, office: Office
) -> None:
    register = RegisterService(service)
    stored = await make_record(service, office, title="Notulen rapat pleno")
    await make_record(service, office, State.DRAFT, title="Data kesehatan pegawai")
    await make_record(service, office, State.SUBMITTED, petugas=office.petugas_other)
    waiting = await make_record(service, office, State.REGISTERED, title="Notulen lain")
    await make_record(service, office, State.CANCELLED)
    await bulk_archive(engine, stored)

    answers: dict[str, Callable[[], Awaitable[object]]] = {
        "/tugas petugas": lambda: service.task_page(office.petugas, limit=20),
        "/tugas dokumentasi": lambda: service.task_page(office.dokumentasi, limit=20),
        "/tugas pejabat": lambda: service.task_page(office.pejabat, limit=20),
        "/daftar": lambda: register.register(office.pejabat),
        "/daftar petugas": lambda: register.register(office.petugas),
        "/daftar stored": lambda: register.register(
            office.pejabat, RegisterFilter(status=RegisterStatus.STORED, division_id=1)
        ),
        "/cari": lambda: register.search(office.petugas, "notulen rapat"),
        "/kedaluwarsa": lambda: register.expiring(office.pejabat),
        "/kedaluwarsa petugas": lambda: register.expiring(office.petugas),
        "/serahkan": lambda: service.waiting_for_step(office.dokumentasi, Step.HANDOVER, limit=20),
        "/berkas": lambda: service.record(office.pejabat, stored),
        "step 3 button": lambda: service.complete_receive(office.pejabat2, waiting),
        "recipients": lambda: service.responsible(waiting),
    }
    problems = []
    for name, answer in answers.items():
        for statement, plan in await explained(engine, answer):
            if scans := full_scans(statement, plan):
                problems.append(f"{name}: {scans} in {' '.join(statement.split())}")
    assert problems == []


async def test_search_uses_the_full_text_index(
    engine: AsyncEngine, service: PpidService, office: Office
) -> None:
    """/cari of someone who sees everything has no other index to go by: the words
    are looked up in the full-text index (FTS5 on SQLite, the GIN index on PostgreSQL)."""
    register = RegisterService(service)
    stored = await make_record(service, office, title="Notulen rapat pleno")
    await bulk_archive(engine, stored)
    plans = await explained(engine, lambda: register.search(office.pejabat, "notulen"))
    searches = [
        plan for statement, plan in plans if "records.title" in statement or "count" in statement
    ]
    assert searches
    index = "records_fts VIRTUAL TABLE" if engine.dialect.name == "sqlite" else "ix_records_search"
    for plan in searches:
        assert any(index in line for line in plan), plan
        assert full_scans("", plan) == []


def test_the_plan_check_sees_a_full_scan() -> None:
    """The check above fails on the plans it is there to catch."""
    assert full_scans("SELECT x FROM records", ["SCAN records"]) == ["SCAN records"]
    assert full_scans("SELECT x FROM records", ["SCAN records USING INDEX ix_records_state"])
    assert full_scans("SELECT x FROM step_runs", ["Seq Scan on step_runs  (cost=0..1)"])
    sorted_whole = [
        "SEARCH records USING INDEX ix_records_state (state=?)",
        "USE TEMP B-TREE FOR ORDER BY",
    ]
    assert full_scans("SELECT x FROM records ORDER BY records.id DESC LIMIT ?", sorted_whole)
    assert full_scans("SELECT x FROM divisions", ["SCAN divisions"]) == []
    page = "SELECT x FROM records WHERE a ORDER BY records.id DESC LIMIT ? OFFSET ?"
    assert full_scans(page, ["SCAN records"]) == []
