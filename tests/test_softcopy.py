"""Content must match type: every accepted type's real file passes, impostors are refused."""

from __future__ import annotations

import io

import pytest

from sop.errors import FileRejected
from sop.softcopy import ContentMismatch, UnsupportedType, softcopy_type
from tests.support import documents


def inspect(name: str, data: bytes, mime: str | None = None) -> None:
    softcopy_type(name, mime).inspector(name)(io.BytesIO(data))


@pytest.mark.parametrize("extension", sorted(documents.EVERY_TYPE))
def test_a_real_file_of_every_accepted_type_passes(extension: str) -> None:
    data, mime = documents.EVERY_TYPE[extension]
    kind = softcopy_type(f"berkas{extension}", None)
    assert kind.mime_type == mime
    inspect(f"berkas{extension}", data)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("nota.docx", b"PK\x03\x04 hello"),  # the 13-byte ".docx" of the issue
        ("nota.docx", documents.xlsx()),  # a workbook named as a Word document
        ("nota.docx", documents.docx()[:-40]),  # a cut-off package
        ("rekap.xlsx", documents.docx()),
        ("slide.pptx", documents.odt()),
        ("surat.pdf", b"just some text, not a PDF"),
        ("surat.pdf", documents.jpeg()),
        ("lama.doc", documents.pdf()),
        ("lama.xls", b"\xd0\xcf\x11"),
        ("teks.odt", documents.ods()),
        ("teks.odt", documents.docx()),
        ("foto.jpg", b"\xff\xd8\xff not really"),
        ("foto.jpg", documents.png()),  # a PNG named .jpg
        ("gambar.png", documents.pdf()),
        ("gambar.png", documents.png()[:30]),
    ],
)
def test_content_that_does_not_match_its_type_is_refused(name: str, data: bytes) -> None:
    with pytest.raises(ContentMismatch) as caught:
        inspect(name, data)
    assert isinstance(caught.value, FileRejected)
    assert name in caught.value.message
    assert "tidak disimpan" in caught.value.message


def test_the_type_comes_from_the_extension_or_else_the_mime_type() -> None:
    assert softcopy_type("Surat.PDF", None).extension == ".pdf"
    assert softcopy_type("tanpa-ekstensi", "application/pdf").extension == ".pdf"
    with pytest.raises(UnsupportedType, match=r"\.exe"):
        softcopy_type("setup.exe", "application/x-msdownload")
    with pytest.raises(UnsupportedType, match="tanpa nama"):
        softcopy_type("", None)
