"""What a softcopy may be, and whether its content is what its type says.

A file is accepted by its extension (or, without one, by its MIME type) and then inspected
after it is written and before it is kept: a PDF starts with ``%PDF-``, Word, Excel and
PowerPoint files are either the old OLE2 compound files or OOXML zip packages whose
``[Content_Types].xml`` names the right main part, ODF files are zip packages whose
``mimetype`` says which, and images are opened and verified by Pillow. A 13-byte ".docx", a
".pdf" that is no PDF or a picture that is none is refused with a clear message.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from PIL import Image

from sop.errors import FileRejected

#: What a softcopy may be: its extension, and the MIME type it is stored with.
ACCEPTED: dict[str, str] = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
#: The extension for a MIME type (the first one listed), for files sent without a name.
EXTENSION_OF: dict[str, str] = {mime: ext for ext, mime in reversed(ACCEPTED.items())}

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PDF_HEADER_WINDOW = 1024  # readers accept the header anywhere in the first kilobyte
_MAX_MANIFEST = 1024 * 1024  # a [Content_Types].xml or manifest larger than this is no office file
_OOXML_MAIN = {
    ".docx": re.compile(
        rb"(wordprocessingml\.(document|template)|ms-word\.(document|template)\.macroenabled)"
        rb"\.main\+xml",
        re.IGNORECASE,
    ),
    ".xlsx": re.compile(
        rb"(spreadsheetml\.(sheet|template)|ms-excel\.(sheet|template)\.macroenabled)\.main\+xml",
        re.IGNORECASE,
    ),
    ".pptx": re.compile(
        rb"(presentationml\.(presentation|slideshow|template)"
        rb"|ms-powerpoint\.(presentation|slideshow|template)\.macroenabled)\.main\+xml",
        re.IGNORECASE,
    ),
}
_KIND_NAMES = {
    ".pdf": "PDF",
    ".doc": "dokumen Word",
    ".docx": "dokumen Word",
    ".xls": "lembar kerja Excel",
    ".xlsx": "lembar kerja Excel",
    ".ppt": "presentasi PowerPoint",
    ".pptx": "presentasi PowerPoint",
    ".odt": "dokumen ODT",
    ".ods": "lembar kerja ODS",
    ".jpg": "gambar JPG",
    ".jpeg": "gambar JPG",
    ".png": "gambar PNG",
}


class NotWhatItSays(Exception):
    """Raised by an inspector: the content is not what the type says (plain reason)."""


class ContentMismatch(FileRejected):
    """A softcopy whose content does not match its type; nothing was stored."""

    def __init__(self, name: str, extension: str) -> None:
        super().__init__(
            f"Isi berkas {name} bukan {_KIND_NAMES.get(extension, extension)} yang utuh, "
            f"walaupun namanya berakhiran {extension}. Berkas tidak disimpan. Periksa "
            "berkasnya (mungkin rusak, terpotong, atau jenisnya lain), lalu kirim lagi."
        )
        self.extension = extension


class UnsupportedType(FileRejected):
    def __init__(self, kind: str) -> None:
        super().__init__(
            f"Jenis berkas {kind} tidak diterima, berkas tidak disimpan. Kirim PDF, Word "
            "(doc/docx), Excel (xls/xlsx), PowerPoint (ppt/pptx), ODT/ODS, atau gambar JPG/PNG."
        )


@dataclass(frozen=True, slots=True)
class SoftcopyType:
    """An accepted kind of softcopy: its extension and the MIME type stored with it."""

    extension: str
    mime_type: str

    def inspector(self, name: str) -> Callable[[BinaryIO], None]:
        """The check of a written file of this type; raises ContentMismatch naming ``name``."""
        check = _CHECKS[self.extension]
        extension = self.extension

        def inspect(handle: BinaryIO) -> None:
            try:
                check(handle)
            except NotWhatItSays as exc:
                raise ContentMismatch(name, extension) from exc

        return inspect


def softcopy_type(name: str, mime_type: str | None) -> SoftcopyType:
    """The accepted type of a file called ``name`` (or, without an extension, of its MIME
    type); UnsupportedType for anything else."""
    extension = PurePosixPath(name).suffix.lower()
    if not extension and mime_type in EXTENSION_OF:
        extension = EXTENSION_OF[mime_type]
    if extension not in ACCEPTED:
        raise UnsupportedType(extension or mime_type or "tanpa nama")
    return SoftcopyType(extension, ACCEPTED[extension])


# -- the checks ------------------------------------------------------------------------------
def _pdf(handle: BinaryIO) -> None:
    if b"%PDF-" not in handle.read(_PDF_HEADER_WINDOW):
        raise NotWhatItSays("no %PDF- header in the first kilobyte")


def _ole2(handle: BinaryIO) -> None:
    if handle.read(len(_OLE2_MAGIC)) != _OLE2_MAGIC:
        raise NotWhatItSays("not an OLE2 compound file")


def _member(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _MAX_MANIFEST:
        raise NotWhatItSays(f"{name} is implausibly large")
    with archive.open(info) as member:
        return member.read(_MAX_MANIFEST + 1)


def _zip_check(handle: BinaryIO, check: Callable[[zipfile.ZipFile], None]) -> None:
    try:
        with zipfile.ZipFile(handle) as archive:
            check(archive)
    except NotWhatItSays:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise NotWhatItSays(f"not a readable zip package: {exc}") from exc


def _ooxml(extension: str) -> Callable[[BinaryIO], None]:
    pattern = _OOXML_MAIN[extension]

    def check(archive: zipfile.ZipFile) -> None:
        types = _member(archive, "[Content_Types].xml")
        if types is None or not pattern.search(types):
            raise NotWhatItSays(f"no {extension} main part in [Content_Types].xml")

    return lambda handle: _zip_check(handle, check)


def _odf(mime_type: str) -> Callable[[BinaryIO], None]:
    wanted = mime_type.encode()

    def check(archive: zipfile.ZipFile) -> None:
        declared = _member(archive, "mimetype")
        if declared is not None:
            if declared.strip() != wanted:
                raise NotWhatItSays(f"mimetype is {declared[:80]!r}")
            return
        manifest = _member(archive, "META-INF/manifest.xml")
        if manifest is None or wanted not in manifest:
            raise NotWhatItSays("neither mimetype nor a manifest naming the type")

    return lambda handle: _zip_check(handle, check)


def _image(expected_format: str) -> Callable[[BinaryIO], None]:
    def check(handle: BinaryIO) -> None:
        try:
            with Image.open(handle) as image:
                found = image.format
                image.verify()
        except Exception as exc:  # Pillow raises many kinds for a broken picture
            raise NotWhatItSays(f"not a readable image: {exc}") from exc
        if found != expected_format:
            raise NotWhatItSays(f"a {found} image, not {expected_format}")

    return check


_CHECKS: dict[str, Callable[[BinaryIO], None]] = {
    ".pdf": _pdf,
    ".doc": _ole2,
    ".xls": _ole2,
    ".ppt": _ole2,
    ".docx": _ooxml(".docx"),
    ".xlsx": _ooxml(".xlsx"),
    ".pptx": _ooxml(".pptx"),
    ".odt": _odf(ACCEPTED[".odt"]),
    ".ods": _odf(ACCEPTED[".ods"]),
    ".jpg": _image("JPEG"),
    ".jpeg": _image("JPEG"),
    ".png": _image("PNG"),
}
