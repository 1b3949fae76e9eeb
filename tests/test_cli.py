"""The ``ppidbot`` command line, run in-process against a fresh SQLite file.

``main()`` runs its own event loop (``asyncio.run``), so these tests are plain functions.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings

DEFAULT_DIVISIONS = [
    "1\tKeuangan, Umum dan Logistik",
    "2\tTeknis Penyelenggaraan Pemilu, Partisipasi dan Hubungan Masyarakat",
    "3\tHukum dan Sumber Daya Manusia",
    "4\tPerencanaan, Data dan Informasi",
]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean environment: no .env file, no inherited settings, a database in tmp_path."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "storage"))
    return database


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    """Exit code, stdout lines and stderr of one ``ppidbot`` invocation."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_db_current_and_upgrade(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "db", "current") == (0, ["(empty database)"], "")

    code, out, err = run(capsys, "db", "upgrade")
    assert (code, err) == (0, "")
    assert len(out) == 1
    assert out[0].startswith("database at revision ")
    revision = out[0].removeprefix("database at revision ")
    assert revision not in ("", "None")
    assert env.exists()

    assert run(capsys, "db", "current") == (0, [revision], "")
    assert run(capsys, "db", "upgrade") == (0, [f"database at revision {revision}"], "")


def test_user_add_list_and_revoke(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "user", "list") == (0, ["no users yet"], "")

    added = run(
        capsys, "user", "add", "--telegram-id", "101", "--name", "Rina Petugas",
        "--role", "petugas_ppid", "--division", "1",
    )  # fmt: skip
    assert added == (0, ["user 101 (Rina Petugas): petugas_ppid"], "")
    added = run(
        capsys, "user", "add", "--telegram-id", "201", "--name", "Sari",
        "--role", "petugas_dokumentasi",
    )  # fmt: skip
    assert added == (0, ["user 201 (Sari): petugas_dokumentasi"], "")

    # A Petugas PPID belongs to a division: refused, and nobody is added.
    code, out, err = run(
        capsys, "user", "add", "--telegram-id", "102", "--name", "Budi", "--role", "petugas_ppid"
    )
    assert (code, out) == (1, [])
    assert err == "ppidbot: Petugas PPID harus punya bagian (divisi).\n"
    code, out, err = run(
        capsys, "user", "add", "--telegram-id", "103", "--name", "Tono",
        "--role", "petugas_ppid", "--division", "99",
    )  # fmt: skip
    assert (code, out, err) == (1, [], "ppidbot: Bagian tidak dikenal.\n")

    assert run(capsys, "user", "list") == (
        0,
        [
            "101\tRina Petugas\tpetugas_ppid\tKeuangan, Umum dan Logistik",
            "201\tSari\tpetugas_dokumentasi\t-",
        ],
        "",
    )

    revoked = run(capsys, "user", "revoke", "--telegram-id", "201", "--role", "petugas_dokumentasi")
    assert revoked == (0, ["revoked petugas_dokumentasi from 201"], "")
    _, listing, _ = run(capsys, "user", "list")
    assert listing[1] == "201\tSari\t(no role)\t-"

    again = run(capsys, "user", "revoke", "--telegram-id", "201", "--role", "petugas_dokumentasi")
    assert again == (1, [], "no registered user with Telegram id 201\n")  # no role left
    not_hers = run(capsys, "user", "revoke", "--telegram-id", "101", "--role", "admin")
    assert not_hers == (1, [], "ppidbot: Pengguna tidak memiliki peran tersebut.\n")
    unknown = run(capsys, "user", "revoke", "--telegram-id", "999", "--role", "admin")
    assert unknown == (1, [], "no registered user with Telegram id 999\n")


