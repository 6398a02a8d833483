"""Settings read from the environment and .env, with the documented defaults."""

from __future__ import annotations

from bot.settings import Settings


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
    assert s.bot_token == "1:abc"
    assert s.admin_ids == ["111", "222", "333"]


def test_environment_overrides_env_file(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite+aiosqlite:///x.db\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u@h/db")
    assert Settings().database_url == "postgresql+asyncpg://u@h/db"
