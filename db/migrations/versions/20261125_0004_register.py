"""register: opened records and exemption-expiry notices

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opened_on", sa.Date(), nullable=True))

    op.create_table(
        "expiry_notices_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_expiry_notices_sent_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expiry_notices_sent")),
        sa.UniqueConstraint("record_id", "kind", name=op.f("uq_expiry_notices_sent_record_id")),
    )


def downgrade() -> None:
    op.drop_table("expiry_notices_sent")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_column("opened_on")
