"""The consequence test in Telegram: the Petugas PPID leaves its parts to the Pejabat PPID
in step 1 (the summary says what is missing), step 3 refuses to complete until the test
is whole, and the Pejabat PPID completes it from the card's button, part by part."""

from __future__ import annotations

from bot.texts import new_record as nr
from bot.texts import records as rec
from bot.texts import steps as st
from sop.model import State
from tests.e2e.flows import CONSEQUENCE_TEST, fill_in, real_pdf
from tests.e2e.harness import BotHarness
from tests.e2e.test_full_sop import (
    TITLE,
    button_texts,
    final_record,
    hand_over,
    office,
    open_from,
)
from tests.emulator import FakeUser
from tests.emulator.models import BotMessage


async def fill_part(pejabat: FakeUser, card: BotMessage, label: str, answer: str) -> BotMessage:
    """The card's "complete the consequence test" button, one part, its text; the new card."""
    await pejabat.press(card, text=st.BUTTON_TEST)
    choose = await pejabat.wait_for("Pilih bagian yang akan diisi")
    await pejabat.press(choose, text=label)
    asked = await pejabat.wait_for_edit(choose.message_id)
    assert "belum diisi" in asked.text
    await pejabat.send_text(answer)
    await pejabat.wait_for("diperbarui")
    return await pejabat.wait_for(lambda m: rec.BUTTON_ACCEPT in button_texts(m))


async def test_the_pejabat_completes_the_consequence_test_before_accepting(
    harness: BotHarness,
) -> None:
    o = await office(harness)
    rina, sari, andi = o.rina.phone, o.sari.phone, o.andi.phone

    # -- step 1: Rina leaves the test's parts to the Pejabat PPID; the summary says so ----
    await fill_in(rina, TITLE, classified_by="Andi Pejabat", consequence_test=False)
    await rina.send_document(real_pdf(), "daftar-pemilih.pdf", "application/pdf")
    ack = await rina.wait_for("Tersimpan")
    await rina.press(ack, text=nr.BUTTON_FILES_DONE)
    summary = await rina.wait_for("Syarat SOP")
    assert (
        "Uji konsekuensi belum lengkap: potensi bahaya bila dibuka, kepentingan publik, "
        "penyeimbangan belum diisi." in summary.text
    )
    sari.mark()
    await rina.press(summary, text=nr.BUTTON_VERIFIED)
    await rina.wait_for("Langkah 1 selesai")

    # -- step 2 --------------------------------------------------------------------------
    notice = await sari.wait_for("menunggu Anda")
    card = await open_from(sari, notice, "BRK-1", rec.BUTTON_HANDOVER)
    assert st.BUTTON_TEST in button_texts(card)
    await hand_over(o, card)

    # -- step 3: refused while incomplete, completed from the card, then accepted --------
    notice = await andi.wait_for(lambda m: m.text is not None and "menunggu penerimaan" in m.text)
    assert button_texts(notice)[:3] == [st.BUTTON_TEST, rec.BUTTON_ACCEPT, rec.BUTTON_RETURN]
    answer = await andi.wait_for_answer(await andi.press(notice, text=rec.BUTTON_ACCEPT))
    assert answer["show_alert"] is True
    assert answer["text"].startswith("Uji konsekuensi belum lengkap: Potensi bahaya bila dibuka")
    card = notice
    for part, answer_text in CONSEQUENCE_TEST.items():
        card = await fill_part(andi, card, st.TEST_FIELDS[part], answer_text)
    assert st.BUTTON_TEST not in button_texts(card)
    assert "Uji konsekuensi belum lengkap" not in card.text
    query = await andi.press(card, text=rec.BUTTON_ACCEPT)
    assert (await andi.wait_for_answer(query))["text"] == "Tersimpan sebagai DIK-2026-0001."

    record = await final_record(harness, o.rina.actor, 1)
    assert record.state is State.STORED
    assert record.fields.weighing == CONSEQUENCE_TEST["weighing"]
    runtime = await harness.runtime()
    trail = await runtime.service.audit_trail(o.rina.actor, 1)
    by_andi = [
        e.details["fields"]
        for e in trail
        if e.action == "record.updated" and e.actor_user_id == o.andi.actor.user_id
    ]
    assert by_andi == [["harm_if_opened"], ["public_interest"], ["weighing"]]
    assert await runtime.service.verify_audit_chain() == []
    assert harness.emulator.unanswered_callback_queries() == []


async def test_the_petugas_fills_the_test_in_step_1(harness: BotHarness) -> None:
    o = await office(harness)
    rina = o.rina.phone
    prompt = await fill_in(rina, TITLE, classified_by="Andi Pejabat", consequence_test=False)
    await rina.press(prompt, text=nr.BUTTON_EDIT)
    menu = await rina.wait_for(nr.ASK_EDIT)
    await rina.press(menu, text=nr.EDIT_LABELS["weighing"])
    asked = await rina.wait_for("Uji konsekuensi: tulis")
    assert "penyeimbangan" in asked.text and "belum diisi" in asked.text
    await rina.send_text("ya")  # too short: said, and asked again
    retry = await rina.wait_for("terlalu pendek")
    assert "Pertimbangan (penyeimbangan)" in retry.text
    await rina.send_text(CONSEQUENCE_TEST["weighing"])
    prompt = await rina.wait_for("Kirim softcopy")
    await rina.send_document(real_pdf(), "daftar-pemilih.pdf", "application/pdf")
    ack = await rina.wait_for("Tersimpan")
    await rina.press(ack, text=nr.BUTTON_FILES_DONE)
    summary = await rina.wait_for("Syarat SOP")
    assert (
        "Uji konsekuensi belum lengkap: potensi bahaya bila dibuka, kepentingan publik belum "
        "diisi." in summary.text
    )
    record = await final_record(harness, o.rina.actor, 1)
    assert record.fields.weighing == CONSEQUENCE_TEST["weighing"]
    assert record.fields.harm_if_opened is None
