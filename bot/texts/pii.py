"""Personal-data hints (``sop.pii``): what the Petugas PPID reads before confirming step 1,
and the consequence-test sentence the bot suggests. Only masked samples are ever shown."""

from __future__ import annotations

from collections.abc import Sequence

from bot.texts import h
from sop.document_text import FAILED, DocumentText, combined_hints
from sop.extraction import Method, Problem
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


# -- the text read from softcopies (sop.document_text) -------------------------------------
METHOD_WORDS = {
    Method.TEXT_LAYER: "teks PDF",
    Method.OCR: "dibaca dengan OCR",
    Method.OFFICE: "teks dokumen",
}
PROBLEM_WORDS = {
    Problem.NO_TEXT: "tidak ada teks yang terbaca",
    Problem.NEEDS_OCR: "foto/pindaian; OCR tidak aktif, teksnya belum dibaca",
    Problem.OLD_FORMAT: "format lama (doc/xls/ppt), teksnya tidak dibaca",
    Problem.ENCRYPTED: "PDF terkunci kata sandi, teksnya tidak dapat dibaca",
    Problem.DAMAGED: "berkas tidak dapat diurai, teksnya tidak dapat dibaca",
    Problem.UNSUPPORTED: "jenis berkas ini tidak dibaca",
    FAILED: "teksnya tidak dapat dibaca (pembacaan gagal berulang kali)",
}
TEXTS_TITLE = "📄 <b>Teks softcopy</b>"
BUTTON_USE_SUGGESTION = "💡 Pakai saran (huruf h, uji konsekuensi)"
SUGGESTION_USED = (
    "💡 Saran dipakai: Pasal 17 huruf h dan kalimat uji konsekuensinya ditambahkan ke data "
    "berkas. Periksa lagi sebelum menjawab."
)
SUGGESTION_REPLACED = (
    "💡 Saran dipakai: Pasal 17 huruf h ditambahkan, dan uji konsekuensi <b>diganti</b> "
    "dengan kalimat saran (teks sebelumnya terlalu panjang untuk ditambah). Periksa lagi "
    "sebelum menjawab; ubah lewat Ubah data bila perlu."
)
STORED_ANYWAY = "Softcopy tetap tersimpan utuh seperti yang dikirim."


def document_line(document: DocumentText) -> str:
    """``• daftar.pdf: 3 halaman, dibaca dengan OCR``."""
    name = h(document.name)
    if document.waiting:
        return f"• {name}: ⏳ sedang dibaca…"
    if not document.read:
        return f"• {name}: teks belum dibaca"
    if document.problem:
        words = PROBLEM_WORDS.get(document.problem, PROBLEM_WORDS[Problem.DAMAGED])
        return f"• {name}: {words}"
    parts = []
    if document.pages:
        parts.append(f"{document.pages} halaman")
    if document.method:
        parts.append(METHOD_WORDS[document.method])
    if document.unread_pages:
        parts.append(f"{document.unread_pages} halaman pindaian belum dibaca (OCR tidak aktif)")
    return f"• {name}: " + ", ".join(parts)


def texts_block(documents: Sequence[DocumentText]) -> str | None:
    """The texts' state and the hints, for the record's card and the step-1 confirmation;
    None when the record has no softcopy."""
    if not documents:
        return None
    lines = [f"{TEXTS_TITLE}:", *(document_line(d) for d in documents)]
    found = combined_hints(list(documents))
    if found is not None:
        lines += ["", hints(found)]
    elif any(d.waiting for d in documents):
        lines += ["", "Petunjuk data pribadi ditampilkan setelah teksnya selesai dibaca."]
    return "\n".join(lines)


def text_ready(number: str, title: str, documents: Sequence[DocumentText]) -> str:
    """To the sender: the softcopies of a record were read (or could not be)."""
    unreadable = any(d.problem for d in documents)
    lines = [
        f"📄 Teks softcopy <b>{h(number)}</b> · {h(title)} selesai dibaca:",
        *(document_line(d) for d in documents),
    ]
    if unreadable:
        lines.append(STORED_ANYWAY)
    found = combined_hints(list(documents))
    if found is not None:
        lines += ["", hints(found)]
    return "\n".join(lines)
