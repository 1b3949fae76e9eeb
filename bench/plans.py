"""Which SQL an answer runs, how many statements, and the database's plan for each.

``capture(engine)`` records every statement the engine executes inside the block (text
and parameters); ``explain`` asks the database for its plan: ``EXPLAIN QUERY PLAN`` on
SQLite, ``EXPLAIN`` on PostgreSQL.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class Captured:
    statements: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def shapes(self) -> Counter[str]:
        """How often each statement ran, IN-lists folded (``IN (?, ?, ...)`` is one shape)."""
        return Counter(_shape(sql) for sql, _ in self.statements)

    def distinct(self) -> list[tuple[str, Any]]:
        """The first run of each statement shape, in order."""
        seen: set[str] = set()
        result = []
        for sql, params in self.statements:
            shape = _shape(sql)
            if shape not in seen:
                seen.add(shape)
                result.append((sql, params))
        return result


def _shape(sql: str) -> str:
    sql = re.sub(r"\s+", " ", sql.strip())
    sql = re.sub(r"\((?:\s*(?:\?|\$\d+|%\(\w+\)s)\s*,?)+\)", "(…)", sql)
    return re.sub(r"__\[POSTCOMPILE_\w+\]", "…", sql)


@contextmanager
def capture(engine: AsyncEngine) -> Iterator[Captured]:
    captured = Captured()

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
            captured.statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield captured
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


async def explain(engine: AsyncEngine, statement: str, parameters: Any) -> list[str]:
    """The plan of one captured statement (only SELECTs are explained)."""
    if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
        return ["(not a SELECT: not explained)"]
    dialect = engine.dialect.name
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        if dialect == "sqlite":
            cursor = await driver.execute(f"EXPLAIN QUERY PLAN {statement}", parameters or ())
            rows = await cursor.fetchall()
            return [_sqlite_plan_line(row) for row in rows]
        if dialect == "postgresql":
            args = list(parameters) if isinstance(parameters, list | tuple) else []
            rows = await driver.fetch(f"EXPLAIN {statement}", *args)
            return [row[0] for row in rows]
        result = await connection.execute(text(f"EXPLAIN {statement}"))
        return [str(row) for row in result]


def _sqlite_plan_line(row: Any) -> str:
    # (id, parent, notused, detail); indent by depth is enough to read it.
    return str(row[3])


def uses_scan(plan: list[str]) -> bool:
    """Whether a plan reads a whole table (SQLite "SCAN <table>" without an index,
    PostgreSQL "Seq Scan")."""
    for line in plan:
        if "Seq Scan" in line:
            return True
        if re.match(r"^SCAN \w+$", line.strip()) or (
            line.strip().startswith("SCAN ") and "USING" not in line
        ):
            return True
    return False
