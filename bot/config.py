"""Typed settings, read from the environment or a ``.env`` file."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sop.calendar import DEFAULT_WORKING_HOURS, WorkingHours
from sop.durations import parse_duration
from sop.four_eyes import FourEyes
from sop.reminders import QuietHours
from storage import S3Options, StorageLocation, parse_location

TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{10,}$")
#: Telegram's rule for a webhook's secret token (1-256 of these); ppidbot asks for 16 at least.
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
_SIZE = re.compile(r"^(\d+)\s*(b|kb|mb|gb)?$")
_SIZE_UNITS = {None: 1, "b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}


def parse_size(text: str | int) -> int:
    """Parse ``20MB``, ``512kb`` or a plain number of bytes."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(text.strip().lower())
    if not match:
        raise ValueError(f"invalid size {text!r}: use forms like 20MB, 512KB or 1048576")
    return int(match.group(1)) * _SIZE_UNITS[match.group(2)]


class Settings(BaseSettings):
    """Everything ppidbot can be configured with; see ``.env.example``."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str | None = None
    telegram_base_file_url: str | None = None
    telegram_local_mode: bool = False
    database_url: str = "sqlite+aiosqlite:///./data/ppidbot.sqlite3"
    #: Where the documents are: a directory, or ``s3://bucket/prefix`` (storage/location.py).
    storage_url: str | None = None
    #: The older name of a local ``STORAGE_URL`` (still read; set one of the two).
    storage_dir: Path = Path("./data/storage")
    s3_endpoint_url: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str | None = None
    #: The daily backup: a directory for dated backups (none: no daily backup), and how many
    #: of them to keep.
    backup_dir: Path | None = None
    backup_keep: int = Field(default=7, ge=1)
    #: The public list of exempted information (``ppidbot publish``) written there every
    #: day (none: not written by the bot).
    publish_dir: Path | None = None
    #: Webhook mode (behind a reverse proxy): the public HTTPS URL Telegram calls, where
    #: python-telegram-bot's webhook server listens, and the secret Telegram sends back.
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    #: /healthz and /metrics in polling mode (in webhook mode they are on the webhook port).
    health_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_token: SecretStr | None = None
    log_format: Literal["text", "json"] = "text"
    admin_telegram_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    timezone: str = "Asia/Jakarta"
    step_deadline: timedelta = timedelta(hours=1)
    reminder_offsets: Annotated[list[timedelta], NoDecode] = Field(
        default_factory=lambda: [timedelta(minutes=30), timedelta(minutes=10)]
    )
    max_file_size: int = 20 * 1024 * 1024
    log_level: str = "INFO"
    #: Office hours in which the SOP's time standard runs (sop/calendar.py for the format);
    #: "always" counts every hour of the wall clock.
    working_hours: str = DEFAULT_WORKING_HOURS
    #: Reminders falling in this daily period (local time, e.g. ``21:00-06:00``) are
    #: held until it ends; escalations are not. Empty or unset: no quiet hours.
    quiet_hours: str | None = None
    #: How often the bot re-reads the open steps from the database (a safety net for
    #: changes made outside the running bot, e.g. the CLI).
    reminder_check_interval: timedelta = timedelta(minutes=1)
    #: Who may receive a record in step 3 (sop/four_eyes.py): ``strict`` neither the
    #: person who handed it over nor the one who produced it; ``standard`` lets the
    #: producer receive (an office with a single Pejabat PPID).
    four_eyes: FourEyes = FourEyes.STRICT
    #: Updates of different people handled at the same time (those of one person or chat
    #: always one after the other, in order: bot/updates.py).
    max_concurrent_updates: int = Field(default=8, ge=1, le=256)
    #: Several instances on one PostgreSQL database: one is active (polls, runs the
    #: scheduler), the others stand by and try to take over this often (bot/leader.py).
    standby_retry: timedelta = timedelta(seconds=2)
    #: Read the text of stored softcopies in the background (sop/extraction.py), tell
    #: the sender, show personal-data hints; ``false``: softcopies are only stored.
    document_texts: bool = True
    #: OCR of photos and scans (Tesseract: Debian ``tesseract-ocr``, ``tesseract-ocr-ind``).
    #: Unset: on when the tesseract binary is found; ``false``: only born-digital PDFs and
    #: office files are read.
    ocr_enabled: bool | None = None
    #: Processes that read documents at once (each runs one Tesseract thread).
    ocr_workers: int = Field(default=1, ge=1, le=16)
    #: Tesseract's languages, ``+``-separated.
    ocr_languages: str = "ind+eng"
    #: Telegram's flood limits, which every outgoing message respects (bot/ratelimit.py):
    #: messages per second over all chats, per second in one private chat (sustained,
    #: after a short burst of ``send_burst_per_chat``), and per minute in one group.
    send_rate_overall: float = Field(default=30, gt=0)
    send_rate_per_chat: float = Field(default=1, gt=0)
    send_burst_per_chat: int = Field(default=3, ge=1)
    send_rate_per_group: float = Field(default=20, gt=0)
    #: How long an action waits for its notices before answering; notices still under
    #: way then are reported when they end (only if one could not be delivered).
    notice_wait: timedelta = timedelta(seconds=5)
    #: A notice whose sender has gone silent this long (the process died) is sent again;
    #: a live sender renews its claim well within it.
    notice_lease: timedelta = timedelta(minutes=1)

    @field_validator("backup_dir", "publish_dir", mode="before")
    @classmethod
    def _empty_backup_dir(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("storage_url")
    @classmethod
    def _check_storage_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parse_location(value)  # raises a one-line ValueError
        return value.strip()

    @field_validator("webhook_url", "webhook_secret", "metrics_token", "health_port", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(
                "must be the public https:// URL Telegram calls, e.g. "
                "https://ppid.example.go.id/telegram"
            )
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 16 to 256 of the characters A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError(
                "WEBHOOK_URL needs WEBHOOK_SECRET (Telegram sends it back with "
                "every update; requests without it are refused)"
            )
        return self

    @property
    def webhook_path(self) -> str:
        """The path of ``WEBHOOK_URL`` (what the reverse proxy forwards unchanged)."""
        return urlsplit(self.webhook_url or "").path.strip("/")

    @model_validator(mode="after")
    def _one_storage_setting(self) -> Settings:
        if self.storage_url is not None and "storage_dir" in self.model_fields_set:
            raise ValueError("set STORAGE_URL or its older name STORAGE_DIR, not both")
        if bool(self.s3_access_key_id) != bool(self.s3_secret_access_key):
            raise ValueError("set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither")
        return self

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            try:
                return [int(part) for part in parts]
            except ValueError as exc:
                raise ValueError("must be comma-separated numeric Telegram user ids") from exc
        return value

    @field_validator(
        "step_deadline", "reminder_check_interval", "standby_retry", "notice_lease", mode="before"
    )
    @classmethod
    def _parse_positive_duration(cls, value: object) -> object:
        """``1h``, ``30m``, ``15s`` (or a timedelta), longer than zero."""
        if isinstance(value, str):
            value = parse_duration(value)
        if isinstance(value, timedelta) and value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value

    @field_validator("reminder_offsets", mode="before")
    @classmethod
    def _parse_offsets(cls, value: object) -> object:
        if isinstance(value, str):
            offsets = [parse_duration(part) for part in value.split(",") if part.strip()]
            return sorted(offsets, reverse=True)
        return value

    @field_validator("max_file_size", mode="before")
    @classmethod
    def _parse_size(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_size(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _check_quiet_hours(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return None
            QuietHours.parse(value, ZoneInfo("UTC"))  # raises a one-line ValueError
            return value.strip()
        return value

    @field_validator("four_eyes", mode="before")
    @classmethod
    def _check_four_eyes(cls, value: object) -> object:
        if isinstance(value, str):
            mode = value.strip().lower()
            if mode not in {m.value for m in FourEyes}:
                raise ValueError("must be strict or standard")
            return mode
        return value

    @field_validator("notice_wait", mode="before")
    @classmethod
    def _parse_notice_wait(cls, value: object) -> object:
        if isinstance(value, str):
            value = parse_duration(value)
        if isinstance(value, timedelta) and value < timedelta(0):
            raise ValueError("must not be negative")
        return value

    @field_validator("working_hours")
    @classmethod
    def _check_working_hours(cls, value: str) -> str:
        WorkingHours.parse(value)  # raises a ValueError that says what is wrong
        return value.strip()

    @property
    def storage_location(self) -> StorageLocation:
        """``STORAGE_URL``, else the directory ``STORAGE_DIR`` (default ``./data/storage``)."""
        if self.storage_url is not None:
            return parse_location(self.storage_url)
        return StorageLocation(directory=self.storage_dir)

    @property
    def s3_options(self) -> S3Options:
        secret = self.s3_secret_access_key
        return S3Options(
            endpoint_url=self.s3_endpoint_url or None,
            access_key_id=self.s3_access_key_id or None,
            secret_access_key=secret.get_secret_value() if secret else None,
            region=self.s3_region or None,
        )

    def secrets(self) -> list[str]:
        """Values that never appear in the log (the token, the S3 secret)."""
        values = [
            self.telegram_bot_token,
            self.s3_secret_access_key,
            self.webhook_secret,
            self.metrics_token,
        ]
        return [value.get_secret_value() for value in values if value]

    @property
    def hours(self) -> WorkingHours:
        return WorkingHours.parse(self.working_hours)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def quiet_period(self) -> QuietHours | None:
        """The quiet hours in the configured time zone, or None when off."""
        return QuietHours.parse(self.quiet_hours, self.tz) if self.quiet_hours else None

    def require_token(self) -> str:
        """Return the bot token or raise ``ConfigError`` with a one-line message."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather in .env "
                "or the environment"
            )
        token = self.telegram_bot_token.get_secret_value().strip()
        if not TOKEN_PATTERN.match(token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is malformed: expected '<digits>:<letters>' "
                "as given by @BotFather"
            )
        return token


class ConfigError(Exception):
    """A configuration problem that is reported to the operator in one line."""


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's verbose errors into one ``ConfigError`` line."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper() or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
