"""The TrueType fonts of the PDFs: DejaVu (Sans, Sans Bold, Sans Mono), which render
Indonesian text and the symbols used. They come with matplotlib, a runtime dependency
(``matplotlib/mpl-data/fonts/ttf``, licence ``LICENSE_DEJAVU`` beside them), so a fresh
machine needs no font package; Debian's ``fonts-dejavu-core`` is the fallback."""

from __future__ import annotations

from functools import cache
from pathlib import Path

FAMILY = "DejaVu"
MONO = "DejaVuMono"
FILES = {
    (FAMILY, ""): "DejaVuSans.ttf",
    (FAMILY, "B"): "DejaVuSans-Bold.ttf",
    (MONO, ""): "DejaVuSansMono.ttf",
}
_DEBIAN = Path("/usr/share/fonts/truetype/dejavu")


class FontMissing(RuntimeError):
    pass


@cache
def font_dir() -> Path:
    """The directory holding the DejaVu files (matplotlib's, else Debian's)."""
    candidates = []
    try:
        import matplotlib

        candidates.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf")
    except ImportError:  # pragma: no cover - matplotlib is a runtime dependency
        pass
    candidates.append(_DEBIAN)
    for directory in candidates:
        if all((directory / name).is_file() for name in FILES.values()):
            return directory
    raise FontMissing(
        "DejaVu fonts not found (matplotlib's mpl-data/fonts/ttf or Debian's fonts-dejavu-core)"
    )


def font_files() -> dict[tuple[str, str], Path]:
    directory = font_dir()
    return {key: directory / name for key, name in FILES.items()}
