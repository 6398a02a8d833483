"""Shared fixtures: a migrated database on SQLite and on PostgreSQL for every storage-backed test.

PostgreSQL tests use the server at TEST_POSTGRES_URL (default: the local trust-auth server); when it is
not reachable they are skipped with the reason. Each test gets an empty, fully migrated schema.
"""

from __future__ import annotations

from handlers.telegram import lazy_models  # noqa: F401  # isort: skip  (aiogram imported as the bot does)

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from simulator.botapi import FakeBotAPI
from storage.db import create_engine, migrate, session_factory
from storage.models import Base

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def _pg_reason() -> str | None:
    import asyncpg

    url = PG_URL.replace("postgresql+asyncpg", "postgresql")
    try:
        conn = await asyncio.wait_for(asyncpg.connect(url), timeout=3)
    except Exception as exc:  # any failure means: skip, and say why
        return f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}: {exc}"
    await conn.close()
    return None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"
    asyncio.run(migrate(f"sqlite+aiosqlite:///{path}"))
    return path


async def create_pg_database(prefix: str) -> tuple[str, str]:
    """A new, empty database on the test server: its name and URL."""
    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return name, PG_URL.rsplit("/", 1)[0] + f"/{name}"


async def drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    reason = asyncio.run(_pg_reason())
    if reason:
        pytest.skip(reason)
    name, url = asyncio.run(create_pg_database("bot_test"))
    asyncio.run(migrate(url))
    yield url
    asyncio.run(drop_pg_database(name))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database URL; each test runs once per backend."""
    if request.param == "sqlite":
        path = tmp_path / "bot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("pg_database")

    async def _truncate() -> None:
        engine = create_engine(url)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await engine.dispose()

    asyncio.run(_truncate())
    return url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


ROOT = Path(__file__).resolve().parent.parent
SAMPLE_RULES = ROOT / "rules" / "quang-ninh.yaml"


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    """A local Bot-API-compatible server (simulator/botapi.py) on a free loopback port."""
    async with FakeBotAPI() as srv:
        yield srv


@pytest.fixture(scope="session")
def sample_rules():
    from bot.rules import load_rules

    return load_rules(SAMPLE_RULES)


@pytest.fixture
def settings(db_url: str):
    from bot.settings import Settings

    return Settings(_env_file=None, database_url=db_url, admin_ids=["1000"])


@pytest.fixture
async def core(sessions, sample_rules, settings):
    """A Core on a migrated database with the sample rules' agencies synced in."""
    from cryptography.fernet import Fernet

    from bot.agencies import sync_agencies
    from bot.core import Core
    from bot.privacy import Privacy
    from bot.workdays import WorkCalendar

    await sync_agencies(sessions, sample_rules)
    privacy = Privacy(Fernet.generate_key())
    return Core(settings=settings, rules=sample_rules, sessions=sessions, privacy=privacy,
                calendar=WorkCalendar(settings.timezone))
