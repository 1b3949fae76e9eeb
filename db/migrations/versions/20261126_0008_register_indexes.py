"""register indexes: a Petugas PPID's lists (their division's records and their own)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_records_division_id"), ["division_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_records_created_by"), ["created_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_records_created_by"))
        batch_op.drop_index(batch_op.f("ix_records_division_id"))
