"""papers: consequence-test parts and the internal mark on records, issued documents with
verification codes, audit anchors

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN on both databases (a batch copy of ``records`` would
    # drop the table its children's foreign keys point at).
    op.add_column("records", sa.Column("harm_if_opened", sa.Text(), nullable=True))
    op.add_column("records", sa.Column("public_interest", sa.Text(), nullable=True))
    op.add_column("records", sa.Column("weighing", sa.Text(), nullable=True))
    op.add_column(
        "records", sa.Column("internal", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_table(
        "issued_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.Column("audit_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_issued_documents_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["users.id"], name=op.f("fk_issued_documents_issued_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_documents")),
        sa.UniqueConstraint("code", name=op.f("uq_issued_documents_code")),
        sa.UniqueConstraint(
            "kind", "record_id", "content_sha256", name=op.f("uq_issued_documents_kind")
        ),
    )
    op.create_index(op.f("ix_issued_documents_record_id"), "issued_documents", ["record_id"])
    op.create_index(op.f("ix_issued_documents_pdf_sha256"), "issued_documents", ["pdf_sha256"])
    op.create_table(
        "audit_anchors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_audit_anchors_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchors")),
    )
    op.create_index(op.f("ix_audit_anchors_seq"), "audit_anchors", ["seq"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_anchors_seq"), table_name="audit_anchors")
    op.drop_table("audit_anchors")
    op.drop_index(op.f("ix_issued_documents_pdf_sha256"), table_name="issued_documents")
    op.drop_index(op.f("ix_issued_documents_record_id"), table_name="issued_documents")
    op.drop_table("issued_documents")
    # Plain ALTER TABLE DROP COLUMN (SQLite 3.35+ and PostgreSQL), as in upgrade().
    for column in ("internal", "weighing", "public_interest", "harm_if_opened"):
        op.execute(f"ALTER TABLE records DROP COLUMN {column}")
