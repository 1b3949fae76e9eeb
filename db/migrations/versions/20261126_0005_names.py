"""names: official names apart from Telegram names; actors' names kept per audit entry and step run

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("telegram_name", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("name_official", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Names given before this revision are kept as official, except the placeholder that
    # the configured admins got ("Admin <telegram id>"), which their Telegram name replaces.
    op.execute(
        "UPDATE users SET name_official = TRUE "
        "WHERE full_name <> 'Admin ' || CAST(telegram_id AS VARCHAR(20))"
    )

    # Entries before this revision have none (their hashes do not cover one).
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_name", sa.String(length=200), nullable=True))

    with op.batch_alter_table("step_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completed_by_name", sa.String(length=200), nullable=True))
    # The best knowledge there is of the names of earlier actors: their names today.
    op.execute(
        "UPDATE step_runs SET completed_by_name = "
        "(SELECT users.full_name FROM users WHERE users.id = step_runs.completed_by) "
        "WHERE completed_by IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("step_runs", schema=None) as batch_op:
        batch_op.drop_column("completed_by_name")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("actor_name")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("name_official")
        batch_op.drop_column("telegram_name")
