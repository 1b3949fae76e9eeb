"""Typed domain errors; each carries a message fit to show a user (Bahasa Indonesia)."""

from __future__ import annotations

from datetime import datetime


class SopError(Exception):
    """Base of every rule the SOP or the law refuses."""

    default_message = "Permintaan tidak dapat diproses."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class NotRegistered(SopError):
    default_message = (
        "Anda belum terdaftar sebagai petugas PPID. Silakan hubungi admin PPID untuk "
        "mendapatkan tautan undangan."
    )


class PermissionDenied(SopError):
    default_message = "Anda tidak memiliki peran yang diperlukan untuk tindakan ini."


class NotFound(SopError):
    default_message = "Berkas tidak ditemukan atau Anda tidak berhak melihatnya."


class InvalidTransition(SopError):
    default_message = "Langkah ini tidak dapat dilakukan pada status berkas saat ini."


class StaleAction(SopError):
    default_message = (
        "Berkas ini sudah diproses atau statusnya telah berubah. Tidak ada yang diubah."
    )


class FourEyesViolation(SopError):
    default_message = (
        "Sesuai SOP (minimal 2 orang), orang yang membuat atau menyerahkan berkas tidak "
        "boleh juga menerimanya."
    )


class InvalidInput(SopError):
    default_message = "Isian tidak valid."


class DuplicateDocument(SopError):
    default_message = "Dokumen yang sama persis sudah tersimpan; tidak disimpan dua kali."


class InvitationInvalid(SopError):
    default_message = (
        "Tautan undangan tidak berlaku (kedaluwarsa, sudah dipakai, atau tidak dikenal). "
        "Mintalah tautan baru kepada admin PPID."
    )


class InvitationBlocked(SopError):
    """Too many wrong invitation codes from one account: it waits until ``until``."""

    default_message = (
        "Terlalu banyak kode undangan yang salah. Silakan tunggu satu jam, lalu buka lagi "
        "tautan undangan dari admin PPID."
    )

    def __init__(self, until: datetime, message: str | None = None) -> None:
        super().__init__(message)
        self.until = until


class FileRejected(SopError):
    default_message = "Berkas tidak dapat disimpan."


class IntegrityFailure(SopError):
    default_message = (
        "Verifikasi checksum salinan gagal; berkas tidak disimpan. Silakan coba lagi "
        "atau hubungi admin."
    )


class DiskFull(FileRejected):
    """The server's storage is full (or the quota used up): nothing of the file was kept."""

    default_message = (
        "Berkas TIDAK tersimpan: ruang penyimpanan server penuh. Mohon coba lagi nanti, "
        "setelah ruang dikosongkan."
    )
