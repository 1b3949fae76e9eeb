"""The phone's command menu, per person: each sees the commands of their roles."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from sop.model import Actor, Role

log = logging.getLogger(__name__)

COMMON = [
    BotCommand("tugas", "Tugas yang menunggu saya"),
    BotCommand("berkas", "Rincian satu berkas"),
    BotCommand("daftar", "Daftar informasi yang dikecualikan"),
    BotCommand("cari", "Cari berkas menurut kata"),
    BotCommand("laporan", "Laporan Excel dan grafik kepatuhan SOP"),
    BotCommand("kedaluwarsa", "Pengecualian yang segera berakhir"),
    BotCommand("uji", "Lembar uji konsekuensi dan penetapan (PDF)"),
    BotCommand("verifikasi", "Periksa keaslian dokumen dengan kodenya"),
]
BY_ROLE: dict[Role, list[BotCommand]] = {
    Role.PETUGAS_PPID: [BotCommand("baru", "Catat informasi dikecualikan (langkah 1)")],
    Role.PETUGAS_DOKUMENTASI: [BotCommand("serahkan", "Berkas menunggu penyerahan (langkah 2)")],
    Role.PEJABAT_PPID: [BotCommand("dibuka", "Tandai informasi sebagai dibuka")],
    Role.ADMIN: [
        BotCommand("undang", "Buat tautan undangan"),
        BotCommand("undangan", "Undangan yang belum dipakai"),
        BotCommand("pengguna", "Daftar pengguna dan peran"),
        BotCommand("ringkasan", "Ringkasan langkah terbuka dan pemberitahuan"),
        BotCommand("dibuka", "Tandai informasi sebagai dibuka"),
        BotCommand("libur", "Hari libur dan jam kerja kantor"),
    ],
}
TAIL = [BotCommand("batal", "Batalkan proses"), BotCommand("bantuan", "Bantuan")]
DEFAULT = [BotCommand("start", "Mulai"), BotCommand("bantuan", "Bantuan")]


def commands_for(actor: Actor) -> list[BotCommand]:
    commands = list(COMMON)
    for role in Role:
        if actor.has(role):
            commands.extend(BY_ROLE[role])
    unique: dict[str, BotCommand] = {}
    for command in commands + TAIL:  # a command of two roles is listed once
        unique.setdefault(command.command, command)
    return list(unique.values())


async def publish_default(bot: Bot) -> None:
    await bot.set_my_commands(DEFAULT, scope=BotCommandScopeDefault())


async def publish_for(bot: Bot, actor: Actor) -> None:
    """Set (or reset, when the person has no role left) one person's menu."""
    scope = BotCommandScopeChat(actor.telegram_id)
    try:
        if actor.roles and actor.active:
            await bot.set_my_commands(commands_for(actor), scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except TelegramError as exc:  # a person who never opened the chat has no chat yet
        log.info("could not set commands for %s: %s", actor.telegram_id, exc)
