"""People and access: invitations (/undang) and the list of people (/pengguna)."""

from __future__ import annotations

from datetime import datetime

from bot.texts import ROLE_NAMES, h, wib
from sop.model import Actor, Division, Invitation, Role

ADMIN_ONLY = "Maaf, perintah ini hanya untuk admin PPID."

# -- /undang ---------------------------------------------------------------------------
CHOOSE_ROLE = (
    "<b>Undang pengguna baru</b>\n"
    "Pilih peran untuk orang yang akan diundang. Tautan undangan berlaku 24 jam dan "
    "hanya dapat dipakai satu kali.\n"
    "Ketik /batal untuk membatalkan."
)
CHOOSE_DIVISION = (
    "<b>Undang Petugas PPID</b>\n"
    "Pilih bagian (divisi) tempat Petugas PPID ini bertugas. Ketik /batal untuk membatalkan."
)
NO_DIVISIONS = (  # shown as a button alert: plain text, at most 200 characters
    "Belum ada bagian aktif, jadi Petugas PPID belum dapat diundang. Tambahkan bagian "
    "lewat baris perintah: ppidbot division add"
)
USE_BUTTONS = "Silakan pilih dengan tombol pada pesan di atas, atau ketik /batal."
INVITE_CANCELLED = "Pembuatan undangan dibatalkan. Tidak ada tautan yang dibuat."
BUTTON_BACK = "‹ Kembali"
BUTTON_CANCEL = "Batal"
BUTTON_SHARE = "📤 Kirim tautan ke calon pengguna"
SHARE_TEXT = "Undangan ppidbot PPID KPU Provinsi Sumatera Barat"


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def invitation_created(invitation: Invitation, link: str, division: Division | None) -> str:
    role = ROLE_NAMES[invitation.role]
    where = f" — bagian <b>{h(division.name)}</b>" if division is not None else ""
    return (
        f"✅ Tautan undangan untuk <b>{role}</b>{where}:\n\n"
        f"{h(link)}\n\n"
        f"Berlaku sampai {wib(invitation.expires_at)}, sekali pakai.\n"
        "Kirimkan tautan ini hanya kepada orang yang bersangkutan: siapa pun yang membukanya "
        f"pertama kali terdaftar sebagai {role}. Jangan membukanya sendiri."
    )


# -- /pengguna -------------------------------------------------------------------------
NO_PEOPLE = "Belum ada pengguna yang memiliki peran. Buat undangan dengan /undang."
BUTTON_PREVIOUS = "‹ Sebelumnya"
BUTTON_NEXT = "Berikutnya ›"
BUTTON_CONFIRM_REVOKE = "Ya, cabut"
REVOKE_CANCELLED = "Pencabutan peran dibatalkan. Tidak ada yang diubah."
PERSON_GONE = "Pengguna tersebut tidak ditemukan."
PEOPLE_FOOTER = "Tekan tombol <i>Cabut</i> untuk mencabut suatu peran. Undang orang baru: /undang."
ROLE_GONE = "Orang ini sudah tidak memiliki peran tersebut."


def people_page(people: list[Actor], divisions: dict[int, str], page: int, pages: int) -> str:
    """One page of the people list: name, @username, roles and division."""
    header = "<b>Pengguna terdaftar</b>"
    if pages > 1:
        header += f" (halaman {page + 1} dari {pages})"
    lines = [header, ""]
    for person in people:
        lines.append(f"• {person_label(person)}")
        lines.append(f"   {roles_line(person, divisions)}")
    lines.append("")
    lines.append(PEOPLE_FOOTER)
    return "\n".join(lines)


def person_label(person: Actor) -> str:
    label = f"<b>{h(person.full_name)}</b>"
    if person.other_telegram_name:
        label += f" (Telegram: {h(person.other_telegram_name)})"
    if person.username:
        label += f" @{h(person.username)}"
    return label


def roles_line(person: Actor, divisions: dict[int, str]) -> str:
    parts = []
    for role in Role:
        if role in person.roles:
            name = ROLE_NAMES[role]
            if role is Role.PETUGAS_PPID and person.division_id is not None:
                name += f" ({h(divisions.get(person.division_id, '-'))})"
            parts.append(name)
    return ", ".join(parts) or "(tanpa peran)"


def revoke_button(role: Role, person: Actor) -> str:
    name = person.full_name if len(person.full_name) <= 30 else person.full_name[:29] + "…"
    return f"Cabut {ROLE_NAMES[role]} – {name}"


def confirm_revoke(role: Role, person: Actor) -> str:
    return (
        f"Cabut peran <b>{ROLE_NAMES[role]}</b> dari {person_label(person)}?\n"
        "Setelah dicabut, orang ini tidak dapat lagi menjalankan tugas peran tersebut. "
        "Berkas dan riwayat yang sudah ada tetap tersimpan."
    )


def revoked(role: Role, person: Actor, at: datetime) -> str:
    remaining = ", ".join(ROLE_NAMES[r] for r in Role if r in person.roles)
    rest = (
        f"Peran yang masih dimiliki: {remaining}."
        if remaining
        else "Orang ini tidak lagi memiliki peran dan tidak dapat memakai bot."
    )
    return (
        f"✅ Peran <b>{ROLE_NAMES[role]}</b> dicabut dari {person_label(person)} "
        f"({wib(at)}).\n{rest}"
    )


def revoked_notice(role: Role) -> str:
    return (
        f"Peran Anda sebagai <b>{ROLE_NAMES[role]}</b> di ppidbot telah dicabut oleh admin PPID. "
        "Bila ini keliru, silakan hubungi admin PPID."
    )
