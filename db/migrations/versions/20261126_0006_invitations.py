"""invitations: a name given by the admin, revocation, and wrong-code attempts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revoked_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_invitations_revoked_by_users"), "users", ["revoked_by"], ["id"]
        )

    op.create_table(
        "invitation_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation_attempts")),
    )
    with op.batch_alter_table("invitation_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invitation_attempts_telegram_id_at", ["telegram_id", "at"], unique=False
        )
    # Open steps by step (the revocation warning, the reminders' rebuild).
    with op.batch_alter_table("step_runs", schema=None) as batch_op:
        batch_op.create_index("ix_step_runs_open", ["completed_at", "step"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("step_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_step_runs_open")
    with op.batch_alter_table("invitation_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_invitation_attempts_telegram_id_at")
    op.drop_table("invitation_attempts")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_invitations_revoked_by_users"), type_="foreignkey")
        batch_op.drop_column("revoked_by")
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("name")
