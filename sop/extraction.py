"""Reading the text of a stored softcopy, page by page (no database, no Telegram).

:func:`extract` runs in a worker process of its own (``bot/text_jobs.py``): it may take
seconds per page, so it never runs in the bot's event loop. It reads what each kind of file
offers:

- **PDF**: the text layer of each page (pypdf); a page without one (a scan, page photos the
  bot combined) is read by OCR from the page's image.
- **Images** (JPG, PNG): OCR, with the photo turned upright by its EXIF orientation first.
- **Office files**: the text of Word (docx), Excel (xlsx), PowerPoint (pptx, a page per
  slide) and OpenDocument (odt, ods) files, without OCR. The old binary formats (doc, xls,
  ppt) are not read: they are stored, and the record says their text could not be read.

OCR is Tesseract (Debian ``tesseract-ocr`` with ``tesseract-ocr-ind``): page segmentation
with orientation and script detection (``--psm 1``) turns pages photographed sideways or
upside down, and its layout analysis copes with the slight skew of a phone photo. One
Tesseract thread per worker (``OMP_THREAD_LIMIT=1``): the pool size is the parallelism.

Nothing here logs the text it reads: the documents are confidential.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from xml.etree import ElementTree

from PIL import Image, ImageOps

__all__ = [
    "Extraction",
    "Method",
    "OcrConfig",
    "Problem",
    "extract",
    "ocr_languages",
]

#: At most this many pages are read by OCR (a page takes seconds); the rest stay unread.
MAX_OCR_PAGES = 300
#: Text kept per page and per document (a page of dense print is ~5,000 characters).
MAX_PAGE_CHARS = 50_000
MAX_TEXT_CHARS = 3_000_000
#: A page whose text layer has fewer letters than this is treated as a scan (OCR).
MIN_TEXT_LAYER_CHARS = 16
#: Longest side of the image handed to Tesseract (a 12-megapixel photo is 4,000 px).
MAX_OCR_SIDE = 4200
#: Below this orientation confidence Tesseract's guess of which way is up is not followed.
MIN_OSD_CONFIDENCE = 2.0
#: Seconds one page may take in Tesseract before it is given up.
OCR_PAGE_TIMEOUT = 180
#: An XML part of an office file larger than this (uncompressed) is not read: a zip bomb.
MAX_XML_PART = 64 * 1024 * 1024


class Method(StrEnum):
    TEXT_LAYER = "text_layer"  # a born-digital PDF
    OCR = "ocr"  # at least one page read by OCR
    OFFICE = "office"  # Word, Excel, PowerPoint, OpenDocument


class Problem(StrEnum):
    """Why a document's text could not be read (the catalogue words each)."""

    NO_TEXT = "no_text"  # read, but no text in it (a blank page, a photo of no document)
    NEEDS_OCR = "needs_ocr"  # only OCR could read it, and OCR is off
    OLD_FORMAT = "old_format"  # doc, xls, ppt
    ENCRYPTED = "encrypted"  # a PDF with a password
    DAMAGED = "damaged"  # the file cannot be parsed
    UNSUPPORTED = "unsupported"  # a type the bot does not read


@dataclass(frozen=True, slots=True)
class OcrConfig:
    """How to run Tesseract: its binary and the languages (``ind+eng``)."""

    binary: str
    languages: str


@dataclass(frozen=True, slots=True)
class Extraction:
    """What was read: the text of each page (page 1 first), how, and what went wrong.

    ``problem`` is set when nothing could be read (then ``pages`` is empty or blank);
    ``unread_pages`` counts pages that needed OCR and did not get it (OCR off, or past
    :data:`MAX_OCR_PAGES`) in a document that is otherwise read.
    """

    pages: tuple[str, ...]
    method: Method | None
    problem: Problem | None = None
    unread_pages: int = 0

    @property
    def has_text(self) -> bool:
        return any(page.strip() for page in self.pages)


