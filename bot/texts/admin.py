"""People and access: invitations (/undang) and the list of people (/pengguna)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.texts import ROLE_NAMES, STEP_NAMES, h, wib
from bot.texts.fitting import button_text, shorten
from bot.texts.notices import REASONS
from sop.model import Actor, Division, Invitation, Role
from sop.outbox import Reach
from sop.people import OpenInvitation, Redeemed, RevocationWarning, WrongCodes

ADMIN_ONLY = "Maaf, perintah ini hanya untuk admin PPID."

# -- /undang ---------------------------------------------------------------------------
CHOOSE_ROLE = (
    "<b>Undang pengguna baru</b>\n"
    "Pilih peran untuk orang yang akan diundang. Tautan undangan berlaku 24 jam dan "
    "hanya dapat dipakai satu kali. Undangan yang belum dipakai: /undangan.\n"
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
BUTTON_SKIP_NAME = "Lewati (pakai nama Telegram-nya)"
NAME_AGAIN = "Tulis lagi namanya, atau tekan <i>Lewati</i> pada pesan di atas."
NAME_AS_TEXT = (
    "Tulis nama orang yang diundang sebagai pesan teks, atau tekan <i>Lewati</i> pada pesan "
    "di atas. Ketik /batal untuk membatalkan."
)
DIVISION_GONE = "Bagian itu tidak ditemukan lagi. Pilih bagian lain."


def ask_name(role: Role, division: Division | None) -> str:
    where = f" — bagian <b>{h(division.name)}</b>" if division is not None else ""
    return (
        f"<b>Undang {ROLE_NAMES[role]}</b>{where}\n"
        "Tulis nama resmi orang yang diundang, seperti akan tampil di riwayat dan daftar "
        "pengguna (nama Telegram-nya tidak akan menggantikannya). Atau tekan "
        "<i>Lewati</i> untuk memakai nama Telegram-nya.\n"
        "Ketik /batal untuk membatalkan."
    )


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
    for_whom = f" atas nama <b>{h(invitation.name)}</b>" if invitation.name else ""
    return (
        f"✅ Tautan undangan untuk <b>{role}</b>{where}{for_whom}:\n\n"
        f"{h(link)}\n\n"
        f"Berlaku sampai {wib(invitation.expires_at)}, sekali pakai.\n"
        "Kirimkan tautan ini hanya kepada orang yang bersangkutan: siapa pun yang membukanya "
        f"pertama kali terdaftar sebagai {role}. Jangan membukanya sendiri."
    )


def invitation_used(redeemed: Redeemed, person: Actor, divisions: dict[int, str]) -> str:
    """To the admins: who used an invitation, for which role (and all their roles now)."""
    where = f" (bagian {h(redeemed.division_name)})" if redeemed.division_name else ""
    by = f" Undangan dibuat oleh {h(redeemed.invited_by_name)}." if redeemed.invited_by_name else ""
    roles = f"\nSeluruh perannya: {roles_line(person, divisions)}." if len(person.roles) > 1 else ""
    return (
        f"🔔 Undangan dipakai: {person_label(person)} kini terdaftar sebagai "
        f"<b>{ROLE_NAMES[redeemed.role]}</b>{where}.{by}{roles}\n"
        "Daftar pengguna: /pengguna."
    )


def wrong_codes_notice(attempt: WrongCodes, tz: ZoneInfo) -> str:
    """To the admins, once per account per hour: someone is guessing invitation codes."""
    who = f"<b>{h(attempt.telegram_name)}</b>"
    if attempt.username:
        who += f" @{h(attempt.username)}"
    return (
        f"⚠️ {who} (Telegram id <code>{attempt.telegram_id}</code>) mengirim "
        f"{attempt.attempts} kode undangan yang salah dalam satu jam. Akun ini tidak dapat "
        f"memakai kode undangan sampai {wib(attempt.until, tz)}. Bila orang ini memang "
        "diundang, buat tautan baru dengan /undang; percobaan tercatat di jejak audit."
    )


# -- /undangan ---------------------------------------------------------------------------
NO_OPEN_INVITATIONS = "Tidak ada undangan yang masih berlaku. Buat undangan dengan /undang."
INVITATION_REVOKED = "Undangan dibatalkan; tautannya tidak berlaku lagi."


def open_invitations(invitations: list[OpenInvitation], total: int, tz: ZoneInfo) -> str:
    lines = [f"<b>Undangan yang masih berlaku</b> ({total})", ""]
    for item in invitations:
        what = f"<b>{ROLE_NAMES[item.role]}</b>"
        if item.division_name:
            what += f" (bagian {h(item.division_name)})"
        if item.name:
            what += f" atas nama {h(item.name)}"
        by = f"dibuat oleh {h(item.created_by_name)}, " if item.created_by_name else ""
        lines.append(f"• #{item.id} {what}")
        lines.append(f"   {by}berlaku sampai {wib(item.expires_at, tz)}")
    if total > len(invitations):
        lines.append(f"… dan {total - len(invitations)} undangan lain (yang berlaku lebih lama).")
    lines.append("")
    lines.append("Tekan <i>Batalkan</i> agar tautan undangan itu tidak dapat dipakai lagi.")
    return "\n".join(lines)


def revoke_invitation_button(item: OpenInvitation) -> str:
    label = f"Batalkan #{item.id} {ROLE_NAMES[item.role]}"
    if item.name:
        label += f" – {item.name}"
    return button_text(label)


# -- /pengguna -------------------------------------------------------------------------
NO_PEOPLE = "Belum ada pengguna yang memiliki peran. Buat undangan dengan /undang."
BUTTON_PREVIOUS = "‹ Sebelumnya"
BUTTON_NEXT = "Berikutnya ›"
BUTTON_CONFIRM_REVOKE = "Ya, cabut"
REVOKE_CANCELLED = "Pencabutan peran dibatalkan. Tidak ada yang diubah."
PERSON_GONE = "Pengguna tersebut tidak ditemukan."
PEOPLE_FOOTER = "Tekan tombol <i>Cabut</i> untuk mencabut suatu peran. Undang orang baru: /undang."
ROLE_GONE = "Orang ini sudah tidak memiliki peran tersebut."


def people_page(
    people: list[Actor],
    divisions: dict[int, str],
    page: int,
    pages: int,
    reach: dict[int, Reach] | None = None,
) -> str:
    """One page of the people list: name, @username, roles and division, and whether the
    bot can reach them (never opened the bot, or messages to them fail)."""
    header = "<b>Pengguna terdaftar</b>"
    if pages > 1:
        header += f" (halaman {page + 1} dari {pages})"
    lines = [header, ""]
    for person in people:
        lines.append(f"• {person_label(person)}")
        lines.append(f"   {roles_line(person, divisions)}")
        state = reach_line((reach or {}).get(person.user_id))
        if state:
            lines.append(f"   {state}")
    lines.append("")
    lines.append(PEOPLE_FOOTER)
    return "\n".join(lines)


def reach_line(reach: Reach | None) -> str | None:
    """⚠️ when the bot cannot reach the person; None when it can."""
    if reach is None:
        return None
    if reach.unreachable is not None:
        return f"⚠️ tidak dapat dihubungi: {REASONS[reach.unreachable]}"
    if not reach.opened:
        return "⚠️ belum membuka bot"
    return None


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
    return button_text(f"Cabut {ROLE_NAMES[role]} – {shorten(person.full_name, 30)}")


def confirm_revoke(role: Role, person: Actor, warning: RevocationWarning | None = None) -> str:
    text = (
        f"Cabut peran <b>{ROLE_NAMES[role]}</b> dari {person_label(person)}?\n"
        "Setelah dicabut, orang ini tidak dapat lagi menjalankan tugas peran tersebut. "
        "Berkas dan riwayat yang sudah ada tetap tersimpan."
    )
    if warning is not None:
        text += "\n\n" + revocation_warning(warning, person)
    return text


def revocation_warning(warning: RevocationWarning, person: Actor) -> str:
    role = ROLE_NAMES[warning.role]
    where = f" bagian {h(warning.division_name)}" if warning.division_name else ""
    return (
        f"⚠️ <b>Perhatian:</b> {h(person.full_name)} adalah satu-satunya {role}{where}, dan "
        f"{warning.open_steps} berkas sedang menunggu {STEP_NAMES[warning.step]}. Setelah "
        f"peran dicabut, tidak ada yang dapat menyelesaikannya sampai ada {role} lain "
        "(undang dengan /undang)."
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


def revoked_notice(role: Role, person: Actor, divisions: dict[int, str]) -> str:
    remaining = roles_line(person, divisions) if person.roles else None
    rest = (
        f"Peran Anda yang masih berlaku: <b>{remaining}</b>."
        if remaining
        else "Anda tidak lagi memiliki peran di ppidbot."
    )
    return (
        f"Peran Anda sebagai <b>{ROLE_NAMES[role]}</b> di ppidbot telah dicabut oleh admin "
        f"PPID. {rest} Bila ini keliru, silakan hubungi admin PPID."
    )