def test_bootstrap_admin_is_listed_and_the_last_admin_stays(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", "900")
    assert run(capsys, "user", "list") == (0, ["900\tAdmin 900\tadmin\t-"], "")
    refused = run(capsys, "user", "revoke", "--telegram-id", "900", "--role", "admin")
    assert refused == (1, [], "ppidbot: Admin terakhir tidak dapat dicabut.\n")

    run(capsys, "user", "add", "--telegram-id", "901", "--name", "Wakil", "--role", "admin")
    revoked = run(capsys, "user", "revoke", "--telegram-id", "901", "--role", "admin")
    assert revoked == (0, ["revoked admin from 901"], "")


def test_division_list_and_add(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "division", "list") == (0, DEFAULT_DIVISIONS, "")
    assert run(capsys, "division", "add", "Sekretariat") == (0, ["5\tSekretariat"], "")
    assert run(capsys, "division", "list") == (0, [*DEFAULT_DIVISIONS, "5\tSekretariat"], "")

    duplicate = run(capsys, "division", "add", "Sekretariat")
    assert duplicate == (1, [], "ppidbot: Bagian dengan nama itu sudah ada.\n")
    blank = run(capsys, "division", "add", "   ")
    assert blank[0] == 1
    assert blank[2].startswith("ppidbot: Nama bagian")
    assert run(capsys, "division", "list")[1] == [*DEFAULT_DIVISIONS, "5\tSekretariat"]


def test_run_without_a_token_exits_2_with_one_line(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "run")
    assert (code, out) == (2, [])
    assert err.count("\n") == 1
    assert err.startswith("ppidbot: TELEGRAM_BOT_TOKEN is not set")
    assert not env.exists()


def test_run_with_a_malformed_token_exits_2(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not-a-token")
    code, out, err = run(capsys, "run")
    assert (code, out) == (2, [])
    assert err.count("\n") == 1
    assert err.startswith("ppidbot: TELEGRAM_BOT_TOKEN is malformed")
    assert "not-a-token" not in err
    assert not env.exists()


@pytest.mark.parametrize("command", [["run"], ["user", "list"]])
def test_a_malformed_step_deadline_exits_2(
    env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABCDEFGHIJKLMNOP")
    monkeypatch.setenv("STEP_DEADLINE", "sebentar")
    code, out, err = run(capsys, *command)
    assert (code, out) == (2, [])
    assert err.count("\n") == 1
    assert err.startswith("ppidbot: invalid configuration: STEP_DEADLINE")
    assert not env.exists()


def test_a_bad_command_line_is_an_argparse_error(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["user", "add", "--telegram-id", "101", "--name", "Rina", "--role", "boss"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'boss'" in capsys.readouterr().err
    assert not env.exists()


def test_record_cancel_withdraws_a_draft(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from bot.config import load_settings
    from bot.runtime import Runtime
    from sop.model import Role, State
    from tests.conftest import PDF_BYTES, chunks_of, sample_fields

    async def prepare() -> tuple[int, int]:
        runtime = await Runtime.open(load_settings())
        try:
            service = runtime.service
            rina = await service.add_person(101, "Rina", Role.PETUGAS_PPID, division_id=1)
            draft = await service.create_draft(rina, sample_fields(title="Draf lama"))
            other = await service.create_draft(rina, sample_fields(title="Draf lain"))
            await service.attach_file(rina, other.id, chunks_of(PDF_BYTES), "a.pdf", None)
            await service.complete_produce(rina, other.id, verified=True)
            return draft.id, other.id
        finally:
            await runtime.close()

    async def state_of(record_id: int) -> tuple[State, str | None]:
        runtime = await Runtime.open(load_settings())
        try:
            admin = await runtime.service.add_person(900, "Admin", Role.ADMIN)
            record = await runtime.service.record(admin, record_id)
            return record.state, record.return_reason
        finally:
            await runtime.close()

    draft, submitted = asyncio.run(prepare())
    code, out, err = run(capsys, "record", "cancel", f"BRK-{draft}", "--reason", "Salah input")
    assert (code, err) == (0, "")
    assert out == [
        f"withdrew BRK-{draft} (Draf lama); it left the register",
        "its reminders stop; a running bot picks this up within a minute",
        "not notified (TELEGRAM_BOT_TOKEN is not set): Rina",
    ]
    assert asyncio.run(state_of(draft)) == (State.CANCELLED, "Salah input")

    code, out, err = run(capsys, "record", "cancel", f"BRK-{submitted}", "--reason", "Salah")
    assert (code, out) == (1, [])
    assert "Hanya draf yang belum pernah diserahkan" in err
    assert run(capsys, "record", "cancel", "DIK-2026-0001", "--reason", "Salah")[0] == 1
    code, _, err = run(capsys, "record", "cancel", "BRK-999", "--reason", "Salah")
    assert code == 1 and "tidak ditemukan" in err
    code, _, err = run(capsys, "record", "cancel", f"BRK-{draft}", "--reason", "x")
    assert code == 1 and "Alasan" in err
