"""Reading softcopies (sop.extraction) on real pages made here: printed in a few fonts and
photographed (turned, skewed, noisy, JPEG), scans combined into a PDF, born-digital PDFs
and office files; OCR by the real Tesseract (skipped, with the reason, where it is absent).
The personal-data detector runs on what the OCR read: it finds the NIK and nothing in the
ordinary numbers of an official letter."""

from __future__ import annotations

import io
import string
from pathlib import Path

import pytest
from openpyxl import Workbook

from sop.extraction import Method, OcrConfig, Problem, extract
from sop.pii import PiiKind, find_personal_data
from sop.text_reading import hints_from_json, hints_to_json, read_document
from tests.support import documents
from tests.support.pages import (
    fonts,
    jpeg_bytes,
    photographed,
    printed_page,
    scanned_pdf,
    tesseract_or_skip,
    text_pdf,
)

NIK = "1371015708900001"  # Kota Padang, a woman born 17-08-1990
PERSONAL = [
    "KOMISI PEMILIHAN UMUM PROVINSI SUMATERA BARAT",
    "Daftar pemilih disabilitas Kota Padang",
    "Nama: Siti Rahmawati",
    f"NIK: {NIK}",
    "Tempat/Tgl Lahir: Padang, 17-08-1990",
    "Telepon: 0812 6634 7781",
    "Keterangan: pemilih tunanetra",
]
ORDINARY = [
    "Nomor: 123/PL.01.2-SD/1371/2026",
    "Padang, 17 Agustus 2026",
    "Anggaran sebesar Rp 1.371.000.000.000",
    "Register DIK-2026-0001 halaman 12",
    "NIP 198705172010121003",
    "Jumlah pemilih 1371015708 orang pada 2026",
]


@pytest.fixture(scope="module")
def ocr() -> OcrConfig:
    return OcrConfig(tesseract_or_skip(), "ind+eng")


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def words(text: str) -> set[str]:
    """The words of a text, without the punctuation the OCR may glue to them."""
    return {w.strip(string.punctuation + "|").lower() for w in text.split()}


KEY_WORDS = {"pemilihan", "disabilitas", "padang", "rahmawati", "tunanetra"}


@pytest.mark.parametrize(
    ("font_index", "turn"),
    [(0, 3.0), (1, 90.0), (2, -2.5), (3, 180.0)],
    ids=["pillow-skewed", "serif-sideways", "sans-skewed-left", "upside-down"],
)
def test_ocr_reads_a_phone_photo_of_a_printed_page(
    ocr: OcrConfig, tmp_path: Path, font_index: int, turn: float
) -> None:
    available = fonts()
    font = available[font_index % len(available)]
    photo = photographed(printed_page(PERSONAL, font), turn=turn, seed=font_index)
    result = extract(write(tmp_path, "foto.jpg", jpeg_bytes(photo)), "image/jpeg", ocr)
    assert result.method is Method.OCR and result.problem is None
    found = words(result.pages[0])
    # The OCR may split or misread a word of a noisy photo; most must come through.
    assert len(KEY_WORDS & found) >= 4, f"turned {turn}°: {sorted(found)}"
    hints = find_personal_data(enumerate(result.pages, start=1))
    nik = hints.finding(PiiKind.NIK)
    assert nik is not None and [s.text for s in nik.samples] == ["1371********0001"]


def test_ocr_reads_a_scanned_pdf_page_by_page_and_the_hints_name_the_page(
    ocr: OcrConfig, tmp_path: Path
) -> None:
    font = fonts()[0]
    first = printed_page(["Berita acara rapat pleno", "Hasil rekapitulasi suara"], font)
    second = photographed(printed_page(PERSONAL, font), turn=180.0)  # upside down
    path = write(tmp_path, "pindaian.pdf", scanned_pdf([first, second]))

    result = read_document(path, "application/pdf", ocr)

    extraction = result.extraction
    assert extraction.method is Method.OCR and len(extraction.pages) == 2
    assert "rekapitulasi" in words(extraction.pages[0])
    assert "tunanetra" in words(extraction.pages[1])
    assert "tunanetra" not in words(extraction.pages[0])
    assert result.hints_json is not None
    hints = hints_from_json(result.hints_json)
    nik = hints.finding(PiiKind.NIK)
    assert nik is not None and nik.pages == (2,) and nik.count == 1
    assert NIK not in result.hints_json  # masked samples only


