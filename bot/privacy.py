"""Reporter identity at rest: Fernet-encrypted, looked up only through a keyed hash.

Luật Tố cáo 2018 Điều 47-48 protect a reporter's identity: officers never see it; the bot relays. Nor does
whoever reads the database (a backup, a replica, a reporting user): a person's chat is stored only sealed or
as a keyed hash, and every text to a person only sealed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import at_head, create_engine, migrate, session_factory
from storage.models import Reporter

T = TypeVar("T")

log = logging.getLogger(__name__)


class Privacy:
    def __init__(self, key: str | bytes) -> None:
        raw = key.encode() if isinstance(key, str) else key
        try:
            self._fernet = Fernet(raw)
        except ValueError as exc:
            raise ValueError("ENCRYPTION_KEY must be a Fernet key (32 url-safe base64 bytes)") from exc
        self._mac_key = hashlib.sha256(b"reporter-key:" + raw).digest()
        # apart from the reporters' keys, so that a person's chat rows cannot be joined to their cases
        self._chat_mac = hashlib.sha256(b"chat-key:" + raw).digest()
        self._tag_mac = hashlib.sha256(b"outbox-key:" + raw).digest()

    def seal(self, identity: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(identity, ensure_ascii=False).encode()).decode()

    def seal_bytes(self, data: bytes) -> bytes:
        """Files that may identify a reporter (evidence photos) are sealed with the same key."""
        return self._fernet.encrypt(data)

    def open_bytes(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise ValueError("file cannot be decrypted with this ENCRYPTION_KEY") from exc

    def open(self, token: str) -> dict[str, Any]:
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise ValueError("identity cannot be decrypted with this ENCRYPTION_KEY") from exc

    def seal_value(self, value: object, at: dt.datetime | None = None) -> str:
        """Any JSON value sealed (for a dialogue's name, phone, address or unlocked cases); `at` stamps it."""
        data = json.dumps(value, ensure_ascii=False).encode()
        if at is None:
            return self._fernet.encrypt(data).decode()
        return self._fernet.encrypt_at_time(data, int(at.timestamp())).decode()

    def open_value(self, token: str, *, max_age: dt.timedelta | None = None,
                   now: dt.datetime | None = None) -> Any:
        """The sealed value; None when it is older than `max_age` at `now`, or not sealed with this key."""
        try:
            if max_age is None:
                return json.loads(self._fernet.decrypt(token.encode()))
            moment = int((now or dt.datetime.now(dt.UTC)).timestamp())
            ttl = int(max_age.total_seconds())
            return json.loads(self._fernet.decrypt_at_time(token.encode(), ttl, moment))
        except (InvalidToken, ValueError, TypeError):
            return None

    def key_for(self, channel: str, user_id: str) -> str:
        """A stable, non-reversible key for (channel, user) to find someone's cases or throttle them."""
        return hmac.new(self._mac_key, f"{channel}:{user_id}".encode(), hashlib.sha256).hexdigest()

    def chat_key(self, channel: str, chat_id: str) -> str:
        """How a person's chat (or user) is stored where it must be found again (their language, their
        dialogue, their messages' order): a keyed hash that no reader of the database can reverse or
        compute for a guessed id."""
        return hmac.new(self._chat_mac, f"{channel}:{chat_id}".encode(), hashlib.sha256).hexdigest()

    def tag(self, key: str) -> str:
        """An idempotency key as stored on a sealed row: the key itself names the chat or the case."""
        return "sealed:" + hmac.new(self._tag_mac, key.encode(), hashlib.sha256).hexdigest()


class KeyProblem(Exception):
    """The encryption key is missing, malformed or not the one the database was sealed with (one line)."""


async def sealed_sample(sessions: async_sessionmaker[AsyncSession]) -> str | None:
    """One sealed reporter identity of the database, or None when it holds none yet (a new database
    has no tables: the key is settled before the migrations, which seal with it)."""
    async with sessions() as session:
        tables = await session.run_sync(lambda s: inspect(s.connection()).has_table(Reporter.__tablename__))
        if not tables:
            return None
        return (await session.execute(select(Reporter.identity).order_by(Reporter.id).limit(1))).scalar()


def privacy_for(configured: str | None, key_file: Path, sample: str | None) -> Privacy:
    """The Privacy for this database, refusing a key that cannot open the identities already sealed.

    Without this check a lost `encryption.key` was silently replaced by a new one: every button already
    sent became "forged" and reporters' /mycases came back empty.
    """
    source = "ENCRYPTION_KEY" if configured else str(key_file)
    key = configured or read_key_file(key_file)
    if key is None and sample is not None:
        raise KeyProblem(f"the database holds sealed reporter identities but there is no encryption key: "
                         f"restore {key_file} from your backup (or set ENCRYPTION_KEY to that key)")
    try:
        privacy = Privacy(key if key is not None else _create_key(key_file))
    except ValueError:
        raise KeyProblem(f"{source} is not a Fernet key (44 url-safe base64 characters); restore the key "
                         "the database was sealed with") from None
    if sample is not None:
        try:
            privacy.open(sample)
        except ValueError:
            raise KeyProblem(f"the encryption key in {source} does not open the reporter identities in the "
                             f"database: restore the key they were sealed with ({key_file} from your "
                             "backup, or the right ENCRYPTION_KEY)") from None
    return privacy


def load_or_create_key(configured: str | None, key_file: Path) -> str:
    """ENCRYPTION_KEY when set; else a key kept beside the embedded database, created once (mode 0600)."""
    if configured:
        return configured
    stored = read_key_file(key_file)
    return stored if stored is not None else _create_key(key_file)


def _create_key(key_file: Path) -> str:
    """A new key, kept in `key_file` (which must not exist yet), readable by its owner only."""
    key = Fernet.generate_key().decode()
    try:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise KeyProblem(f"cannot create the encryption key file {key_file}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def read_key_file(key_file: Path) -> str | None:
    """The key kept in `key_file`, or None when there is no such file yet.

    A key others can read opens every sealed identity: the file is made private, as the database is, or
    refused when the bot may not change its mode. One that cannot be read is refused (KeyProblem), never
    replaced."""
    try:
        mode = key_file.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KeyProblem(f"cannot read the encryption key file {key_file}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise KeyProblem(f"the encryption key file {key_file} is {what}: put the key file there (from your "
                         "backup), or set ENCRYPTION_KEY")
    if mode & 0o077:
        _make_private(key_file, stat.S_IMODE(mode))
    try:
        return key_file.read_bytes().decode("utf-8", "replace").strip()
    except OSError as exc:
        raise KeyProblem(f"cannot read the encryption key file {key_file}: {exc.strerror}") from None


def _make_private(key_file: Path, mode: int) -> None:
    try:
        key_file.chmod(mode & 0o700)
    except OSError:
        raise KeyProblem(f"the encryption key file {key_file} is open to other users (mode {mode:04o}) and "
                         f"the bot may not change that: make it private as its owner (chmod 600 {key_file})"
                         ) from None
    log.warning("the encryption key file %s was open to other users (mode %04o); it is now %04o",
                key_file, mode, mode & 0o700)


def key_file_for(database_url: str) -> Path:
    """Where a generated encryption key lives: beside the SQLite database, else in data/."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / "encryption.key"
    return Path("data/encryption.key")


async def migrate_with_key(database_url: str, configured: str | None) -> None:
    """Migrate the database as the bot does on start, with its encryption key (a command that reads the
    database may be the first to run after an upgrade, and a migration seals what it holds); raises
    KeyProblem like the bot. A database already migrated needs no key."""
    engine = create_engine(database_url)
    try:
        await _migrate_with_key(database_url, configured, engine)
    finally:
        await engine.dispose()


async def read_migrated(database_url: str, configured: str | None,
                        read: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """`read` run on the database after `migrate_with_key`, through one engine (for the commands that
    read the database: the review exports)."""
    engine = create_engine(database_url)
    try:
        await _migrate_with_key(database_url, configured, engine)
        return await read(session_factory(engine))
    finally:
        await engine.dispose()


async def _migrate_with_key(database_url: str, configured: str | None, engine: AsyncEngine) -> None:
    if await at_head(engine):
        return
    sample = await sealed_sample(session_factory(engine))
    await migrate(database_url, engine, keys=privacy_for(configured, key_file_for(database_url), sample))
