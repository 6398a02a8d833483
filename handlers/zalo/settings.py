"""Zalo's own settings, read from the environment and `.env` like the core's (names unchanged)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ZaloSettings(BaseSettings):
    """The bot on Zalo; Zalo runs when ZALO_BOT_TOKEN is set."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    zalo_bot_token: SecretStr | None = None
    zalo_api_url: str = "https://bot-api.zaloplatforms.com"
    zalo_webhook_url: str | None = None  # unset: long polling
    zalo_webhook_secret: SecretStr | None = None
    zalo_webhook_port: int = Field(default=8081, ge=1, le=65535)
    webhook_host: str = "0.0.0.0"
