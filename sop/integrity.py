"""The sanity checker: stored files against the database, orphans, overdue steps and the
audit hash chain. Plain Python, no Telegram; the CLI prints it, the bot summarises it.

Before it looks, it reconciles what interrupted writes left behind (:mod:`sop.files`): a
file an old intent names and no row records is removed. Younger intents are writes in
progress; their files are not orphans.

Findings are of two kinds: *damage* (missing or altered files, orphans, a broken audit
chain) and *lateness* (steps past their due time). ``ppidbot check`` exits 1 for damage and
2 when lateness is the only finding."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories import Repository
from sop.audit import chain_entry, verify_chain
from sop.clock import Clock
from sop.files import STALE_INTENT_AGE, FileRecovery
from sop.model import Step
from storage import DocumentStorage, StorageError, StoredFileMissing, UnsafePath

PROVISIONAL_PREFIX = "BRK-"  # sop.service.PROVISIONAL_PREFIX (not imported: no cycle)


def record_label(record_id: int, register_number: str | None) -> str:
    """``DIK-2026-0001`` once stored, ``BRK-12`` before."""
    return register_number or f"{PROVISIONAL_PREFIX}{record_id}"


@dataclass(frozen=True, slots=True)
class MissingFile:
    """A record_files row whose bytes are not in the storage."""

    file_id: int
    record: str
    path: str
    reason: str = "not on disk"


@dataclass(frozen=True, slots=True)
class SizeMismatch:
    file_id: int
    record: str
    path: str
    expected: int
    actual: int


@dataclass(frozen=True, slots=True)
class HashMismatch:
    file_id: int
    record: str
    path: str
    expected: str
    actual: str


@dataclass(frozen=True, slots=True)
class OrphanFile:
    """A file under ``divisi/`` or ``ppid/`` that no record_files row refers to."""

    path: str


@dataclass(frozen=True, slots=True)
class OverdueStep:
    """An open step run past its due time."""

    record_id: int
    record: str
    step: Step
    attempt: int
    due_at: datetime
    late: timedelta


@dataclass(frozen=True, slots=True)
class AuditProblem:
    seq: int
    problem: str


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    checked_at: datetime
    files_checked: int = 0
    audit_entries_checked: int = 0
    missing_files: list[MissingFile] = field(default_factory=list)
    size_mismatches: list[SizeMismatch] = field(default_factory=list)
    checksum_mismatches: list[HashMismatch] = field(default_factory=list)
    orphan_files: list[OrphanFile] = field(default_factory=list)
    overdue_steps: list[OverdueStep] = field(default_factory=list)
    audit_problems: list[AuditProblem] = field(default_factory=list)
    #: Files of interrupted writes that the check removed (not a problem: reconciled).
    removed_leftovers: list[str] = field(default_factory=list)
    #: Files of writes still running (named by a recent intent; not orphans).
    writes_in_progress: list[str] = field(default_factory=list)

    @property
    def damaged_files(self) -> int:
        """How many distinct stored files are missing or differ from the database."""
        ids = {p.file_id for p in self.missing_files}
        ids |= {p.file_id for p in self.size_mismatches}
        ids |= {p.file_id for p in self.checksum_mismatches}
        return len(ids)

    @property
    def problem_count(self) -> int:
        return (
            len(self.missing_files)
            + len(self.size_mismatches)
            + len(self.checksum_mismatches)
            + len(self.orphan_files)
            + len(self.overdue_steps)
            + len(self.audit_problems)
        )

    @property
    def damage_count(self) -> int:
        """Findings that mean something is broken: missing, altered or orphan files, or a
        broken audit chain."""
        return self.problem_count - len(self.overdue_steps)

    @property
    def damaged(self) -> bool:
        return self.damage_count > 0

    @property
    def only_late(self) -> bool:
        """Nothing is broken; some steps are past their due time."""
        return not self.damaged and bool(self.overdue_steps)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def exit_code(self) -> int:
        """0: no finding; 1: damage; 2: lateness only."""
        if self.damaged:
            return 1
        return 2 if self.overdue_steps else 0

    def render_text(self, tz: ZoneInfo | None = None) -> str:
        """The report for the operator's terminal (English, one problem a line)."""
        zone = tz or ZoneInfo("Asia/Jakarta")
        lines = [
            f"ppidbot check at {_stamp(self.checked_at, zone)}",
            f"stored files checked: {self.files_checked}; "
            f"audit entries checked: {self.audit_entries_checked}",
        ]
        if self.removed_leftovers:
            lines.append(
                f"reconciled: removed {len(self.removed_leftovers)} file(s) left by interrupted "
                "writes (never recorded): " + ", ".join(self.removed_leftovers)
            )
        if self.writes_in_progress:
            lines.append(f"writes in progress (not checked): {len(self.writes_in_progress)}")
        if self.ok:
            lines.append("OK: no problems found")
            return "\n".join(lines)
        if self.damaged:
            lines.append(
                f"DAMAGE FOUND: {self.damage_count} problem(s)"
                + (f", and {len(self.overdue_steps)} overdue step(s)" if self.overdue_steps else "")
            )
        else:
            lines.append(
                f"LATENESS ONLY: {len(self.overdue_steps)} overdue step(s); no damage found"
            )
        sections: list[tuple[str, list[str]]] = [
            (
                "missing files",
                [
                    f"{p.path} (file #{p.file_id}, {p.record}): {p.reason}"
                    for p in self.missing_files
                ],
            ),
            (
                "size mismatches",
                [
                    f"{p.path} (file #{p.file_id}, {p.record}): "
                    f"expected {p.expected} bytes, found {p.actual}"
                    for p in self.size_mismatches
                ],
            ),
            (
                "checksum mismatches",
                [
                    f"{p.path} (file #{p.file_id}, {p.record}): "
                    f"expected sha256 {p.expected}, found {p.actual}"
                    for p in self.checksum_mismatches
                ],
            ),
            (
                "orphan files (on disk, not in the database)",
                [p.path for p in self.orphan_files],
            ),
            (
                "overdue steps",
                [
                    f"{p.record}: step {int(p.step)} (attempt {p.attempt}) was due "
                    f"{_stamp(p.due_at, zone)}, {_late(p.late)} late"
                    for p in self.overdue_steps
                ],
            ),
            (
                "audit chain problems",
                [f"entry {p.seq}: {p.problem}" for p in self.audit_problems],
            ),
        ]
        for title, items in sections:
            if items:
                lines.append(f"{title} ({len(items)}):")
                lines.extend(f"  - {item}" for item in items)
        return "\n".join(lines)


