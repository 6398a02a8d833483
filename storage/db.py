"""Engines, sessions and migrations for SQLite (default, embedded) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

    from storage.sealing import Keys

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r'^(down_revision|revision)\b[^=]*=\s*(None|"([^"]*)")', re.M)


def _sqlite_file(database: str | None) -> Path | None:
    """The file of a SQLite database, or None for one in memory or given as a `file:` URI."""
    if database and database != ":memory:" and not database.startswith("file:"):
        return Path(database)
    return None


def _prepare_sqlite_path(url: str) -> None:
    """Create the database file readable by its owner only (0600): it holds sealed identities and
    case texts; SQLite gives its -wal and -shm files the same mode.

    An existing file is never opened here. Closing any descriptor of a file drops every POSIX lock the
    process holds on it, SQLite's included: the next process to open the database would then take the
    write-ahead log of a live connection for abandoned and delete it, with the commits it holds."""
    path = _sqlite_file(make_url(url).database)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))  # nobody can have it open yet
    except FileExistsError:
        mode = path.stat().st_mode
        if mode & 0o077:  # closed to others; a file kept read-only stays so (and is refused when written)
            with contextlib.suppress(PermissionError):
                path.chmod(stat.S_IMODE(mode) & 0o700)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; on SQLite with WAL, foreign keys on, a busy timeout for other processes, and
    `secure_delete`, so that what a row held before it was changed or deleted is overwritten with zeros
    rather than left in the file's free space.

    SQLite lets one writer in at a time, and a connection that finds the file locked sleeps and retries
    (1 ms, then longer, up to 100 ms a try): with many connections in one process, a burst of updates spent
    its time in those sleeps. So one process uses one connection, and its transactions queue in the pool
    instead; other processes (a second instance, the CLI) still wait through the busy timeout.

    A database error's text leaves out the statement's values (citizens' words, identities), so that no
    log or outbox error quotes them."""
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        _prepare_sqlite_path(url)
        if ":memory:" not in url and "mode=memory" not in url:
            kwargs = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60, **kwargs}
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    idle_ping = kwargs.pop("idle_ping", IDLE_PING_SECONDS)
    engine = create_async_engine(url, **kwargs)
    _ping_after_idle(engine, idle_ping)
    return engine


# A transaction that failed only because another ran at the same moment, and may simply be run again:
# PostgreSQL's serialization failure and deadlock detected (it aborts one of the transactions in a cycle).
CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})


def lost_a_race(exc: BaseException) -> bool:
    """Whether `exc` is a serialization failure or a deadlock, after which the transaction is retried."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in CONFLICT_SQLSTATES


IDLE_PING_SECONDS = 5.0


def _ping_after_idle(engine: AsyncEngine, seconds: float) -> None:
    """A pooled connection that rested longer than `seconds` is pinged before use and replaced when the
    server has dropped it (a restart, a failover, a firewall's timeout), so the next update does not fail
    on it. SQLAlchemy's `pool_pre_ping` pings before every use: a round trip that cost 0.2-0.4 ms of
    CPU a transaction, about a tenth of a citizen's step, while a connection busy a moment ago is almost
    always still alive (one the server drops mid-burst fails that one transaction, as it always could)."""
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _rested(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _alive(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < seconds:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the pool drops this connection and checks out another
            raise DisconnectionError(f"connection dropped while idle: {exc}") from exc


# pg_advisory_lock key of the set-up below ("BOTSETUP" in ASCII)
SETUP_LOCK = 0x424F545345545550


@contextlib.asynccontextmanager
async def setup_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """One instance at a time migrates and writes what every instance writes on start (the agencies).

    Instances started together on a new database (a first deployment of two replicas, or of a worker
    beside the polling instance) would otherwise both create the tables, or both insert one agency, and
    one of them would fail to start. PostgreSQL: a session advisory lock; SQLite: a lock on a file beside
    the database."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SETUP_LOCK})
            await connection.commit()  # the lock outlives the transaction; no snapshot is held meanwhile
            try:
                yield
            finally:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SETUP_LOCK})
                await connection.commit()
        return
    path = _sqlite_file(engine.url.database)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)  # waits in a thread, not in the loop
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions of one engine; their own sync `sessionmaker` takes session events for these sessions only
    (the outbox sender listens for commits that queue messages)."""
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=sessionmaker())


def alembic_config(url: str, keys: Keys | None = None) -> Config:
    """Alembic's configuration for `url`; `keys` (the encryption key's) for migrations that seal."""
    from alembic.config import Config

    from storage.sealing import ATTRIBUTE

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if keys is not None:
        cfg.attributes[ATTRIBUTE] = keys
    return cfg


def _upgrade(url: str, keys: Keys | None, revision: str = "head") -> None:
    from alembic import command

    if url.startswith("sqlite"):
        _prepare_sqlite_path(url)
    command.upgrade(alembic_config(url, keys), revision)


def script_head() -> str | None:
    """The newest revision of the migration scripts, read from their text (Alembic itself takes a third
    of a second to import); None when the scripts do not have exactly one head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        for name, _, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            if value:
                (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def at_head(engine: AsyncEngine) -> bool:
    """Whether the database is already at the scripts' newest revision."""
    head = script_head()
    if head is None:
        return False
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            found = result.scalars().all()
    except DBAPIError:
        return False  # a new database: no alembic_version table yet
    return found == [head]


async def migrate(url: str, engine: AsyncEngine | None = None, keys: Keys | None = None) -> None:
    """Bring the database schema to the newest revision (runs Alembic in a worker thread); with the
    running `engine`, a database already there is recognised without loading Alembic. A migration that
    seals stored values needs `keys` (`bot.privacy.Privacy`) when the database holds any."""
    if engine is not None and await at_head(engine):
        return
    await asyncio.to_thread(_upgrade, url, keys)
