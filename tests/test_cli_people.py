"""The operator's tools for people: invitations (list, revoke) and a revocation that would
leave records without anyone to act on them."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from bot.config import load_settings
from bot.runtime import Runtime
from sop.model import Role
from sop.service import PpidService
from tests.conftest import PDF_BYTES, chunks_of, sample_fields
from tests.test_cli import env, run  # noqa: F401

T = TypeVar("T")


def with_service(action: Callable[[PpidService], Awaitable[T]]) -> T:
    """Run ``action`` against the database the command line uses (its own event loop)."""

    async def go() -> T:
        runtime = await Runtime.open(load_settings())
        try:
            return await action(runtime.service)
        finally:
            await runtime.close()

    return asyncio.run(go())


def test_invitation_list_and_revoke(
    env: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", "900")
    assert run(capsys, "invitation", "list") == (0, ["no open invitations"], "")

    async def invite(service: PpidService) -> list[str]:
        admin = await service.actor_by_telegram(900)
        assert admin is not None
        named = await service.create_invitation(admin, Role.PEJABAT_PPID, name="Budi Santoso")
        plain = await service.create_invitation(admin, Role.PETUGAS_PPID, 1)
        return [named.code, plain.code]

    codes = with_service(invite)
    code, out, err = run(capsys, "invitation", "list")
    assert (code, err) == (0, "")
    assert len(out) == 2
    assert out[0].startswith("1\tpejabat_ppid\t-\tBudi Santoso\tby Admin 900\texpires 20")
    assert out[0].endswith("+07:00")
    assert out[1].startswith("2\tpetugas_ppid\tKeuangan, Umum dan Logistik\t-\tby Admin 900")
    assert not any(c in line for c in codes for line in out)  # codes are never shown

    assert run(capsys, "invitation", "revoke", "1") == (
        0,
        ["revoked invitation 1 (pejabat_ppid); its link no longer works"],
        "",
    )
    _, out, _ = run(capsys, "invitation", "list")
    assert [line.split("\t")[0] for line in out] == ["2"]
    again = run(capsys, "invitation", "revoke", "1")
    assert again == (
        1,
        [],
        "ppidbot: Undangan ini sudah dipakai, sudah dibatalkan, atau sudah kedaluwarsa.\n",
    )
    assert run(capsys, "invitation", "revoke", "99") == (
        1,
        [],
        "ppidbot: Undangan tidak ditemukan.\n",
    )


def test_revoking_the_last_holder_with_open_steps_asks_first(
    env: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(capsys, "user", "add", "--telegram-id", "101", "--name", "Rina", "--role",
        "petugas_ppid", "--division", "1")  # fmt: skip
    run(capsys, "user", "add", "--telegram-id", "201", "--name", "Sari", "--role",
        "petugas_dokumentasi")  # fmt: skip

    async def submit(service: PpidService) -> None:
        rina = await service.actor_by_telegram(101)
        assert rina is not None
        record = await service.create_draft(rina, sample_fields())
        await service.attach_file(
            rina, record.id, chunks_of(PDF_BYTES), "surat.pdf", "application/pdf"
        )
        await service.complete_produce(rina, record.id, verified=True)

    with_service(submit)
    revoke = ("user", "revoke", "--telegram-id", "201", "--role", "petugas_dokumentasi")
    warning = (
        "warning: Sari is the only petugas_dokumentasi, and 1 record(s) wait on step 2; "
        "after the revocation nobody can complete them\n"
    )
    # Not on a terminal (a script): refused, nothing changes.
    code, out, err = run(capsys, *revoke)
    assert (code, out) == (1, [])
    assert err == warning + "nothing revoked (add --yes to revoke anyway)\n"

    # On a terminal the operator is asked; "no" keeps the role, "y" revokes.
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    question = "revoke anyway? [y/N] "
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code, out, err = run(capsys, *revoke)
    assert (code, out) == (1, [])
    assert err == warning + question + "nothing revoked (add --yes to revoke anyway)\n"
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert run(capsys, *revoke) == (0, ["revoked petugas_dokumentasi from 201"], warning + question)

    # --yes revokes without asking; without open steps there is no warning at all.
    run(capsys, "user", "add", "--telegram-id", "202", "--name", "Tari", "--role",
        "petugas_dokumentasi")  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, err = run(capsys, "user", "revoke", "--telegram-id", "202", "--role",
                         "petugas_dokumentasi", "--yes")  # fmt: skip
    assert (code, out) == (0, ["revoked petugas_dokumentasi from 202"])
    assert err.startswith("warning: Tari is the only petugas_dokumentasi")
    assert run(capsys, "user", "revoke", "--telegram-id", "101", "--role", "petugas_ppid") == (
        0,
        ["revoked petugas_ppid from 101"],
        "",
    )
