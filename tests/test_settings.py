"""Settings read from the environment and .env, with the documented defaults."""

from __future__ import annotations

from bot.settings import Settings as CoreSettings
from bot.settings import reveal
from handlers.telegram.settings import TelegramSettings
from handlers.zalo.settings import ZaloSettings
from runner.settings import AppSettings as Settings


def test_defaults(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("BOT_TOKEN", "DATABASE_URL", "RULES_FILE", "ADMIN_IDS", "TIMEZONE", "WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    s = Settings()
    assert s.bot_token is None
    assert s.database_url == "sqlite+aiosqlite:///data/bot.db"
    # rules/quang-ninh.yaml, found in the project when the working directory has no rules/ of its own
    assert s.rules_file.endswith("rules/quang-ninh.yaml") and __import__("os").path.exists(s.rules_file)
    assert s.timezone == "Asia/Ho_Chi_Minh"
    assert s.telegram_api_url == "https://api.telegram.org"
    assert s.admin_ids == []
    assert not s.webhook_url


def test_env_file_and_comma_separated_admins(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ADMIN_IDS", raising=False)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    (tmp_path / ".env").write_text("BOT_TOKEN=1:abc\nADMIN_IDS=111, 222,,333\n")
    s = Settings()
    assert reveal(s.bot_token) == "1:abc"
    assert s.admin_ids == ["111", "222", "333"]


def test_secrets_never_show_when_settings_are_printed(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    secrets = {"BOT_TOKEN": "123456:AAE-secret-token", "ZALO_BOT_TOKEN": "zalo-secret-token",
               "WEBHOOK_SECRET": "hook-secret-1", "ZALO_WEBHOOK_SECRET": "zhook-secret-2",
               "ENCRYPTION_KEY": "fernet-key-secret="}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    s = Settings()
    shown = f"{s} {s!r} {s.model_dump()}"
    assert not [value for value in secrets.values() if value in shown]
    assert reveal(s.zalo_bot_token) == "zalo-secret-token" and reveal(None) == ""


def test_environment_overrides_env_file(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite+aiosqlite:///x.db\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u@h/db")
    assert Settings().database_url == "postgresql+asyncpg://u@h/db"


async def test_telegrams_send_rate_is_a_setting_within_telegrams_bounds(core, tmp_path) -> None:
    import pytest
    from pydantic import ValidationError

    from bot.delivery.filestore import LocalFileStore
    from handlers.telegram.channel import TelegramChannel

    with pytest.raises(ValidationError):
        Settings(_env_file=None, telegram_messages_per_second=5000)
    settings = Settings(_env_file=None, bot_token="42:TEST", telegram_messages_per_second=200)
    channel = TelegramChannel(core, settings, LocalFileStore(tmp_path, core.privacy), 30)
    try:
        limits = channel.transport.limits
        assert (limits.per_second, limits.chat_interval, limits.group_per_minute) == (200, 1.0, 20)
    finally:
        await channel.stop()


def test_each_platform_reads_its_own_settings_and_the_core_none(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("BOT_TOKEN=1:abc\nZALO_BOT_TOKEN=z-token\nZALO_WEBHOOK_PORT=9091\n"
                                   "TELEGRAM_API_URL=http://127.0.0.1:8081\nRETENTION_DAYS=7\n")
    for name in ("BOT_TOKEN", "ZALO_BOT_TOKEN", "ZALO_WEBHOOK_PORT", "TELEGRAM_API_URL", "RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    platform_fields = {"bot_token", "telegram_api_url", "webhook_url", "webhook_secret", "zalo_bot_token",
                       "zalo_api_url", "telegram_messages_per_second"}
    assert not platform_fields & set(CoreSettings.model_fields)
    telegram, zalo = TelegramSettings(), ZaloSettings()
    assert reveal(telegram.bot_token) == "1:abc" and telegram.telegram_api_url == "http://127.0.0.1:8081"
    assert reveal(zalo.zalo_bot_token) == "z-token" and zalo.zalo_webhook_port == 9091
    assert not {"bot_token", "database_url"} & set(ZaloSettings.model_fields)
    assert not {"zalo_bot_token", "database_url"} & set(TelegramSettings.model_fields)
    joined = Settings()  # what `python -m bot` runs with: every part, from the same environment
    assert (reveal(joined.bot_token), reveal(joined.zalo_bot_token), joined.retention_days) == (
        "1:abc", "z-token", 7)


def test_the_ends_of_each_range_and_the_default_data_folder_are_accepted(monkeypatch, tmp_path) -> None:
    """The checks refuse nonsense, not a province's choice: the ends of each range start the bot."""
    monkeypatch.chdir(tmp_path)
    low = Settings(_env_file=None, cases_per_day=1, max_file_mb=1, dialogue_ttl_hours=1,
                   pin_failures_per_case=1, max_text_chars=100, retention_days=1, webhook_port=1,
                   admin_ids="1", timezone="UTC",
                   database_url="sqlite+aiosqlite:///data/bot.db")  # data/ is made on the first start
    high = Settings(_env_file=None, max_file_mb=2000, dialogue_ttl_hours=720, pin_lockout_hours=720,
                    max_files_per_case=100, retention_days=3650, zalo_webhook_port=65535,
                    admin_ids="111, 222", database_url="postgresql+asyncpg://bot:secret@db.internal/bot")
    assert (low.cases_per_day, low.admin_ids) == (1, ["1"])
    assert (high.max_file_mb, high.admin_ids) == (2000, ["111", "222"])
    assert not (tmp_path / "data").exists()
    assert Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path}/bot.db").database_url
