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


def test_the_quick_head_check_agrees_with_alembic() -> None:
    from alembic.script import ScriptDirectory

    from storage.db import MIGRATIONS, alembic_config, script_head

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert str(MIGRATIONS) in str(scripts.dir)
    assert script_head() == scripts.get_current_head()


async def test_a_current_database_is_recognised_and_an_older_one_is_upgraded(tmp_path) -> None:
    from sqlalchemy import text

    from storage.db import _upgrade, at_head, script_head

    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    engine = create_engine(url)
    try:
        assert not await at_head(engine)  # a new file: no alembic_version yet
        await asyncio.to_thread(_upgrade, url, None, "0002_delivery")  # as the bot left it versions ago
        assert not await at_head(engine)
        await migrate(url, engine)
        assert await at_head(engine)
        async with engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
            columns = await conn.run_sync(
                lambda c: {x["name"] for x in inspect(c).get_columns("dialog_states")})
        assert version == script_head() and {"user_key", "sealed_chat"} <= columns
    finally:
        await engine.dispose()
