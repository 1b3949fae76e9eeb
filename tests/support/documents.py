"""Real documents of every accepted softcopy type, made in memory for the tests."""

from __future__ import annotations

import io
import zipfile

import img2pdf
from openpyxl import Workbook
from PIL import Image


def jpeg(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (60, 80)) -> bytes:
    """A phone photo of a page: a real JPEG made by Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return buffer.getvalue()


def png(color: tuple[int, int, int] = (30, 200, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), color).save(buffer, format="PNG")
    return buffer.getvalue()


def pdf(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real one-page PDF (a picture of a page, as img2pdf makes it)."""
    return img2pdf.convert(jpeg(color))


def minimal_pdf(label: str) -> bytes:
    """A small PDF-headed document whose bytes differ by ``label``."""
    return f"%PDF-1.4\n% {label}\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".encode()


def _package(files: dict[str, str], *, first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if first is not None:  # ODF: "mimetype" first and uncompressed
            archive.writestr(zipfile.ZipInfo("mimetype"), files.pop("mimetype"), zipfile.ZIP_STORED)
        for name, content in files.items():
            archive.writestr(name, content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="{target}"/></Relationships>'
)


def _content_types(part: str, main_type: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{main_type}"/></Types>'
    )


def docx(text: str = "Nota dinas") -> bytes:
    """A minimal Word document, structured as Word writes one."""
    part = "word/document.xml"
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
    )
    return _package(
        {
            "[Content_Types].xml": _content_types(part, main),
            "_rels/.rels": _RELS.format(target=part),
            part: body,
        }
    )


def pptx() -> bytes:
    part = "ppt/presentation.xml"
    main = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><p:presentation '
        'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>'
    )
    return _package(
        {
            "[Content_Types].xml": _content_types(part, main),
            "_rels/.rels": _RELS.format(target=part),
            part: body,
        }
    )


def xlsx() -> bytes:
    """A real workbook written by openpyxl."""
    book = Workbook()
    book.active.append(["No", "Informasi"])  # type: ignore[union-attr]
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _odf(mime: str) -> bytes:
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mime}"/>'
        "</manifest:manifest>"
    )
    return _package(
        {"mimetype": mime, "META-INF/manifest.xml": manifest, "content.xml": "<office/>"},
        first="mimetype",
    )


def odt() -> bytes:
    return _odf("application/vnd.oasis.opendocument.text")


def ods() -> bytes:
    return _odf("application/vnd.oasis.opendocument.spreadsheet")


def ole2(kind: str = "doc") -> bytes:
    """The header sector of an OLE2 compound file (.doc/.xls/.ppt), padded to 512 bytes."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff"
    return (header + kind.encode()).ljust(512, b"\x00")


#: One legitimate file of every accepted extension, with its MIME type.
EVERY_TYPE: dict[str, tuple[bytes, str]] = {
    ".pdf": (pdf(), "application/pdf"),
    ".doc": (ole2("doc"), "application/msword"),
    ".docx": (
        docx(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ".xls": (ole2("xls"), "application/vnd.ms-excel"),
    ".xlsx": (xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".ppt": (ole2("ppt"), "application/vnd.ms-powerpoint"),
    ".pptx": (
        pptx(),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ".odt": (odt(), "application/vnd.oasis.opendocument.text"),
    ".ods": (ods(), "application/vnd.oasis.opendocument.spreadsheet"),
    ".jpg": (jpeg(), "image/jpeg"),
    ".jpeg": (jpeg((1, 2, 3)), "image/jpeg"),
    ".png": (png(), "image/png"),
}
