"""document texts: the text read from each softcopy (the OCR / extraction work queue)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 05:00:00

Every softcopy already stored gets a pending row, so the text worker reads the archive too.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("problem", sa.String(length=16), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("unread_pages", sa.Integer(), nullable=False),
        sa.Column("chars", sa.Integer(), nullable=True),
        sa.Column("hints", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_texts")),
        sa.UniqueConstraint("sha256", name=op.f("uq_document_texts_sha256")),
    )
    op.create_index("ix_document_texts_status", "document_texts", ["status", "id"])
    op.create_table(
        "document_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["text_id"],
            ["document_texts.id"],
            name=op.f("fk_document_pages_text_id_document_texts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_pages")),
        sa.UniqueConstraint("text_id", "page", name=op.f("uq_document_pages_text_id")),
    )
    files = sa.table(
        "record_files", sa.column("sha256", sa.String), sa.column("removed_at", sa.DateTime)
    )
    texts = sa.table(
        "document_texts",
        sa.column("sha256", sa.String),
        sa.column("status", sa.String),
        sa.column("unread_pages", sa.Integer),
        sa.column("attempts", sa.Integer),
        sa.column("queued_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    stored = sa.select(files.c.sha256).where(files.c.removed_at.is_(None)).distinct()
    op.get_bind().execute(
        texts.insert().from_select(
            ["sha256", "status", "unread_pages", "attempts", "queued_at"],
            sa.select(
                stored.subquery().c.sha256,
                sa.literal("pending"),
                sa.literal(0),
                sa.literal(0),
                sa.literal(now, sa.DateTime(timezone=True)),
            ),
        )
    )


def downgrade() -> None:
    op.drop_table("document_pages")
    op.drop_index("ix_document_texts_status", table_name="document_texts")
    op.drop_table("document_texts")
