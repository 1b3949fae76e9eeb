"""notices: the outbox, tracked record cards, reachability of people, return reasons

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+ also drops columns so): copying and dropping the
    # tables, as a batch would, fails on the foreign keys that point at them.
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("unreachable_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("unreachable_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "unreachable_alerted", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    # Whoever acted through the bot has written to it: their first audit entry says when.
    op.execute(
        "UPDATE users SET contacted_at = "
        "(SELECT min(audit_log.at) FROM audit_log WHERE audit_log.actor_user_id = users.id)"
    )

    with op.batch_alter_table("step_runs", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))

    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_informed", sa.Boolean(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_notices_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_notices_recipient_id_users")
        ),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_notices_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    op.create_index("ix_notices_due", "notices", ["status", "next_at"], unique=False)
    op.create_index(
        "ix_notices_open_failures", "notices", ["status", "resolved_at", "id"], unique=False
    )
    op.create_index("ix_notices_recipient", "notices", ["recipient_id", "status"], unique=False)
    op.create_index(op.f("ix_notices_record_id"), "notices", ["record_id"], unique=False)

    op.create_table(
        "record_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_record_cards_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_record_cards_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_cards")),
        sa.UniqueConstraint("chat_id", "message_id", name=op.f("uq_record_cards_chat_id")),
    )
    op.create_index("ix_record_cards_record", "record_cards", ["record_id", "active"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_record_cards_record", table_name="record_cards")
    op.drop_table("record_cards")
    op.drop_index(op.f("ix_notices_record_id"), table_name="notices")
    op.drop_index("ix_notices_recipient", table_name="notices")
    op.drop_index("ix_notices_open_failures", table_name="notices")
    op.drop_index("ix_notices_due", table_name="notices")
    op.drop_table("notices")
    with op.batch_alter_table("step_runs", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("reason")
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("unreachable_alerted")
        batch_op.drop_column("unreachable_reason")
        batch_op.drop_column("unreachable_at")
        batch_op.drop_column("contacted_at")
