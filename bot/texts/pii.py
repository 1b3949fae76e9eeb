"""Personal-data hints (``sop.pii``): what the Petugas PPID reads before confirming step 1,
and the consequence-test sentence the bot suggests. Only masked samples are ever shown."""

from __future__ import annotations

from bot.texts import h
from sop.model import PASAL17
from sop.pii import Consequence, PiiFinding, PiiHints, PiiKind, PiiSuggestion

#: The name of each kind, for "12 NIK", "2 nomor KK".
KIND_NAMES = {
    PiiKind.NIK: "NIK",
    PiiKind.KK: "nomor KK",
    PiiKind.PHONE: "nomor telepon",
    PiiKind.EMAIL: "alamat surel",
    PiiKind.BIRTH_DATE: "tanggal lahir",
}
#: At most this many page numbers are listed per finding.
PAGES_SHOWN = 5

TITLE = "🔎 <b>Petunjuk data pribadi</b> (dibaca otomatis dari softcopy, mohon diperiksa):"
NOTHING_FOUND = (
    "🔎 Dalam teks softcopy tidak ditemukan NIK, nomor KK, nomor telepon, alamat surel, "
    "atau tanggal lahir. Pemeriksaan otomatis ini tidak menggantikan pemeriksaan Anda."
)


def join_words(parts: list[str]) -> str:
    """``a``, ``a dan b``, ``a, b, dan c``."""
    if len(parts) <= 2:
        return " dan ".join(parts)
    return ", ".join(parts[:-1]) + ", dan " + parts[-1]


def pages_text(pages: tuple[int, ...]) -> str:
    """``hlm. 2``, ``hlm. 1, 3, 4``, ``hlm. 1, 2, 3, 4, 5, dan 7 halaman lain``."""
    shown = ", ".join(str(page) for page in pages[:PAGES_SHOWN])
    more = len(pages) - PAGES_SHOWN
    return f"hlm. {shown}" + (f", dan {more} halaman lain" if more > 0 else "")


def amount(finding: PiiFinding) -> str:
    """``12 NIK``, ``1 alamat surel``."""
    return f"{finding.count} {KIND_NAMES[finding.kind]}"


def finding_line(finding: PiiFinding) -> str:
    samples = ", ".join(f"<code>{h(sample)}</code>" for sample in finding.samples)
    example = f", mis. {samples}" if samples and finding.kind is not PiiKind.BIRTH_DATE else ""
    return f"• {amount(finding)}{example} · {pages_text(finding.pages)}"


def consequence_sentence(suggestion: PiiSuggestion) -> str:
    """The suggested consequence test (plain text, fit for the record's field)."""
    if suggestion.consequence is Consequence.PERSONAL_DATA:
        found = join_words([amount(finding) for finding in suggestion.findings])
        return (
            f"Informasi ini memuat data pribadi orang perseorangan, yaitu {found}, yang "
            "apabila dibuka dapat mengungkap rahasia pribadi dan membuka peluang "
            "penyalahgunaan identitas yang merugikan pemiliknya; karena itu dikecualikan "
            f"berdasarkan Pasal 17 huruf {suggestion.letter} UU 14/2008 dan dilindungi "
            "UU 27/2022 tentang Pelindungan Data Pribadi."
        )
    raise ValueError(f"no sentence for consequence {suggestion.consequence!r}")


def hints(hints: PiiHints) -> str:
    """The hints block: what was found, the letter and the consequence test suggested."""
    suggestion = hints.suggestion
    if suggestion is None:
        return NOTHING_FOUND
    lines = [TITLE, *(finding_line(finding) for finding in hints.findings), ""]
    lines.append(
        f"Data seperti ini biasanya dikecualikan berdasarkan <b>Pasal 17 huruf "
        f"{suggestion.letter}</b> UU 14/2008 ({PASAL17[suggestion.letter]})."
    )
    lines.append(f"Saran uji konsekuensi: <i>{h(consequence_sentence(suggestion))}</i>")
    lines.append("Anda boleh memakai saran ini atau mengabaikannya.")
    return "\n".join(lines)
