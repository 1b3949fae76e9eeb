"""file intents (crash-consistent writes, interrupted downloads) and album items

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "file_intents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("original_name", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("interrupted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_file_intents_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_file_intents_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_intents")),
        sa.UniqueConstraint("path", name=op.f("uq_file_intents_path")),
    )
    op.create_index(op.f("ix_file_intents_created_at"), "file_intents", ["created_at"])
    op.create_index(op.f("ix_file_intents_interrupted_at"), "file_intents", ["interrupted_at"])
    op.create_table(
        "album_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("media_group_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Boolean(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_album_items_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_album_items_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_album_items")),
        sa.UniqueConstraint("chat_id", "message_id", name=op.f("uq_album_items_chat_id")),
    )
    op.create_index("ix_album_items_group", "album_items", ["chat_id", "media_group_id"])


def downgrade() -> None:
    op.drop_index("ix_album_items_group", table_name="album_items")
    op.drop_table("album_items")
    op.drop_index(op.f("ix_file_intents_interrupted_at"), table_name="file_intents")
    op.drop_index(op.f("ix_file_intents_created_at"), table_name="file_intents")
    op.drop_table("file_intents")