def test_ordinary_numbers_read_by_ocr_are_no_personal_data(ocr: OcrConfig, tmp_path: Path) -> None:
    photo = photographed(printed_page(ORDINARY, fonts()[-1]), turn=1.5)
    result = extract(write(tmp_path, "surat.jpg", jpeg_bytes(photo)), "image/jpeg", ocr)
    assert "anggaran" in words(result.pages[0])
    assert find_personal_data(result.pages[0]).findings == ()


def test_a_born_digital_pdf_is_read_from_its_text_layer_without_ocr(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "nota.pdf",
        text_pdf([["Nota dinas sekretaris"], ["Lampiran: daftar pemilih", f"NIK {NIK}"]]),
    )
    result = read_document(path, "application/pdf", None)
    assert result.extraction.method is Method.TEXT_LAYER
    assert "lampiran" in words(result.extraction.pages[1])
    assert result.hints_json is not None
    assert hints_from_json(result.hints_json).finding(PiiKind.NIK) is not None


def test_without_ocr_a_scan_is_stored_unread_and_says_so(tmp_path: Path) -> None:
    page = printed_page(["Berita acara"], fonts()[0])
    path = write(tmp_path, "pindaian.pdf", scanned_pdf([page, page]))
    result = extract(path, "application/pdf", None)
    assert result.problem is Problem.NEEDS_OCR and result.unread_pages == 2
    assert not result.has_text
    photo = extract(write(tmp_path, "foto.jpg", jpeg_bytes(page)), "image/jpeg", None)
    assert photo.problem is Problem.NEEDS_OCR


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _odt(text: str) -> bytes:
    mime = "application/vnd.oasis.opendocument.text"
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
        f"<text:h>Judul</text:h><text:p>{text}</text:p></office:text></office:body>"
        "</office:document-content>"
    )
    return documents._package({"mimetype": mime, "content.xml": content}, first="mimetype")


def test_office_files_are_read_without_ocr(tmp_path: Path) -> None:
    docx = extract(
        write(tmp_path, "a.docx", documents.docx(f"Pemilih dengan NIK {NIK}")), None, None
    )
    assert docx.method is Method.OFFICE and NIK in docx.pages[0]
    xlsx = extract(
        write(tmp_path, "b.xlsx", _xlsx([["Nama", "Telepon"], ["Siti", "081266347781"]])),
        None,
        None,
    )
    assert xlsx.method is Method.OFFICE and "081266347781" in xlsx.pages[0]
    odt = extract(write(tmp_path, "c.odt", _odt("Surat keputusan")), None, None)
    assert odt.method is Method.OFFICE and "Surat keputusan" in odt.pages[0]


def test_what_cannot_be_read_says_why(tmp_path: Path) -> None:
    old = extract(
        write(tmp_path, "a.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)), None, None
    )
    assert old.problem is Problem.OLD_FORMAT
    broken = extract(write(tmp_path, "b.pdf", documents.minimal_pdf("x")), None, None)
    assert broken.problem in {Problem.DAMAGED, Problem.NO_TEXT} and not broken.has_text
    empty = extract(write(tmp_path, "c.docx", documents.docx("")), None, None)
    assert empty.problem is Problem.NO_TEXT


def test_hints_survive_json_with_masked_samples_only() -> None:
    hints = find_personal_data(f"NIK {NIK}, e-mail siti.rahma@gmail.com")
    text = hints_to_json(hints)
    assert NIK not in text and "siti.rahma" not in text
    assert hints_from_json(text) == hints
