"""document search: the text read from softcopies joins /cari's full-text index

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 06:00:00

Like the records' index of revision 0017: on SQLite an FTS5 table over ``document_pages``
(external content, kept by triggers: pages are only inserted and deleted), on PostgreSQL a
GIN index of ``to_tsvector('simple', text)`` (the expression ``db.texts.PAGE_DOCUMENT``
repeats, so the planner uses the index).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGERS = (
    """
    CREATE TRIGGER document_pages_fts_insert AFTER INSERT ON document_pages BEGIN
        INSERT INTO document_pages_fts (rowid, text) VALUES (new.id, new.text);
    END
    """,
    """
    CREATE TRIGGER document_pages_fts_delete AFTER DELETE ON document_pages BEGIN
        INSERT INTO document_pages_fts (document_pages_fts, rowid, text)
        VALUES ('delete', old.id, old.text);
    END
    """,
    """
    CREATE TRIGGER document_pages_fts_update AFTER UPDATE OF text ON document_pages BEGIN
        INSERT INTO document_pages_fts (document_pages_fts, rowid, text)
        VALUES ('delete', old.id, old.text);
        INSERT INTO document_pages_fts (rowid, text) VALUES (new.id, new.text);
    END
    """,
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_document_pages_search ON document_pages USING gin "
            "(to_tsvector('simple', text))"
        )
        return
    op.execute(
        "CREATE VIRTUAL TABLE document_pages_fts USING fts5("
        "text, content='document_pages', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    for trigger in _TRIGGERS:
        op.execute(trigger)
    op.execute("INSERT INTO document_pages_fts (document_pages_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_document_pages_search")
        return
    for name in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER document_pages_fts_{name}")
    op.execute("DROP TABLE document_pages_fts")
