"""Settings: defaults, parsing, and one-line errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings, parse_size
from sop.durations import format_duration, parse_duration


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in [
        "TELEGRAM_BOT_TOKEN",
        "DATABASE_URL",
        "STEP_DEADLINE",
        "REMINDER_OFFSETS",
        "ADMIN_TELEGRAM_IDS",
        "MAX_FILE_SIZE",
        "TIMEZONE",
        "LOG_LEVEL",
        "STORAGE_URL",
        "STORAGE_DIR",
        "S3_ENDPOINT_URL",
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
        "S3_REGION",
        "BACKUP_DIR",
        "BACKUP_KEEP",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "WEBHOOK_PORT",
        "HEALTH_PORT",
        "METRICS_TOKEN",
        "LOG_FORMAT",
    ]:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.step_deadline == timedelta(hours=1)
    assert settings.reminder_offsets == [timedelta(minutes=30), timedelta(minutes=10)]
    assert settings.max_file_size == 20 * 1024 * 1024
    assert settings.timezone == "Asia/Jakarta"
    assert settings.database_url.startswith("sqlite+aiosqlite:///./data/")
    assert settings.admin_telegram_ids == []
    assert settings.secrets() == []  # nothing to hide (an empty value is no secret)
    assert (settings.backup_dir, settings.backup_keep) == (None, 7)


def test_environment_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEP_DEADLINE", "3s")
    monkeypatch.setenv("REMINDER_OFFSETS", "1s,2s")
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", "11, 22")
    monkeypatch.setenv("MAX_FILE_SIZE", "512KB")
    settings = load_settings()
    assert settings.step_deadline == timedelta(seconds=3)
    assert settings.reminder_offsets == [timedelta(seconds=2), timedelta(seconds=1)]
    assert settings.admin_telegram_ids == [11, 22]
    assert settings.max_file_size == 512 * 1024


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("STEP_DEADLINE=45m\nLOG_LEVEL=debug\n")
    settings = load_settings()
    assert settings.step_deadline == timedelta(minutes=45)
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("STEP_DEADLINE", "soon", "STEP_DEADLINE"),
        ("STEP_DEADLINE", "0s", "longer than zero"),
        ("ADMIN_TELEGRAM_IDS", "12,abc", "numeric Telegram user ids"),
        ("TIMEZONE", "Mars/Base", "unknown time zone"),
        ("MAX_FILE_SIZE", "big", "MAX_FILE_SIZE"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
        ("STORAGE_URL", "ftp://host/x", "unknown scheme 'ftp'"),
        ("BACKUP_KEEP", "0", "BACKUP_KEEP"),
        ("WEBHOOK_URL", "http://ppid.example.go.id/hook", "public https:// URL"),
        ("WEBHOOK_URL", "https://ppid.example.go.id/hook", "WEBHOOK_URL needs WEBHOOK_SECRET"),
        ("WEBHOOK_SECRET", "short", "16 to 256 of the characters"),
        ("WEBHOOK_PORT", "70000", "WEBHOOK_PORT"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT"),
        ("STORAGE_URL", "s3://", "s3://bucket/prefix"),
        ("STORAGE_URL", "s3://bucket/a/../b", "'..' part"),
        ("S3_ACCESS_KEY_ID", "only-the-id", "set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY"),
    ],
)
def test_invalid_values_are_one_line_errors(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_storage_is_a_directory_by_default() -> None:
    location = load_settings().storage_location
    assert (location.is_s3, location.directory) == (False, Path("./data/storage"))


def test_storage_url_names_a_directory_or_a_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_URL", "file:///srv/ppidbot/storage")
    assert load_settings().storage_location.directory == Path("/srv/ppidbot/storage")
    monkeypatch.setenv("STORAGE_URL", "/srv/docs")
    assert load_settings().storage_location.directory == Path("/srv/docs")

    monkeypatch.setenv("STORAGE_URL", "s3://ppid-docs/sumbar/")
    monkeypatch.setenv("S3_ENDPOINT_URL", "https://s3.example.go.id")
    monkeypatch.setenv("S3_ACCESS_KEY_ID", "ppidbot")
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", "very-secret-key")
    monkeypatch.setenv("S3_REGION", "id-west-1")
    settings = load_settings()
    location = settings.storage_location
    assert (location.is_s3, location.bucket, location.prefix) == (True, "ppid-docs", "sumbar")
    assert str(location) == "s3://ppid-docs/sumbar"
    options = settings.s3_options
    assert options.endpoint_url == "https://s3.example.go.id"
    assert (options.access_key_id, options.secret_access_key) == ("ppidbot", "very-secret-key")
    assert options.region == "id-west-1"
    # The secret is a SecretStr: never in the settings' repr, and kept out of the log.
    assert "very-secret-key" not in repr(settings)
    assert "very-secret-key" in settings.secrets()


def test_webhook_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().webhook_url is None  # polling by default
    monkeypatch.setenv("WEBHOOK_URL", "https://ppid.example.go.id/telegram/hook")
    monkeypatch.setenv("WEBHOOK_SECRET", "rahasia_webhook-0123456789")
    monkeypatch.setenv("METRICS_TOKEN", "token-metrik")
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    settings = load_settings()
    assert settings.webhook_path == "telegram/hook"
    assert (settings.webhook_listen, settings.webhook_port) == ("127.0.0.1", 8443)
    assert settings.log_format == "json"
    assert {"rahasia_webhook-0123456789", "token-metrik"} <= set(settings.secrets())
    assert "rahasia_webhook" not in repr(settings)


def test_storage_url_and_storage_dir_together_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STORAGE_URL", "s3://ppid-docs")
    monkeypatch.setenv("STORAGE_DIR", "./data/storage")
    with pytest.raises(ConfigError, match="set STORAGE_URL or its older name STORAGE_DIR"):
        load_settings()


@pytest.mark.parametrize(
    ("token", "ok"),
    [
        (None, False),
        ("", False),
        ("abc", False),
        ("123456:short", False),
        ("123456789:AAH-abcdefghijklmnopqrstuvwxyz_0123", True),
    ],
)
def test_token_is_required_and_checked(token: str | None, ok: bool) -> None:
    settings = Settings(_env_file=None, telegram_bot_token=token)  # type: ignore[call-arg]
    if ok:
        assert settings.require_token() == token
    else:
        with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
            settings.require_token()


def test_token_is_never_shown() -> None:
    settings = Settings(_env_file=None, telegram_bot_token="123456789:SECRETSECRETSECRET")  # type: ignore[call-arg]
    assert "SECRETSECRET" not in repr(settings)
    assert "SECRETSECRET" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", timedelta(seconds=45)),
        ("10m", timedelta(minutes=10)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(minutes=90)),
        (" 2D ", timedelta(days=2)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse_duration(format_duration(expected)) == expected


@pytest.mark.parametrize("text", ["", "1", "h", "1x", "1h 30", "-5m", "1.5h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_sizes() -> None:
    assert parse_size("20MB") == 20 * 1024 * 1024
    assert parse_size("1048576") == 1048576
    with pytest.raises(ValueError):
        parse_size("20 TB")
