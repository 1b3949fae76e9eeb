"""The papers as PDF (fpdf2, DejaVu fonts), one or two A4 pages each: the public body's
heading, the title, the fields in a table, signature and stamp blocks, and the
verification code as text and as a QR code (segno).

Deterministic: the same paper and code give the same bytes (the creation date is the
time of the audit entry the paper attests, fonts and images are embedded the same way),
so the SHA-256 of a PDF issued once can be reproduced from what the register keeps."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC
from zoneinfo import ZoneInfo

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from bot.papers.fonts import FAMILY, MONO, font_files
from bot.texts import WIB, period_text, tanggal, wib
from bot.texts import papers as t
from sop.model import Role
from sop.papers import (
    ClassificationDecision,
    ConsequenceTest,
    Document,
    HandoverRecord,
    Party,
    RecordRef,
)
from sop.service import format_size
from sop.verification import PDF_KEYWORD, format_code

MARGIN = 20.0
QR_SIZE = 26.0
LABEL_WIDTH = 58.0
_LABEL = FontFace(family=FAMILY, emphasis="BOLD", size_pt=9)
_HASH = FontFace(family=MONO, emphasis="", size_pt=7.5)


class _Paper(FPDF):
    def __init__(self, code: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.code = format_code(code)
        for (family, style), path in font_files().items():
            self.add_font(family, style, str(path))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=22)
        self.alias_nb_pages()

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FAMILY, "", 8)
        page = t.PAGE.format(page=self.page_no(), pages="{nb}")
        self.cell(0, 5, f"{page}  ·  {t.CODE}: {self.code}", align="C")


def _qr_png(text: str) -> io.BytesIO:
    buffer = io.BytesIO()
    segno.make_qr(text, error="m").save(buffer, kind="png", scale=6, border=4)
    buffer.seek(0)
    return buffer


def _start(pdf: _Paper, document: Document, title: str, subtitle: str) -> None:
    body = document.body
    pdf.set_title(f"{title} · {document.record.number}")
    pdf.set_subject(f"{title} {document.record.number}: {document.record.title}")
    pdf.set_author(body.name)
    pdf.set_creator("ppidbot")
    pdf.set_keywords(f"{PDF_KEYWORD}:{pdf.code}")
    pdf.set_lang("id")
    pdf.set_creation_date(document.audit.at.astimezone(UTC))
    pdf.add_page()
    pdf.image(_qr_png(pdf.code), x=pdf.w - MARGIN - QR_SIZE, y=MARGIN - 6, w=QR_SIZE)
    width = pdf.epw - QR_SIZE - 4
    pdf.set_font(FAMILY, "B", 12)
    pdf.multi_cell(width, 6, body.name.upper(), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 10)
    pdf.multi_cell(width, 5, body.office, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), MARGIN + QR_SIZE - 4) + 2)
    pdf.set_line_width(0.6)
    pdf.line(MARGIN, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
    pdf.ln(4)
    pdf.set_font(FAMILY, "B", 13)
    pdf.multi_cell(0, 7, title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 9)
    pdf.multi_cell(0, 5, subtitle, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 9)
    pdf.multi_cell(0, 5, f"{t.CODE}: {pdf.code}", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def _text(pdf: _Paper, text: str, *, size: float = 10, bold: bool = False) -> None:
    pdf.set_font(FAMILY, "B" if bold else "", size)
    pdf.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.5)


def _rows(pdf: _Paper, rows: list[tuple[str, str]]) -> None:
    """Label and value, one row each, wrapped; the table breaks across pages itself."""
    pdf.set_font(FAMILY, "", 9)
    with pdf.table(
        col_widths=(LABEL_WIDTH, pdf.epw - LABEL_WIDTH),
        first_row_as_headings=False,
        line_height=4.4,
        padding=1,
        text_align="LEFT",
    ) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label, style=_LABEL)
            row.cell(value or t.DASH)
    pdf.ln(3)


def _record_rows(record: RecordRef) -> list[tuple[str, str]]:
    number = (
        (t.RECORD_NUMBER, record.register_number)
        if record.register_number
        else (t.DRAFT_NUMBER, record.number)
    )
    return [number, (t.TITLE, record.title), (t.DIVISION, record.division)]


def _audit_row(document: Document, tz: ZoneInfo) -> tuple[str, str]:
    audit = document.audit
    return (
        t.AUDIT_ENTRY,
        t.AUDIT_ENTRY_VALUE.format(seq=audit.seq, at=wib(audit.at, tz), hash=audit.hash),
    )


def _signatures(
    pdf: _Paper, left: tuple[str, Party | None], right: tuple[str, Party | None]
) -> None:
    """Two signature blocks side by side (a heading, room to sign, the name), with a
    circle for the stamp between them."""
    if pdf.get_y() > pdf.h - 64:
        pdf.add_page()
    pdf.ln(4)
    top = pdf.get_y()
    half = pdf.epw / 2
    for index, (heading, party) in enumerate((left, right)):
        if not heading and party is None:
            continue  # one signer only: the right-hand block
        x = MARGIN + index * half
        pdf.set_xy(x, top)
        pdf.set_font(FAMILY, "B", 9.5)
        pdf.multi_cell(half - 6, 5, heading, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font(FAMILY, "", 9)
        role = t.role_name(party.role) if party else ""
        pdf.multi_cell(half - 6, 5, role, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_draw_color(160)
        pdf.set_line_width(0.2)
        pdf.set_y(top + 32)
        pdf.set_x(x + 8)
        pdf.line(x + 8, pdf.get_y(), x + half - 14, pdf.get_y())
        pdf.set_xy(x, pdf.get_y() + 1)
        name = party.name if party else t.SIGN_NAME_BLANK
        pdf.set_font(FAMILY, "B", 9.5)
        pdf.multi_cell(half - 6, 5, name, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    # The stamp's place, drawn dashed across the right block's signature space.
    pdf.set_draw_color(150)
    pdf.set_dash_pattern(dash=1.2, gap=1.2)
    cx, cy, radius = MARGIN + half + 16, top + 23, 9
    pdf.circle(x=cx, y=cy, radius=radius)
    pdf.set_dash_pattern()
    pdf.set_font(FAMILY, "", 7)
    pdf.set_text_color(130)
    pdf.set_xy(cx - radius, cy - 2)
    pdf.cell(2 * radius, 4, t.STAMP, align="C")
    pdf.set_text_color(0)
    pdf.set_draw_color(0)
    pdf.set_y(top + 44)


def _verify_hint(pdf: _Paper) -> None:
    pdf.ln(2)
    pdf.set_font(FAMILY, "", 8)
    pdf.set_text_color(70)
    pdf.multi_cell(0, 4, t.VERIFY_HINT.format(code=pdf.code), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0)


def _output(pdf: _Paper) -> bytes:
    return bytes(pdf.output())


def handover_pdf(document: HandoverRecord, code: str, tz: ZoneInfo = WIB) -> bytes:
    pdf = _Paper(code)
    _start(pdf, document, t.HANDOVER_TITLE, t.HANDOVER_SUBTITLE[document.step])
    body = document.body
    _text(
        pdf,
        t.HANDOVER_OPENING.format(
            at=wib(document.at, tz), procedure=body.sop, procedure_title=body.sop_title
        ),
    )
    _rows(
        pdf,
        [
            (t.HANDOVER_GIVER, f"{document.giver.name}, {t.role_name(document.giver.role)}"),
            (
                t.HANDOVER_RECEIVER,
                f"{document.receiver.name}, {t.role_name(document.receiver.role)}",
            ),
        ],
    )
    _text(pdf, t.HANDOVER_BODY[document.step])
    _rows(pdf, [*_record_rows(document.record), _audit_row(document, tz)])
    _text(pdf, t.FILES_HEADING, bold=True)
    if document.files:
        pdf.set_font(FAMILY, "", 8.5)
        with pdf.table(
            col_widths=(9, 56, 18, pdf.epw - 83),
            line_height=4.5,
            padding=1,
            text_align="LEFT",
            headings_style=_LABEL,
        ) as table:
            table.row([*t.FILES_COLUMNS])
            for number, paper_file in enumerate(document.files, start=1):
                row = table.row()
                row.cell(str(number))
                row.cell(paper_file.name)
                row.cell(format_size(paper_file.size))
                row.cell(paper_file.sha256, style=_HASH)
        pdf.ln(3)
    else:
        _text(pdf, t.NO_FILES)
    _text(pdf, t.HANDOVER_CLOSING)
    _signatures(pdf, (t.HANDOVER_GIVER, document.giver), (t.HANDOVER_RECEIVER, document.receiver))
    _verify_hint(pdf)
    return _output(pdf)


def consequence_test_pdf(document: ConsequenceTest, code: str, tz: ZoneInfo = WIB) -> bytes:
    pdf = _Paper(code)
    _start(pdf, document, t.TEST_TITLE, t.TEST_SUBTITLE)
    if document.missing:
        _text(pdf, t.TEST_INCOMPLETE.format(missing=t.missing_names(document.missing)), bold=True)
    period = period_text(document.period)
    if document.ends_on:
        period += f" (berakhir {tanggal(document.ends_on)})"
    rows = t.TEST_ROWS
    _rows(
        pdf,
        [
            _record_rows(document.record)[0],
            (t.DIVISION, document.record.division),
            (rows["documents"], "; ".join(document.documents)),
            (rows["information"], document.record.title),
            (rows["description"], document.description),
            (rows["legal_basis"], t.basis(document.pasal17, document.other_legal_basis)),
            (rows["harm_if_opened"], document.harm_if_opened or t.NOT_FILLED),
            (rows["public_interest"], document.public_interest or t.NOT_FILLED),
            (rows["weighing"], document.weighing or t.NOT_FILLED),
            (rows["consequence"], document.consequence),
            (rows["conclusion"], t.TEST_CONCLUSION),
            (rows["period"], period),
            _audit_row(document, tz),
        ],
    )
    _text(pdf, t.TEST_PLACE_DATE.format(place=document.place, date=tanggal(document.tested_on)))
    signer = Party(document.tested_by, Role.PEJABAT_PPID)
    _signatures(pdf, ("", None), (t.TEST_SIGNER, signer))
    _verify_hint(pdf)
    return _output(pdf)


def decision_pdf(document: ClassificationDecision, code: str, tz: ZoneInfo = WIB) -> bytes:
    pdf = _Paper(code)
    _start(pdf, document, t.DECISION_TITLE, t.DECISION_SUBTITLE)
    _text(pdf, t.DECISION_OPENING.format(body=document.body.name))
    period = period_text(document.period)
    if document.ends_on:
        period += f" (berakhir {tanggal(document.ends_on)})"
    rows = t.DECISION_ROWS
    place_date = t.TEST_PLACE_DATE.format(place=document.place, date=tanggal(document.decided_on))
    _rows(
        pdf,
        [
            *_record_rows(document.record)[:1],
            (rows["information"], document.record.title),
            (rows["description"], document.description),
            (
                rows["classification"],
                t.classification_type(document.pasal17, document.other_legal_basis),
            ),
            (rows["legal_basis"], t.basis(document.pasal17, document.other_legal_basis)),
            (rows["unit"], document.unit),
            (rows["official"], document.official),
            (rows["period"], period),
            (rows["reason"], document.reason),
            (rows["place_date"], place_date),
            _audit_row(document, tz),
        ],
    )
    _text(pdf, place_date)
    signer = Party(document.official, Role.PEJABAT_PPID)
    _signatures(pdf, ("", None), (t.DECISION_SIGNER, signer))
    _verify_hint(pdf)
    return _output(pdf)


def render(document: Document, code: str, tz: ZoneInfo = WIB) -> bytes:
    """The PDF of any paper (the renderer ``sop.verification.PapersService`` is given)."""
    if isinstance(document, HandoverRecord):
        return handover_pdf(document, code, tz)
    if isinstance(document, ConsequenceTest):
        return consequence_test_pdf(document, code, tz)
    return decision_pdf(document, code, tz)


def renderer(tz: ZoneInfo = WIB) -> Callable[[Document, str], bytes]:
    """``render`` in the office's time zone."""
    return lambda document, code: render(document, code, tz)