def ocr_languages(binary: str, wanted: str) -> tuple[str, list[str]]:
    """The languages of ``wanted`` (``ind+eng``) that Tesseract has, and those it lacks."""
    listed = subprocess.run(
        [binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
    )
    have = {line.strip() for line in listed.stdout.splitlines()[1:] if line.strip()}
    asked = [lang for lang in wanted.split("+") if lang]
    return "+".join(lang for lang in asked if lang in have), [
        lang for lang in asked if lang not in have
    ]


def find_tesseract() -> str | None:
    return shutil.which("tesseract")


def extract(path: Path, mime_type: str | None, ocr: OcrConfig | None) -> Extraction:
    """Read the text of the softcopy at ``path`` (``ocr`` None: no OCR)."""
    kind = _kind(path, mime_type)
    reader = _READERS.get(kind)
    if reader is None:
        if kind in {"doc", "xls", "ppt"}:
            return Extraction((), None, Problem.OLD_FORMAT)
        return Extraction((), None, Problem.UNSUPPORTED)
    try:
        result = reader(path, ocr)
    except (FileNotFoundError, PermissionError):
        raise  # the disk failed, not the document (so did Tesseract, SubprocessError): retry
    except (zipfile.BadZipFile, ElementTree.ParseError, OSError, ValueError, KeyError):
        return Extraction((), None, Problem.DAMAGED)
    return _capped(result)


# -- kinds ---------------------------------------------------------------------------------
_BY_MIME = {
    "application/pdf": "pdf",
    "image/jpeg": "image",
    "image/png": "image",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
}
_BY_SUFFIX = {
    ".pdf": "pdf",
    ".jpg": "image",
    ".jpeg": "image",
    ".png": "image",
    ".doc": "doc",
    ".xls": "xls",
    ".ppt": "ppt",
    ".docx": "docx",
    ".xlsx": "xlsx",
    ".pptx": "pptx",
    ".odt": "odt",
    ".ods": "ods",
}


def _kind(path: Path, mime_type: str | None) -> str | None:
    if mime_type and mime_type.lower() in _BY_MIME:
        return _BY_MIME[mime_type.lower()]
    return _BY_SUFFIX.get(path.suffix.lower())


# -- PDF -----------------------------------------------------------------------------------
def _pdf(path: Path, ocr: OcrConfig | None) -> Extraction:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            return Extraction((), None, Problem.ENCRYPTED)
        pages: list[str] = []
        scans: list[int] = []
        for number, page in enumerate(reader.pages):
            text = _clean(page.extract_text() or "")
            if sum(ch.isalnum() for ch in text) >= MIN_TEXT_LAYER_CHARS:
                pages.append(text)
                continue
            pages.append(text)
            scans.append(number)
        read_by_ocr = 0
        unread = 0
        for number in scans:
            if ocr is None or read_by_ocr >= MAX_OCR_PAGES:
                unread += 1
                continue
            image = _page_image(reader.pages[number])
            if image is None:
                continue  # a page with neither text nor a picture: blank
            pages[number] = _ocr_image(image, ocr)
            read_by_ocr += 1
    except PdfReadError:
        return Extraction((), None, Problem.DAMAGED)
    method = Method.OCR if read_by_ocr else Method.TEXT_LAYER
    if not any(page.strip() for page in pages):
        problem = Problem.NEEDS_OCR if unread else Problem.NO_TEXT
        return Extraction(tuple(pages), method if read_by_ocr else None, problem, unread)
    return Extraction(tuple(pages), method, None, unread)


def _page_image(page: object) -> Image.Image | None:
    """The largest picture on a PDF page: the scan or the photo of it."""
    best: Image.Image | None = None
    for item in page.images:  # type: ignore[attr-defined]
        image = item.image
        if image is not None and (best is None or _pixels(image) > _pixels(best)):
            best = image
    return best


def _pixels(image: Image.Image) -> int:
    return image.width * image.height


# -- images --------------------------------------------------------------------------------
def _image(path: Path, ocr: OcrConfig | None) -> Extraction:
    if ocr is None:
        return Extraction((), None, Problem.NEEDS_OCR)
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened)
        text = _ocr_image(image, ocr)
    if not text.strip():
        return Extraction((text,), Method.OCR, Problem.NO_TEXT)
    return Extraction((text,), Method.OCR)


def _ocr_image(image: Image.Image, ocr: OcrConfig) -> str:
    """One page through Tesseract (grey, at most :data:`MAX_OCR_SIDE` pixels a side),
    turned upright first by Tesseract's orientation detection."""
    if image.mode not in {"L", "1"}:
        image = image.convert("L")
    if max(image.size) > MAX_OCR_SIDE:
        image = image.copy()
        image.thumbnail((MAX_OCR_SIDE, MAX_OCR_SIDE))
    with tempfile.TemporaryDirectory(prefix="ppidbot-ocr-") as work:
        page = Path(work) / "page.png"
        image.save(page, format="PNG")
        turn = _upright_turn(page, ocr)
        if turn:
            image.rotate(-turn, expand=True, fillcolor=255).save(page, format="PNG")
        done = _tesseract(ocr, page, "-l", ocr.languages, "--psm", "1")
    if done.returncode != 0:
        raise subprocess.SubprocessError(f"tesseract exited with status {done.returncode}")
    return _clean(done.stdout.decode("utf-8", errors="replace"))


def _upright_turn(page: Path, ocr: OcrConfig) -> int:
    """Degrees (clockwise) that turn the page upright, by Tesseract's orientation and
    script detection; 0 when it is upright or too little text says which way is up."""
    done = _tesseract(ocr, page, "--psm", "0")
    if done.returncode != 0:
        return 0  # too few characters to tell
    found = _ROTATE.search(done.stdout.decode("utf-8", errors="replace"))
    confidence = _CONFIDENCE.search(done.stdout.decode("utf-8", errors="replace"))
    if found is None or confidence is None or float(confidence.group(1)) < MIN_OSD_CONFIDENCE:
        return 0
    return int(found.group(1)) % 360


