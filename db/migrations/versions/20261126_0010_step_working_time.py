"""step working time: kept when a step run finishes, filled in for the finished ones

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 16:00:00

The working time of a finished run is what the office calendar counted between its
start and its completion. It used to be recomputed from today's calendar, so a holiday
or closure added later rewrote history; from now on it is written when the run closes.
Runs finished before this revision get it from the calendar as configured when this
migration runs (the bot passes its own; otherwise the default office hours in WIB), with
the office closures recorded so far.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import context, op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000

step_runs = sa.table(
    "step_runs",
    sa.column("id", sa.Integer),
    sa.column("started_at", sa.DateTime(timezone=True)),
    sa.column("completed_at", sa.DateTime(timezone=True)),
    sa.column("working_seconds", sa.Integer),
)
closures = sa.table(
    "office_closures", sa.column("date", sa.Date), sa.column("description", sa.String)
)


def _utc(moment: datetime) -> datetime:
    """SQLite gives naive UTC values back; PostgreSQL aware ones."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _calendar(bind: sa.engine.Connection):  # type: ignore[no-untyped-def]
    from db.migrate import CALENDAR
    from sop.calendar import OfficeCalendar, WorkingHours

    calendar = context.config.attributes.get(CALENDAR)
    if calendar is None:
        calendar = OfficeCalendar(WorkingHours.default(), ZoneInfo("Asia/Jakarta"))
    days = {
        day: text for day, text in bind.execute(sa.select(closures.c.date, closures.c.description))
    }
    return calendar.with_closures(days)


def upgrade() -> None:
    with op.batch_alter_table("step_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("working_seconds", sa.Integer(), nullable=True))

    bind = op.get_bind()
    finished = sa.select(step_runs.c.id, step_runs.c.started_at, step_runs.c.completed_at).where(
        step_runs.c.completed_at.is_not(None), step_runs.c.working_seconds.is_(None)
    )
    rows = bind.execute(finished.order_by(step_runs.c.id)).all()
    if not rows:
        return
    calendar = _calendar(bind)
    fill = (
        sa.update(step_runs)
        .where(step_runs.c.id == sa.bindparam("run_id"))
        .values(working_seconds=sa.bindparam("seconds"))
    )
    for start in range(0, len(rows), BATCH):
        values = []
        for run_id, started, completed in rows[start : start + BATCH]:
            working = calendar.working_time_between(_utc(started), _utc(completed))
            values.append({"run_id": run_id, "seconds": max(round(working.total_seconds()), 0)})
        bind.execute(fill, values)


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+ drops columns itself): a batch copy of the table
    # would trip over the rows of other tables that refer to it.
    op.drop_column("step_runs", "working_seconds")
