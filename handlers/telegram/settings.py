"""Telegram's own settings, read from the environment and `.env` like the core's (names unchanged)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_URL = "https://api.telegram.org"


class TelegramSettings(BaseSettings):
    """The bot on Telegram; Telegram runs when BOT_TOKEN is set."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_api_url: str = DEFAULT_API_URL  # any Bot-API-compatible server
    webhook_url: str | None = None  # unset: long polling
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    # Messages a second the bot may send on Telegram in all (Telegram's limit is about 30; a bot with paid
    # broadcasts enabled may send up to 1,000).
    telegram_messages_per_second: float = Field(default=30.0, gt=0, le=1000)
