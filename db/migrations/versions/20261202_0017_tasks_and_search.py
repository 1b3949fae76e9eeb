"""tasks and search by index: each record keeps its open step and due time; /cari's index

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 05:00:00

/tugas used to read every open record and its runs to find what waits on one person.
A record now carries the step its open run is at (``due_step``) and that run's due time
(``due_at``), written in the same transaction as the run (``Repository.open_run``,
``close_run``, ``set_due``), so a person's tasks are one range of an index: by step and
due time, by step, division and due time, or by step, creator and due time. Filled in
here from the open runs. A Petugas PPID's ending exemptions (/kedaluwarsa) likewise:
by division and end day, by creator and end day. ``ix_step_runs_completed_by`` finds
the records a person produced or handed over (the four-eyes rule of step 3) without
reading the others.

/cari searched with ``lower(..) LIKE '%..%'``, a scan of the table. Its words are now
looked up in a full-text index of the title and the description: on SQLite an FTS5
table over ``records`` (external content, kept by triggers), on PostgreSQL a GIN index
of ``to_tsvector('simple', title || ' ' || description)`` (the expression
``db.repositories.SEARCH_DOCUMENT`` repeats, so the planner uses the index).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FTS_TRIGGERS = (
    """
    CREATE TRIGGER records_fts_insert AFTER INSERT ON records BEGIN
        INSERT INTO records_fts (rowid, title, description)
        VALUES (new.id, new.title, new.description);
    END
    """,
    """
    CREATE TRIGGER records_fts_delete AFTER DELETE ON records BEGIN
        INSERT INTO records_fts (records_fts, rowid, title, description)
        VALUES ('delete', old.id, old.title, old.description);
    END
    """,
    """
    CREATE TRIGGER records_fts_update AFTER UPDATE OF title, description ON records BEGIN
        INSERT INTO records_fts (records_fts, rowid, title, description)
        VALUES ('delete', old.id, old.title, old.description);
        INSERT INTO records_fts (rowid, title, description)
        VALUES (new.id, new.title, new.description);
    END
    """,
)


def upgrade() -> None:
    # Plain ALTER TABLE (no batch copy): records is referenced by other tables' keys.
    op.add_column("records", sa.Column("due_step", sa.Integer(), nullable=True))
    op.add_column("records", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        """
        UPDATE records SET
            due_step = (SELECT s.step FROM step_runs s
                        WHERE s.record_id = records.id AND s.completed_at IS NULL),
            due_at = (SELECT s.due_at FROM step_runs s
                      WHERE s.record_id = records.id AND s.completed_at IS NULL)
        WHERE id IN (SELECT record_id FROM step_runs WHERE completed_at IS NULL)
        """
    )
    op.create_index("ix_records_due_step_due_at", "records", ["due_step", "due_at"])
    op.create_index(
        "ix_records_due_step_division", "records", ["due_step", "division_id", "due_at"]
    )
    op.create_index("ix_records_due_step_creator", "records", ["due_step", "created_by", "due_at"])
    op.create_index("ix_step_runs_completed_by", "step_runs", ["completed_by", "step"])
    op.create_index("ix_records_division_ends_on", "records", ["division_id", "ends_on"])
    op.create_index("ix_records_creator_ends_on", "records", ["created_by", "ends_on"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_records_search ON records USING gin "
            "(to_tsvector('simple', title || ' ' || description))"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE records_fts USING fts5("
            "title, description, content='records', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        for trigger in _FTS_TRIGGERS:
            op.execute(trigger)
        op.execute("INSERT INTO records_fts (records_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_records_search")
    else:
        for name in ("records_fts_insert", "records_fts_delete", "records_fts_update"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE records_fts")
    op.drop_index("ix_records_creator_ends_on", table_name="records")
    op.drop_index("ix_records_division_ends_on", table_name="records")
    op.drop_index("ix_step_runs_completed_by", table_name="step_runs")
    op.drop_index("ix_records_due_step_creator", table_name="records")
    op.drop_index("ix_records_due_step_division", table_name="records")
    op.drop_index("ix_records_due_step_due_at", table_name="records")
    op.drop_column("records", "due_at")
    op.drop_column("records", "due_step")
