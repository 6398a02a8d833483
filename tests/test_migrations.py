"""The Alembic migrations describe exactly the models, and a fresh SQLite file is created on start."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import create_engine, migrate
from storage.models import Base


def _diff(sync_conn):
    ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    return compare_metadata(ctx, Base.metadata)


async def test_migrated_schema_matches_models(engine) -> None:
    async with engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


def test_first_start_creates_database_file_and_directory(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/new/dir/bot.db"
    asyncio.run(migrate(url))
    asyncio.run(migrate(url))  # idempotent

    async def tables() -> set[str]:
        eng = create_engine(url)
        async with eng.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await eng.dispose()
        return names

    assert {"cases", "reporters", "audit_events", "outbox", "jobs", "meetings"} <= asyncio.run(tables())
