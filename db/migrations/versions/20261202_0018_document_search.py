"""document search: the text read from softcopies joins /cari's full-text index

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 06:00:00

Like the records' index of revision 0017: on SQLite an FTS5 table over ``document_pages``
(external content, kept by triggers: pages are only inserted and deleted), on PostgreSQL a
GIN index of ``to_tsvector('simple', text || ' ' || stems)`` (the expression
``db.texts.PAGE_DOCUMENT`` repeats, so the planner uses the index). ``stems``: the roots
of each page's words (Indonesian word forms, ``sop.stemming``), filled here for the pages
already read.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sop.stemming import page_stems

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGERS = (
    """
    CREATE TRIGGER document_pages_fts_insert AFTER INSERT ON document_pages BEGIN
        INSERT INTO document_pages_fts (rowid, text, stems)
        VALUES (new.id, new.text, new.stems);
    END
    """,
    """
    CREATE TRIGGER document_pages_fts_delete AFTER DELETE ON document_pages BEGIN
        INSERT INTO document_pages_fts (document_pages_fts, rowid, text, stems)
        VALUES ('delete', old.id, old.text, old.stems);
    END
    """,
    """
    CREATE TRIGGER document_pages_fts_update AFTER UPDATE OF text, stems ON document_pages
    BEGIN
        INSERT INTO document_pages_fts (document_pages_fts, rowid, text, stems)
        VALUES ('delete', old.id, old.text, old.stems);
        INSERT INTO document_pages_fts (rowid, text, stems)
        VALUES (new.id, new.text, new.stems);
    END
    """,
)


def upgrade() -> None:
    op.add_column(
        "document_pages", sa.Column("stems", sa.Text(), nullable=False, server_default="")
    )
    bind = op.get_bind()
    pages = bind.execute(sa.text("SELECT id, text FROM document_pages")).all()
    for page_id, text in pages:
        bind.execute(
            sa.text("UPDATE document_pages SET stems = :stems WHERE id = :id"),
            {"stems": page_stems(text), "id": page_id},
        )
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_document_pages_search ON document_pages USING gin "
            "(to_tsvector('simple', text || ' ' || stems))"
        )
        return
    op.execute(
        "CREATE VIRTUAL TABLE document_pages_fts USING fts5("
        "text, stems, content='document_pages', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    for trigger in _TRIGGERS:
        op.execute(trigger)
    op.execute("INSERT INTO document_pages_fts (document_pages_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_document_pages_search")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER document_pages_fts_{name}")
        op.execute("DROP TABLE document_pages_fts")
    with op.batch_alter_table("document_pages") as batch:
        batch.drop_column("stems")
