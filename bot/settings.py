"""Settings from the environment and `.env`: the variables deployments rely on (README, Configuration)."""

from __future__ import annotations

import datetime as dt
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from annotated_types import Ge, Gt, Le
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
S = TypeVar("S", bound=BaseSettings)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/bot.db"
DATA_FOLDER = Path("data")  # the default database's folder: the one folder the bot makes by itself
SQLITE, POSTGRESQL = "sqlite+aiosqlite", "postgresql+asyncpg"
DATABASE_FORMS = f"{SQLITE}:///PATH or {POSTGRESQL}://USER:PASSWORD@HOST/DATABASE"
_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def read(cls: type[S]) -> S | None:
    """Settings of `cls` from the environment and `.env`; None, after one `error: NAME: problem` line per
    bad setting on stderr, when some are wrong (the user who set them needs no traceback)."""
    try:
        return cls()
    except ValidationError as exc:
        for line in _problems(exc, cls):
            print(f"error: {line}", file=sys.stderr)
        return None


def _problems(exc: ValidationError, cls: type[BaseSettings]) -> list[str]:
    """One line per bad setting, named as the environment variable (`LOG_LEVEL: ...`); secrets' values
    are never quoted, and a number out of range is told the range allowed."""
    lines = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]).upper() or "settings"
        secret = any(word in name for word in ("TOKEN", "KEY", "SECRET", "PASSWORD", "URL"))
        given = "" if secret or error["type"] == "missing" else f" (got {error.get('input')!r})"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] in _RANGE_ERRORS:
            message = _allowed(cls, name.lower()) or message
        lines.append(f"{name}: {message}{given}")
    return lines


def _allowed(cls: type[BaseSettings], name: str) -> str | None:
    """The range the field `name` of `cls` declares, as a user reads it: `must be from 1 to 1000`."""
    field = cls.model_fields.get(name)
    bounds = {type(b): b for b in field.metadata} if field is not None else {}
    high = f" to {bounds[Le].le}" if Le in bounds else ""
    if Ge in bounds:
        return f"must be from {bounds[Ge].ge}{high}" if high else f"must be {bounds[Ge].ge} or more"
    if Gt in bounds:
        return f"must be more than {bounds[Gt].gt}" + (f" and at most {bounds[Le].le}" if high else "")
    return None


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

    database_url: str = DEFAULT_DATABASE_URL
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

    # Dialogue and abuse limits (extensions; defaults are sensible for a province). Each has a range: a
    # zero or a negative number would stop every citizen, or none, without a word.
    dialogue_ttl_hours: int = Field(default=48, ge=1, le=720)
    max_text_chars: int = Field(default=4000, ge=100, le=100_000)
    max_file_mb: int = Field(default=20, ge=1, le=2000)  # 2000: a local Bot API server's limit
    max_files_per_case: int = Field(default=10, ge=1, le=100)
    messages_per_minute: int = Field(default=20, ge=1, le=1_000_000)
    cases_per_day: int = Field(default=5, ge=1, le=1_000_000)
    lookup_failures_per_hour: int = Field(default=5, ge=1, le=1_000_000)
    # wrong PINs for one case, from any accounts, before it is locked
    pin_failures_per_case: int = Field(default=10, ge=1, le=1_000_000)
    pin_lockout_hours: int = Field(default=24, ge=1, le=720)
    # Delivered messages, finished jobs and sent digest lines are deleted after this many days (cases,
    # their audit trail and sealed identities are kept without limit).
    retention_days: int = Field(default=30, ge=1, le=3650)
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

    @field_validator("admin_ids")
    @classmethod
    def _user_ids(cls, value: list[str]) -> list[str]:
        """Telegram user ids: a mistyped one would leave the admin unable to bind groups, unexplained."""
        for part in value:
            if not (part.isascii() and part.isdigit() and int(part) > 0):
                raise ValueError("must be Telegram user ids, whole numbers from 1 up separated by commas "
                                 "(send /myid to the bot to learn yours)")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError("not a known time zone: give an IANA name such as Asia/Ho_Chi_Minh") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        """One of the two supported forms; a SQLite file only in a folder that exists (but data/): a
        mistyped path would otherwise start an empty database, with a new encryption key beside it."""
        scheme, sep, rest = value.partition("://")
        if not sep or scheme not in (SQLITE, POSTGRESQL):
            shown = f"{scheme}:// is not supported" if sep and _SCHEME.fullmatch(scheme) else "not supported"
            raise ValueError(f"{shown}: use {DATABASE_FORMS}")
        if scheme == SQLITE:
            _check_sqlite(rest)
        return value


_SCHEME = re.compile(r"[a-z][a-z0-9+.-]{0,30}", re.I)


def _check_sqlite(rest: str) -> None:
    """The part of a SQLite URL after `://`: an empty host, then the path of a file whose folder exists
    (or is the default data/ folder, which is made on the first start)."""
    host, _, database = rest.partition("?")[0].partition("/")
    if host:
        raise ValueError(f"a SQLite URL has no host: {SQLITE}:///PATH (three slashes before a relative path, "
                         "four before an absolute one)")
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).parent
    if not folder.is_dir() and folder.resolve() != DATA_FOLDER.resolve():
        raise ValueError(f"the folder {folder} of the database does not exist: correct the path, or create "
                         "the folder if a new database is meant to start there")


@lru_cache
def get_settings() -> Settings:
    return Settings()
