"""Settings from the environment and `.env`: the variables deployments rely on (README, Configuration)."""

from __future__ import annotations

import datetime as dt
import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
S = TypeVar("S", bound=BaseSettings)


def read(cls: type[S]) -> S | None:
    """Settings of `cls` from the environment and `.env`; None, after one `error: NAME: problem` line per
    bad setting on stderr, when some are wrong (the user who set them needs no traceback)."""
    try:
        return cls()
    except ValidationError as exc:
        for line in _problems(exc):
            print(f"error: {line}", file=sys.stderr)
        return None


def _problems(exc: ValidationError) -> list[str]:
    """One line per bad setting, named as the environment variable (`LOG_LEVEL: ...`); secrets' values
    are never quoted."""
    lines = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]).upper() or "settings"
        secret = any(word in name for word in ("TOKEN", "KEY", "SECRET", "PASSWORD", "URL"))
        given = "" if secret or error["type"] == "missing" else f" (got {error.get('input')!r})"
        lines.append(f"{name}: {error['msg']}{given}")
    return lines


def reveal(value: SecretStr | str | None) -> str:
    """A secret setting's text ("" when unset): tokens and keys are `SecretStr`, so a logged or printed
    Settings shows them as stars; only the code that uses one reads it."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value or ""


class Settings(BaseSettings):
    """The core's settings; names match the environment variables. Each chat platform reads its own
    (`handlers/<platform>/settings.py`), and the composition root joins them (`runner.settings`)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///data/bot.db"
    rules_file: str = "rules/quang-ninh.yaml"
    admin_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    timezone: str = "Asia/Ho_Chi_Minh"
    encryption_key: SecretStr | None = None
    # Where evidence received as bytes is kept, encrypted (default: files/ beside the database).
    files_dir: str | None = None
    # Take part in delivering the outbox. Of all instances that do, one at a time holds the sender role
    # (a lease in the database) and the others take over when it dies; false: never send from here.
    outbox_sender: bool = True
    # Take updates from the chat platforms (long polling, or the webhook when one is set). False: a
    # delivery worker that only sends the outbox and runs the jobs. Long polling admits one instance: run
    # it with OUTBOX_SENDER=false beside a worker, and the two processes share the work.
    receive_updates: bool = True
    # What the log shows: INFO (the default) says what the bot does and what goes wrong; DEBUG adds a line
    # for every update handled, and more.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Let the bot's clock be moved forward (the demo's time controls). Refused outside `python -m bot demo`.
    movable_clock: bool = False

    # Dialogue and abuse limits (extensions; defaults are sensible for a province).
    dialogue_ttl_hours: int = 48
    max_text_chars: int = 4000
    max_file_mb: int = 20
    max_files_per_case: int = 10
    messages_per_minute: int = 20
    cases_per_day: int = 5
    lookup_failures_per_hour: int = 5
    pin_failures_per_case: int = 10  # wrong PINs for one case, from any accounts, before it is locked
    pin_lockout_hours: int = 24
    # Delivered messages, finished jobs and sent digest lines are deleted after this many days (cases,
    # their audit trail and sealed identities are kept without limit).
    retention_days: int = Field(default=30, ge=1)
    # When the working morning opens (local time): deadline, meeting and decision reminders and the daily
    # digest wait for it.
    digest_time: dt.time = dt.time(8, 0)

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_name(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("rules_file")
    @classmethod
    def _find_rules(cls, value: str) -> str:
        """A relative RULES_FILE that is not under the working directory is looked up in the project,
        so `python -m bot check-rules` works from any directory with the sample rules."""
        path = Path(value)
        if not path.is_absolute() and not path.exists() and (PROJECT_ROOT / path).exists():
            return str(PROJECT_ROOT / path)
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, int):
            return [str(value)]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