class IntegrityChecker:
    """Re-hashes every stored file against the database and checks the rest (see module)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        storage: DocumentStorage,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self.storage = storage
        self.clock = clock

    async def check(self) -> IntegrityReport:
        now = self.clock.now().astimezone(UTC)
        reconciled = await FileRecovery(self._sessions, self.storage, self.clock).reconcile(
            min_age=STALE_INTENT_AGE
        )
        await self.storage.cleanup_temp(min_age=STALE_INTENT_AGE.total_seconds())
        # The disk is listed before the database is read: a file being uploaded right now
        # is either already committed (seen below) or re-checked at the end.
        on_disk = [path async for path in self.storage.iter_paths()]
        async with self._sessions() as session, session.begin():
            repo = Repository(session)
            await repo.use_snapshot()
            numbers = await repo.record_numbers()
            files = [
                (row.id, row.record_id, row.path, row.size, row.sha256)
                for row in await repo.all_files()
            ]
            open_runs = [
                (row.record_id, row.step, row.attempt, row.due_at) for row in await repo.open_runs()
            ]
            head_row = await repo.audit_head()
            head = (head_row.last_seq, head_row.last_hash) if head_row else None
            entries = [chain_entry(row) for row in await repo.audit_entries()]

        report = IntegrityReport(
            checked_at=now,
            files_checked=len(files),
            audit_entries_checked=len(entries),
            removed_leftovers=reconciled.removed,
        )
        for file_id, record_id, path, size, sha256 in files:
            label = record_label(record_id, numbers.get(record_id))
            try:
                actual_size, actual_sha = await self.storage.digest(path)
            except StoredFileMissing:
                report.missing_files.append(MissingFile(file_id, label, path))
                continue
            except UnsafePath as exc:
                report.missing_files.append(MissingFile(file_id, label, path, exc.reason))
                continue
            except (StorageError, OSError) as exc:
                report.missing_files.append(MissingFile(file_id, label, path, str(exc)))
                continue
            if actual_size != size:
                report.size_mismatches.append(SizeMismatch(file_id, label, path, size, actual_size))
            if actual_sha != sha256:
                report.checksum_mismatches.append(
                    HashMismatch(file_id, label, path, sha256, actual_sha)
                )

        known = {path for _, _, path, _, _ in files}
        candidates = [path for path in on_disk if path not in known]
        if candidates:
            async with self._sessions() as session, session.begin():
                repo = Repository(session)
                committed_since = await repo.known_file_paths(candidates)
                in_progress = await repo.intent_paths(candidates)
            report.writes_in_progress.extend(p for p in candidates if p in in_progress)
            report.orphan_files.extend(
                OrphanFile(path)
                for path in candidates
                if path not in committed_since and path not in in_progress
            )

        for record_id, step, attempt, due_at in open_runs:
            if now > due_at:
                report.overdue_steps.append(
                    OverdueStep(
                        record_id,
                        record_label(record_id, numbers.get(record_id)),
                        Step(step),
                        attempt,
                        due_at,
                        now - due_at,
                    )
                )
        report.overdue_steps.sort(key=lambda p: p.due_at)

        if head is None:
            report.audit_problems.append(AuditProblem(0, "the audit_head row is missing"))
        report.audit_problems.extend(
            AuditProblem(p.seq, p.problem)
            for p in verify_chain(
                entries,
                head_seq=head[0] if head else None,
                head_hash=head[1] if head else None,
            )
        )
        return report


def _stamp(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _late(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days}d"] if days else []
    if hours or days:
        parts.append(f"{hours}h")
    parts.append(f"{minutes}m")
    return " ".join(parts)
