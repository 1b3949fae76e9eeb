"""The SOP's "minimal 2 orang" at step 3: neither the person who handed a record over nor
the one who produced it receives it (FOUR_EYES=strict, the default); FOUR_EYES=standard
relaxes only the producer rule, and the register marks every record accepted that way."""

from __future__ import annotations

import csv
import io

import pytest
from pydantic import ValidationError

from bot import reports
from bot.config import Settings
from sop.errors import FourEyesViolation
from sop.four_eyes import FourEyes
from sop.model import Actor, Role, State, Step
from sop.register import RegisterService
from sop.service import PpidService
from tests.conftest import Office, chunks_of, sample_fields
from tests.support.documents import minimal_pdf


async def producing_pejabat(service: PpidService) -> Actor:
    """A Petugas PPID of division 1 who is also Pejabat PPID (a small office)."""
    await service.add_person(601, "Yusuf Ganda", Role.PETUGAS_PPID, division_id=1)
    return await service.add_person(601, "Yusuf Ganda", Role.PEJABAT_PPID)


async def handed_over(service: PpidService, office: Office, petugas: Actor, tag: str) -> int:
    record = await service.create_draft(petugas, sample_fields(1, title=f"Berkas {tag}"))
    await service.attach_file(
        petugas, record.id, chunks_of(minimal_pdf(tag)), "surat.pdf", "application/pdf"
    )
    await service.complete_produce(petugas, record.id, verified=True)
    outcome = await service.complete_handover(office.dokumentasi, record.id)
    return outcome.record.id


async def test_strict_the_producer_does_not_receive(service: PpidService, office: Office) -> None:
    assert service.four_eyes is FourEyes.STRICT  # the default
    yusuf = await producing_pejabat(service)
    record = await service.create_draft(yusuf, sample_fields(1))
    await service.attach_file(yusuf, record.id, chunks_of(minimal_pdf("y")), "y.pdf", None)
    await service.complete_produce(yusuf, record.id, verified=True)
    outcome = await service.complete_handover(office.dokumentasi, record.id)
    assert yusuf.user_id not in {a.user_id for a in outcome.notify}  # not even told
    assert {a.user_id for a in outcome.notify} == {office.pejabat.user_id, office.pejabat2.user_id}
    assert all(task.record.id != record.id for task in await service.tasks(yusuf))
    with pytest.raises(FourEyesViolation, match="membuat berkas"):
        await service.complete_receive(yusuf, record.id)
    with pytest.raises(FourEyesViolation, match="membuat berkas"):
        await service.return_record(yusuf, record.id, Step.PRODUCE, "Perlu perbaikan")
    stored = (await service.complete_receive(office.pejabat, record.id)).record
    assert stored.state is State.STORED


async def test_strict_whoever_completed_step_one_does_not_receive(
    service: PpidService, office: Office
) -> None:
    """Produced by Rina, returned, redone and completed by a colleague who is also Pejabat."""
    yusuf = await producing_pejabat(service)
    record_id = await handed_over(service, office, office.petugas, "redo")
    await service.return_record(office.pejabat, record_id, Step.PRODUCE, "Tanda tangan kurang")
    await service.attach_file(yusuf, record_id, chunks_of(minimal_pdf("ttd")), "ttd.pdf", None)
    await service.complete_produce(yusuf, record_id, verified=True)
    await service.complete_handover(office.dokumentasi, record_id)
    with pytest.raises(FourEyesViolation):
        await service.complete_receive(yusuf, record_id)
    # The creator never completes step 3 either, even if they hold the role later.
    rina = await service.add_person(101, "Rina Petugas", Role.PEJABAT_PPID)
    with pytest.raises(FourEyesViolation):
        await service.complete_receive(rina, record_id)
    await service.complete_receive(office.pejabat2, record_id)


async def test_standard_lets_the_producer_receive_and_the_register_says_so(
    service: PpidService, office: Office
) -> None:
    service.four_eyes = FourEyes.STANDARD
    yusuf = await producing_pejabat(service)
    own = await handed_over(service, office, yusuf, "sendiri")
    other = await handed_over(service, office, office.petugas, "lain")
    assert own in {task.record.id for task in await service.tasks(yusuf)}
    await service.complete_receive(yusuf, own)
    await service.complete_receive(yusuf, other)

    # The hand-over rule is never relaxed.
    both = await service.add_person(401, "Eka Dua Peran", Role.PETUGAS_DOKUMENTASI)
    both = await service.add_person(401, "Eka Dua Peran", Role.PEJABAT_PPID)
    record = await service.create_draft(office.petugas, sample_fields(1, title="Berkas tiga"))
    await service.attach_file(office.petugas, record.id, chunks_of(minimal_pdf("3")), "3.pdf", None)
    await service.complete_produce(office.petugas, record.id, verified=True)
    await service.complete_handover(both, record.id)
    with pytest.raises(FourEyesViolation, match="menyerahkan"):
        await service.complete_receive(both, record.id)

    data = await RegisterService(service).report_data(office.admin)
    rows = {row[1].split("\n")[0]: row[5] for row in reports.dik_rows(data)}
    assert reports.ACCEPTED_BY_PRODUCER in rows["Berkas sendiri"]
    assert reports.ACCEPTED_BY_PRODUCER not in rows["Berkas lain"]
    assert "Berkas tiga" not in rows  # not accepted yet, so not in the DIK
    table = list(csv.reader(io.StringIO(reports.dik_csv_bytes(data).decode("utf-8-sig"))))
    marked = [row[1].split("\n")[0] for row in table[1:] if reports.ACCEPTED_BY_PRODUCER in row[5]]
    assert marked == ["Berkas sendiri"]


def test_the_setting() -> None:
    assert Settings(_env_file=None).four_eyes is FourEyes.STRICT  # type: ignore[call-arg]
    relaxed = Settings(_env_file=None, four_eyes=" Standard ")  # type: ignore[call-arg]
    assert relaxed.four_eyes is FourEyes.STANDARD
    with pytest.raises(ValidationError, match="strict or standard"):
        Settings(_env_file=None, four_eyes="lax")  # type: ignore[call-arg]
