"""Everything a running bot reads: the core's settings and each chat platform's, from one environment."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from bot.settings import Settings, reveal
from handlers.telegram.settings import TelegramSettings
from handlers.zalo.settings import ZaloSettings


class AppSettings(Settings, TelegramSettings, ZaloSettings):
    """The core's settings and every channel's; each part of the bot is handed the part it knows."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    def secrets(self) -> list[str]:
        """Every secret, for the log redaction."""
        return [reveal(s) for s in (self.bot_token, self.zalo_bot_token, self.webhook_secret,
                                    self.zalo_webhook_secret, self.encryption_key)]
