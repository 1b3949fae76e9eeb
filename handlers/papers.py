"""The papers in Telegram: /uji <nomor> sends the consequence-test sheet and the
classification decision as PDF, /verifikasi <kode> checks a printed or forwarded paper
against the register, and the handover record of step 2 and of step 3 goes to both
parties of the hand-over as soon as the step is done."""

from __future__ import annotations

import logging

from telegram import InputFile, Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler

from bot import texts
from bot.context import PpidContext
from bot.papers.pdf import renderer
from bot.texts import papers as t
from sop.errors import SopError
from sop.model import Actor, RecordView, State, Step
from sop.papers import HANDOVER_KINDS, DocumentKind, missing_for_consequence_test
from sop.service import PpidService
from sop.verification import FileStatus, IssuedPaper, PapersService, Verdict, format_code

log = logging.getLogger(__name__)

#: What /uji sends.
TEST_PAPERS = (DocumentKind.CONSEQUENCE_TEST, DocumentKind.CLASSIFICATION)


def papers_of(context: PpidContext) -> PapersService:
    return PapersService(context.service, renderer(context.service.tz))


async def papers_lines(service: PpidService, viewer: Actor, record: RecordView) -> str:
    """A card's lines about the record's papers: those issued, with their codes, and how
    to get the consequence-test sheet and the decision."""
    if record.state is State.CANCELLED:
        return ""
    listed = await PapersService(service, renderer(service.tz)).listed(viewer, record.id)
    latest = {kind: code for kind, code in listed}  # the latest code of each kind
    lines = ["", t.CARD_PAPERS_HINT.format(number=texts.h(record.number))]
    if latest:
        shown = "; ".join(
            f"{t.KIND_NAMES[kind.value]} <code>{format_code(code)}</code>"
            for kind, code in latest.items()
        )
        lines.append(t.CARD_PAPERS.format(papers=shown))
    return "\n".join(lines)


def _caption(paper: IssuedPaper, record: RecordView) -> str:
    caption = t.PAPER_CAPTION.format(
        kind=t.KIND_NAMES[paper.kind.value],
        number=texts.h(record.number),
        code=format_code(paper.code),
    )
    missing = missing_for_consequence_test(record)
    if paper.kind is DocumentKind.CONSEQUENCE_TEST and missing:
        caption += "\n" + t.PAPER_CAPTION_INCOMPLETE.format(parts=t.missing_names(missing))
    return caption


async def _send_paper(
    context: PpidContext, chat_id: int, paper: IssuedPaper, record: RecordView
) -> bool:
    name = f"{t.KIND_FILES[paper.kind.value]}-{record.number}.pdf"
    try:
        await context.bot.send_document(
            chat_id, InputFile(paper.pdf, filename=name), caption=_caption(paper, record)
        )
    except TelegramError:
        log.exception("could not send %s of record %s to %s", paper.kind, record.id, chat_id)
        return False
    return True


# -- /uji ----------------------------------------------------------------------------------
async def uji(update: Update, context: PpidContext) -> None:
    """/uji <nomor>: the consequence-test sheet and the classification decision as PDF."""
    assert update.message is not None
    if not context.args:
        await update.message.reply_text(t.UJI_USAGE)
        return
    actor = context.actor
    papers = papers_of(context)
    try:
        record = await context.service.record(actor, " ".join(context.args))
        if record.state is State.CANCELLED:
            await update.message.reply_text(t.UJI_CANCELLED)
            return
        issued = [await papers.issue(actor, record.id, kind) for kind in TEST_PAPERS]
    except SopError as exc:
        await update.message.reply_text(exc.message)
        return
    for paper in issued:
        if not await _send_paper(context, update.message.chat_id, paper, record):
            await update.message.reply_text(
                t.PAPER_NOT_SENT.format(
                    kind=t.KIND_NAMES[paper.kind.value], number=texts.h(record.number)
                )
            )


# -- after steps 2 and 3 -------------------------------------------------------------------
async def deliver_handover(context: PpidContext, actor: Actor, record: RecordView) -> None:
    """Issue the handover record of the step just done and send it to both parties. The
    step is already committed: a failure here is logged, and /uji or ppidbot verify still
    reach the paper."""
    step = Step.HANDOVER if record.state is State.REGISTERED else Step.RECEIVE
    papers = papers_of(context)
    try:
        paper = await papers.issue(actor, record.id, HANDOVER_KINDS[step])
        parties = await papers.parties(record.id, step)
    except SopError:
        log.exception("could not issue the handover record of step %s of %s", step, record.id)
        return
    for person in parties:
        await _send_paper(context, person.telegram_id, paper, record)


# -- /verifikasi ---------------------------------------------------------------------------
async def verifikasi(update: Update, context: PpidContext) -> None:
    """/verifikasi <kode>: whether a paper matches the register (for those who may see
    its record; anyone else learns nothing about it)."""
    assert update.message is not None
    if not context.args:
        await update.message.reply_text(t.VERIFY_USAGE)
        return
    try:
        result = await papers_of(context).verify(" ".join(context.args), context.actor)
    except SopError as exc:
        await update.message.reply_text(exc.message)
        return
    code = format_code(result.code) if result.code else texts.h(" ".join(context.args))
    issued = result.issued
    if result.verdict is Verdict.UNKNOWN or issued is None or result.kind is None:
        await update.message.reply_text(t.VERIFY_UNKNOWN.format(code=code))
        return
    at = texts.wib(result.issued_at, context.service.tz) if result.issued_at else "-"
    lines = [
        t.VERIFY_HEAD.format(
            code=code,
            kind=t.KIND_NAMES[result.kind.value],
            number=texts.h(issued.record.number),
            title=texts.h(issued.record.title),
            at=at,
        ),
        t.VERIFY_MATCHES if result.verdict is Verdict.MATCHES else t.VERIFY_CHANGED,
    ]
    if result.unavailable:
        lines.append(t.VERIFY_RECORD_GONE)
    elif result.changes:
        lines.append(t.VERIFY_RECORD_CHANGED.format(fields=t.changed_fields(result.changes)))
    else:
        lines.append(t.VERIFY_RECORD_SAME)
    bad = [check for check in result.files if check.status is not FileStatus.OK]
    if result.files and not bad:
        lines.append(t.VERIFY_FILES_OK.format(count=len(result.files)))
    for check in bad:
        lines.append(t.VERIFY_FILE_BAD[check.status.value].format(name=texts.h(check.name)))
    if result.chain is not None:
        chain = t.VERIFY_CHAIN_OK if result.chain.ok else t.VERIFY_CHAIN_BAD
        lines.append(chain.format(seq=issued.audit.seq))
    await update.message.reply_text("\n".join(lines))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("uji", uji))
    application.add_handler(CommandHandler("verifikasi", verifikasi))


__all__ = ["deliver_handover", "register"]
