"""next notice: each open step run says when its next reminder or escalation is due

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 12:00:00

The scheduler wakes at the earliest of these (one indexed query) and looks only at the
runs whose moment has come, instead of planning every open step each time. A run whose
notices were never planned has its start as its next moment, so it is looked at (and
planned) as soon as the bot runs: open runs get that here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE: a batch copy of step_runs would trip over the rows that refer
    # to it (reminders_sent).
    op.add_column("step_runs", sa.Column("next_notice_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE step_runs SET next_notice_at = started_at WHERE completed_at IS NULL")
    op.create_index(
        "ix_step_runs_next_notice", "step_runs", ["completed_at", "next_notice_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_step_runs_next_notice", table_name="step_runs")
    op.drop_column("step_runs", "next_notice_at")
