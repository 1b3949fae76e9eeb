"""Real page images and PDFs with a known text, made in the test: printed pages rendered with
Pillow in a few fonts, photographed like a phone does it (turned, skewed, blurred, noisy,
unevenly lit, JPEG), scans combined into a PDF, and born-digital PDFs with a text layer."""

from __future__ import annotations

import io
import random
import shutil
from pathlib import Path

import img2pdf
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

#: A4 at 150 dpi: what a phone photo of a page holds, after cropping.
PAGE = (1240, 1754)
_FONT_FILES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
]


def tesseract_or_skip() -> str:
    """The tesseract binary with the Indonesian model, or skip with the reason."""
    binary = shutil.which("tesseract")
    if binary is None:
        pytest.skip(
            "tesseract not installed (Debian: apt-get install tesseract-ocr tesseract-ocr-ind "
            "tesseract-ocr-eng; .ci/run installs them)"
        )
    from sop.extraction import ocr_languages

    _, missing = ocr_languages(binary, "ind+eng")
    if "ind" in missing:
        pytest.skip("Tesseract's Indonesian model is missing (Debian: tesseract-ocr-ind)")
    return binary


def fonts() -> list[ImageFont.FreeTypeFont | ImageFont.ImageFont]:
    """Pillow's own scalable font, and the system's serif and sans fonts where present."""
    found: list[ImageFont.FreeTypeFont | ImageFont.ImageFont] = [ImageFont.load_default(size=34)]
    for path in _FONT_FILES:
        if Path(path).exists():
            found.append(ImageFont.truetype(path, 32))
    return found


def printed_page(
    lines: list[str], font: ImageFont.FreeTypeFont | ImageFont.ImageFont
) -> Image.Image:
    """A white page with ``lines`` printed in black, as a printer makes it."""
    page = Image.new("L", PAGE, 255)
    draw = ImageDraw.Draw(page)
    y = 140
    for line in lines:
        draw.text((110, y), line, font=font, fill=0)
        y += 64
    return page


def photographed(page: Image.Image, *, turn: float, seed: int = 7) -> Image.Image:
    """The page as a phone photographs it: turned by ``turn`` degrees (90: sideways),
    slightly out of focus, unevenly lit, with sensor noise, on a grey desk."""
    rng = random.Random(seed)
    photo = page.convert("RGB").rotate(turn, expand=True, fillcolor=(120, 118, 110))
    shade = Image.linear_gradient("L").resize(photo.size).point(lambda v: 200 + v // 5)
    photo = Image.composite(photo, Image.new("RGB", photo.size, (0, 0, 0)), shade)
    photo = photo.filter(ImageFilter.GaussianBlur(0.9))
    pixels = photo.load()
    assert pixels is not None
    for _ in range(photo.width * photo.height // 60):
        x, y = rng.randrange(photo.width), rng.randrange(photo.height)
        v = rng.randrange(256)
        pixels[x, y] = (v, v, v)
    return photo


def jpeg_bytes(image: Image.Image, quality: int = 72) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def scanned_pdf(pages: list[Image.Image]) -> bytes:
    """Pages combined into a PDF of pictures, as the bot combines photos (img2pdf)."""
    return img2pdf.convert([jpeg_bytes(page) for page in pages])


def text_pdf(pages: list[list[str]]) -> bytes:
    """A born-digital PDF: each page's lines in Helvetica, with a real text layer."""
    objects: list[bytes] = []
    kids = []
    font_id = 3 + 2 * len(pages)
    for index, lines in enumerate(pages):
        page_id, content_id = 3 + 2 * index, 4 + 2 * index
        kids.append(f"{page_id} 0 R")
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 770 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content_id} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    head = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode(),
    ]
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    everything = [*head, *objects, font]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(everything, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(everything) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    size = len(everything) + 1
    out.write(f"trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()
