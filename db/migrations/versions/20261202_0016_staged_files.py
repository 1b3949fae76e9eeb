"""staged files: softcopies sent before a record was started, stored on disk at once

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staged_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("division_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("original_name", sa.String(length=500), nullable=False),
        sa.Column("mime_type", sa.String(length=128), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_id"], ["divisions.id"], name=op.f("fk_staged_files_division_id_divisions")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_staged_files_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staged_files")),
        sa.UniqueConstraint("path", name=op.f("uq_staged_files_path")),
    )
    op.create_index(op.f("ix_staged_files_user_id"), "staged_files", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_staged_files_user_id"), table_name="staged_files")
    op.drop_table("staged_files")
