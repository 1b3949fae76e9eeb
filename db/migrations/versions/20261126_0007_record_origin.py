"""record origin key: the /baru conversation that created a draft, so an answer given
again (after a crash, or an update Telegram delivered twice) never creates a second one

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin_key", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_records_origin_key", ["origin_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_origin_key")
        batch_op.drop_column("origin_key")