def _tesseract(ocr: OcrConfig, page: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [ocr.binary, str(page), "stdout", *args],
        capture_output=True,
        timeout=OCR_PAGE_TIMEOUT,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        check=False,
    )


_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.MULTILINE)
_CONFIDENCE = re.compile(r"^Orientation confidence:\s*([\d.]+)", re.MULTILINE)


# -- office files --------------------------------------------------------------------------
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"


def _xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    info = archive.getinfo(name)
    if info.file_size > MAX_XML_PART:
        raise ValueError(f"{name} is too large to read")
    with archive.open(info) as part:
        return ElementTree.parse(part).getroot()


def _paragraphs(root: ElementTree.Element, paragraph: str, text: str) -> Iterator[str]:
    for element in root.iter(paragraph):
        line = "".join(node.text or "" for node in element.iter(text))
        if line.strip():
            yield line


def _docx(path: Path, ocr: OcrConfig | None) -> Extraction:
    with zipfile.ZipFile(path) as archive:
        root = _xml(archive, "word/document.xml")
        text = "\n".join(_paragraphs(root, f"{_W}p", f"{_W}t"))
    return _office((text,))


def _pptx(path: Path, ocr: OcrConfig | None) -> Extraction:
    with zipfile.ZipFile(path) as archive:
        slides = sorted(
            (name for name in archive.namelist() if _is_slide(name)),
            key=lambda name: int(name.rsplit("slide", 1)[1].split(".")[0]),
        )
        pages = tuple(
            "\n".join(_paragraphs(_xml(archive, name), f"{_A}p", f"{_A}t")) for name in slides
        )
    return _office(pages)


def _is_slide(name: str) -> bool:
    if not (name.startswith("ppt/slides/slide") and name.endswith(".xml")):
        return False
    return name[len("ppt/slides/slide") : -len(".xml")].isdigit()


def _odt(path: Path, ocr: OcrConfig | None) -> Extraction:
    with zipfile.ZipFile(path) as archive:
        root = _xml(archive, "content.xml")
    lines = []
    for element in root.iter():
        if element.tag in {f"{_TEXT}p", f"{_TEXT}h"}:
            line = "".join(element.itertext())
            if line.strip():
                lines.append(line)
    return _office(("\n".join(lines),))


def _ods(path: Path, ocr: OcrConfig | None) -> Extraction:
    with zipfile.ZipFile(path) as archive:
        root = _xml(archive, "content.xml")
    sheets = []
    for sheet in root.iter(f"{_TABLE}table"):
        rows = []
        for row in sheet.iter(f"{_TABLE}table-row"):
            cells = [
                " ".join("".join(p.itertext()) for p in cell.iter(f"{_TEXT}p"))
                for cell in row.iter(f"{_TABLE}table-cell")
            ]
            if any(cell.strip() for cell in cells):
                rows.append("\t".join(cell for cell in cells).rstrip())
        sheets.append("\n".join(rows))
    return _office(tuple(sheets))


def _xlsx(path: Path, ocr: OcrConfig | None) -> Extraction:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = []
        for sheet in workbook.worksheets:
            rows = []
            for row in sheet.iter_rows(values_only=True):
                cells = ["" if value is None else str(value) for value in row]
                if any(cell.strip() for cell in cells):
                    rows.append("\t".join(cells).rstrip())
            sheets.append("\n".join(rows))
    finally:
        workbook.close()
    return _office(tuple(sheets))


def _office(pages: tuple[str, ...]) -> Extraction:
    pages = tuple(_clean(page) for page in pages) or ("",)
    if not any(page.strip() for page in pages):
        return Extraction(pages, Method.OFFICE, Problem.NO_TEXT)
    return Extraction(pages, Method.OFFICE)


_READERS: dict[str | None, Callable[[Path, OcrConfig | None], Extraction]] = {
    "pdf": _pdf,
    "image": _image,
    "docx": _docx,
    "xlsx": _xlsx,
    "pptx": _pptx,
    "odt": _odt,
    "ods": _ods,
}


# -- text ----------------------------------------------------------------------------------
def _clean(text: str) -> str:
    """Plain text: no NUL or form feeds, no trailing blanks, at most two empty lines."""
    text = text.replace("\x00", "").replace("\x0c", "\n").replace("\r\n", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    kept: list[str] = []
    blank = 0
    for line in lines:
        blank = blank + 1 if not line else 0
        if blank <= 1:
            kept.append(line)
    return "\n".join(kept).strip()


def _capped(result: Extraction) -> Extraction:
    pages = []
    budget = MAX_TEXT_CHARS
    for page in result.pages:
        page = page[: min(MAX_PAGE_CHARS, budget)]
        budget -= len(page)
        pages.append(page)
    return Extraction(tuple(pages), result.method, result.problem, result.unread_pages)
