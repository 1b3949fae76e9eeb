"""SQLAlchemy 2 models. The schema itself is made only by the alembic migrations."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that refuses naive values and always returns UTC.

    SQLite keeps no zone, so values are normalised to UTC on the way in and marked
    UTC on the way out; PostgreSQL stores ``timestamptz`` natively.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class DivisionRow(Base):
    __tablename__ = "divisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    full_name: Mapped[str] = mapped_column(String(200))  # the name shown everywhere
    # True: an admin gave ``full_name`` (``user add --name``, an invitation); it stays.
    # False: it is the person's Telegram name (or a placeholder) and follows it.
    name_official: Mapped[bool] = mapped_column(Boolean, default=False)
    telegram_name: Mapped[str | None] = mapped_column(String(200))  # as last seen
    username: Mapped[str | None] = mapped_column(String(64))
    division_id: Mapped[int | None] = mapped_column(ForeignKey("divisions.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the person first wrote to the bot or a message first reached them; None: the
    #: person has never opened the bot (added on the command line, say).
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Since when messages to the person fail, and why ("blocked", "not_started", ...);
    #: cleared as soon as they write to the bot again.
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unreachable_reason: Mapped[str | None] = mapped_column(String(32))
    #: The admins were told that the person cannot be reached (once until they are back).
    unreachable_alerted: Mapped[bool] = mapped_column(Boolean, default=False)


class UserRoleRow(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class InvitationRow(Base):
    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    division_id: Mapped[int | None] = mapped_column(ForeignKey("divisions.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    name: Mapped[str | None] = mapped_column(String(200))  # the official name, if given
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class InvitationAttemptRow(Base):
    """A wrong invitation code sent by a Telegram account: ten within an hour make the
    account wait; ``notified`` marks the attempt about which the admins were told."""

    __tablename__ = "invitation_attempts"
    __table_args__ = (Index("ix_invitation_attempts_telegram_id_at", "telegram_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified: Mapped[bool] = mapped_column(Boolean, default=False)


class RecordRow(Base):
    __tablename__ = "records"
    __table_args__ = (
        # A person's tasks, soonest due first (see ``due_step``).
        Index("ix_records_due_step_due_at", "due_step", "due_at"),
        Index("ix_records_due_step_division", "due_step", "division_id", "due_at"),
        Index("ix_records_due_step_creator", "due_step", "created_by", "due_at"),
        # A Petugas PPID's ending exemptions, soonest first.
        Index("ix_records_division_ends_on", "division_id", "ends_on"),
        Index("ix_records_creator_ends_on", "created_by", "ends_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    pasal17: Mapped[str] = mapped_column(String(32))  # letters, e.g. "a,h"
    other_legal_basis: Mapped[str | None] = mapped_column(Text)
    consequence: Mapped[str] = mapped_column(Text)
    period_kind: Mapped[str] = mapped_column(String(16))
    period_until: Mapped[date | None] = mapped_column(Date)
    period_amount: Mapped[int | None] = mapped_column(Integer)
    period_unit: Mapped[str | None] = mapped_column(String(8))
    period_condition: Mapped[str | None] = mapped_column(Text)
    classified_by: Mapped[str] = mapped_column(String(200))
    classified_place: Mapped[str] = mapped_column(String(200))
    classified_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    register_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    return_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_on: Mapped[date | None] = mapped_column(Date)  # announced open (no longer exempt)
    # The exemption's last day, when its period is a date or a duration (None: permanent
    # or a condition); kept with the fields, so ending exemptions are found by index.
    ends_on: Mapped[date | None] = mapped_column(Date, index=True)
    #: The /baru conversation that created the draft (its idempotency key), if any.
    origin_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # The consequence test's parts (revision 0012; optional, see sop.model.RecordFields).
    harm_if_opened: Mapped[str | None] = mapped_column(Text)
    public_interest: Mapped[str | None] = mapped_column(Text)
    weighing: Mapped[str | None] = mapped_column(Text)
    #: Not listed in the public DIK (``ppidbot publish``).
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The step of the record's open run and that run's due time (None: no open run),
    #: kept with the run by ``Repository.open_run``/``close_run``/``set_due``.
    due_step: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecordFileRow(Base):
    __tablename__ = "record_files"
    __table_args__ = (Index("ix_record_files_sha256", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    area: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(500), unique=True)
    original_name: Mapped[str] = mapped_column(String(500))
    mime_type: Mapped[str | None] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    source_file_id: Mapped[int | None] = mapped_column(ForeignKey("record_files.id"))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StagedFileRow(Base):
    """A softcopy a Petugas PPID sent before any record was started (outside /baru): stored
    on disk at once, and attached when they start the record with it (or dropped when they
    decline). Its path is known to the database, so it is no orphan."""

    __tablename__ = "staged_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    division_id: Mapped[int | None] = mapped_column(ForeignKey("divisions.id"))
    path: Mapped[str] = mapped_column(String(500), unique=True)
    original_name: Mapped[str] = mapped_column(String(500))
    mime_type: Mapped[str | None] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StepRunRow(Base):
    __tablename__ = "step_runs"
    __table_args__ = (
        UniqueConstraint("record_id", "step", "attempt"),
        Index("ix_step_runs_open", "completed_at", "step"),
        Index("ix_step_runs_next_notice", "completed_at", "next_notice_at"),
        Index("ix_step_runs_completed_by", "completed_by", "step"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_by_name: Mapped[str | None] = mapped_column(String(200))  # as it was then
    outcome: Mapped[str | None] = mapped_column(String(16))
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Office working time from start to completion, in seconds, fixed when the run closes:
    # a later holiday or closure does not rewrite how long a finished step took.
    working_seconds: Mapped[int | None] = mapped_column(Integer)
    # When the scheduler should look at this open run next (its next reminder or
    # escalation; its start while its notices are not planned yet); None: nothing left.
    # The database is the schedule: sop/reminder_service.py.
    next_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)  # why the run was returned


class AuditRow(Base):
    """Append-only; each row carries the hash of the one before it."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str | None] = mapped_column(String(200))  # as it was then; hashed
    action: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int | None] = mapped_column(Integer, index=True)
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHeadRow(Base):
    """A single row locked by every append, so the chain is written one entry at a time."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class RegisterCounterRow(Base):
    __tablename__ = "register_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class KeyValueRow(Base):
    """Small JSON documents: the bot's persisted conversations and user data."""

    __tablename__ = "kv_store"

    namespace: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReminderSentRow(Base):
    """A step run's notice (reminder or escalation), claimed once: the unique key is what
    makes "never repeated, even after a restart or a race" hold."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("run_id", "kind", "offset_seconds"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("step_runs.id"))
    kind: Mapped[str] = mapped_column(String(16))  # "remind" or "overdue"
    offset_seconds: Mapped[int] = mapped_column(Integer)  # before the due time; 0: overdue
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)  # claimed for sending
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # sending finished
    recipients: Mapped[int | None] = mapped_column(Integer)  # how many received it


class ExpiryNoticeRow(Base):
    """An exemption-expiry notice (30 days, 7 days, on the day), claimed once per record."""

    __tablename__ = "expiry_notices_sent"
    __table_args__ = (UniqueConstraint("record_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    kind: Mapped[str] = mapped_column(String(8))  # "30d", "7d" or "0d"
    ends_on: Mapped[date] = mapped_column(Date)  # the end date the notice was about
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)  # claimed for sending
    recipients: Mapped[int | None] = mapped_column(Integer)  # how many received it


class OfficeClosureRow(Base):
    """A day the office is closed besides weekends and national holidays (cuti bersama,
    an office closure): no SOP working time passes on it."""

    __tablename__ = "office_closures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column("date", Date, unique=True)
    description: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the CLI
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FileIntentRow(Base):
    """A file on its way to (or off) the disk, committed before its bytes are written.

    The final path is decided up front. The transaction that records the file (adds its
    record_files row, or points a row at a moved copy) deletes the intent; whatever a crash
    leaves behind is reconciled from these rows: a path that no record_files row refers to
    is removed. An upload cut short is kept as ``interrupted`` until its sender was told.
    """

    __tablename__ = "file_intents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(500), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))  # upload, merge, copy, move, discard
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)  # where the sender is told
    original_name: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    interrupted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class AlbumItemRow(Base):
    """One item of an album (Telegram media group) whose summary is not sent yet: each item
    is stored as it arrives, the sender gets one acknowledgement for the whole album."""

    __tablename__ = "album_items"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id"),
        Index("ix_album_items_group", "chat_id", "media_group_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    media_group_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    stored: Mapped[bool] = mapped_column(Boolean)
    line: Mapped[str] = mapped_column(Text)  # what the summary says about this item
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IssuedDocumentRow(Base):
    """A paper the bot issued (a handover record, a consequence-test sheet, a
    classification decision): what it said (``content``, canonical JSON), the SHA-256 of
    its PDF, the audit entry it attests and its verification code."""

    __tablename__ = "issued_documents"
    __table_args__ = (UniqueConstraint("kind", "record_id", "content_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    pdf_sha256: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    audit_seq: Mapped[int] = mapped_column(Integer)  # the entry the paper attests
    audit_hash: Mapped[str] = mapped_column(String(64))  # that entry's hash when issued
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the CLI
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditAnchorRow(Base):
    """A head of the audit chain (entry number and hash) given to witnesses outside the
    server; ``ppidbot check --anchor N:HASH`` proves the chain still holds it."""

    __tablename__ = "audit_anchors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # "cli" or "daily"
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DocumentTextRow(Base):
    """The text read from a softcopy's content (keyed by its SHA-256: the same content in
    another record or in the PPID copy is read once), and the state of that work.

    ``pending`` rows are the work queue of the text worker (it survives restarts);
    ``running`` is claimed by a worker; ``done`` has pages (maybe none: see ``problem``);
    ``skipped`` waits for OCR to be turned on; ``failed`` gave up after several attempts.
    ``hints`` holds the personal-data hints as JSON with masked samples only.
    """

    __tablename__ = "document_texts"
    __table_args__ = (Index("ix_document_texts_status", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(16))  # text_layer, ocr, office
    problem: Mapped[str | None] = mapped_column(String(16))  # why nothing could be read
    page_count: Mapped[int | None] = mapped_column(Integer)
    unread_pages: Mapped[int] = mapped_column(Integer, default=0)
    chars: Mapped[int | None] = mapped_column(Integer)
    hints: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))  # the last failure (no content)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # senders were told


class DocumentPageRow(Base):
    """One page of a document's text (page 1 first)."""

    __tablename__ = "document_pages"
    __table_args__ = (UniqueConstraint("text_id", "page"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text_id: Mapped[int] = mapped_column(ForeignKey("document_texts.id", ondelete="CASCADE"))
    page: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # The roots of the page's words that differ from the words (sop.stemming), for /cari.
    stems: Mapped[str] = mapped_column(Text, default="", server_default="")


class NoticeRow(Base):
    """One message to one person about one event (the outbox).

    Written in the same transaction as the action that causes it, so a crash between the
    commit and the sending loses nothing; the dispatcher claims it with a conditional
    update (``status`` pending -> sending, with its ``claim`` token), so two instances
    never send it twice, and records what came of it.
    """

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_due", "status", "next_at"),
        Index("ix_notices_open_failures", "status", "resolved_at", "id"),
        Index("ix_notices_recipient", "recipient_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # who caused it
    params: Mapped[str] = mapped_column(Text)  # JSON
    #: pending, sending, delivered, undelivered, superseded (no longer true: not sent)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # not before (a retry)
    claim: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(32))  # why it was not delivered
    detail: Mapped[str | None] = mapped_column(Text)  # Telegram's words, for the log
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    #: The person who caused the notice has been told how it went (once).
    actor_informed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: An undelivered notice is settled: sent again later, or no longer relevant.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecordCardRow(Base):
    """A message with a record's card and its buttons, edited when the record moves on."""

    __tablename__ = "record_cards"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id"),
        Index("ix_record_cards_record", "record_id", "active"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # whose buttons it has
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer)  # the record's version it shows
    note: Mapped[str | None] = mapped_column(Text)  # what happened on it (HTML), kept
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


#: The full-text indexes of /cari, made by migrations 0017 (records) and 0018 (the text
#: of softcopies) outside the models (FTS5 tables and their shadow tables on SQLite, GIN
#: expression indexes on PostgreSQL).
SEARCH_INDEX_NAMES = frozenset(
    {
        "records_fts",
        "records_fts_config",
        "records_fts_data",
        "records_fts_docsize",
        "records_fts_idx",
        "ix_records_search",
        "document_pages_fts",
        "document_pages_fts_config",
        "document_pages_fts_data",
        "document_pages_fts_docsize",
        "document_pages_fts_idx",
        "ix_document_pages_search",
    }
)


def outside_search_index(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name``: leave the full-text index out of schema comparisons."""
    return name not in SEARCH_INDEX_NAMES
