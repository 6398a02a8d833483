"""The schema: migrations apply on both backends, and the audit log cannot be rewritten."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from storage.models import Agency, AuditEvent, Case


async def _case(session, code: str = "ABCD-EFGH") -> Case:
    session.add(Agency(id="thanh-tra", name_vi="Thanh tra tỉnh", name_en="Provincial Inspectorate"))
    case = Case(
        code=code, pin_hash="x", channel="telegram", kind="complaint", summary="Thu hồi đất không đền bù",
        lead_agency_id="thanh-tra", received_on=dt.date(2026, 11, 23),
    )
    session.add(case)
    await session.flush()
    return case


async def test_case_round_trip_keeps_aware_utc_times(sessions) -> None:
    async with sessions() as session:
        case = await _case(session)
        await session.commit()
    async with sessions() as session:
        loaded = (await session.execute(select(Case))).scalar_one()
        assert loaded.code == "ABCD-EFGH"
        assert loaded.created_at.tzinfo is not None
        assert abs(loaded.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
        assert loaded.received_on == dt.date(2026, 11, 23)
        assert case.id == loaded.id


async def test_audit_events_cannot_be_changed_or_deleted(sessions) -> None:
    async with sessions() as session:
        case = await _case(session)
        session.add(AuditEvent(case_id=case.id, actor_type="system", action="created"))
        await session.commit()
    async with sessions() as session:
        ev = (await session.execute(select(AuditEvent))).scalar_one()
        ev.action = "forged"
        with pytest.raises(PermissionError):
            await session.flush()
    async with sessions() as session:
        ev = (await session.execute(select(AuditEvent))).scalar_one()
        assert ev.action == "created"
        await session.delete(ev)
        with pytest.raises(PermissionError):
            await session.flush()


async def test_receipt_codes_are_unique(sessions) -> None:
    from sqlalchemy.exc import IntegrityError

    async with sessions() as session:
        await _case(session)
        await session.commit()
    async with sessions() as session:
        session.add(Case(code="ABCD-EFGH", pin_hash="y", channel="telegram", kind="complaint", summary="x",
                         lead_agency_id="thanh-tra", received_on=dt.date(2026, 11, 23)))
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_a_connection_the_server_dropped_while_idle_is_replaced(pg_database) -> None:
    """PostgreSQL restarted (here: the bot's backend killed) while the bot was quiet: its next transaction
    gets a fresh connection instead of failing on the dead one."""
    import asyncio

    import asyncpg
    from sqlalchemy import text

    from storage.db import create_engine

    engine = create_engine(pg_database, idle_ping=0.2)
    try:
        async with engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        admin = await asyncpg.connect(pg_database.replace("postgresql+asyncpg", "postgresql"))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        await asyncio.sleep(0.4)  # longer than the idle ping's threshold
        async with engine.connect() as conn:
            again = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert again != pid
    finally:
        await engine.dispose()


async def test_a_database_error_does_not_quote_the_values_it_was_given(tmp_path) -> None:
    """A failed statement's text reaches logs and outbox errors: a citizen's words must not be in it."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from storage.db import create_engine

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/values.db")
    insert, name = text("INSERT INTO reporters VALUES (:name)"), {"name": "Nguyễn Văn Bí Mật"}
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE reporters (name TEXT PRIMARY KEY)"))
            await conn.execute(insert, name)
        with pytest.raises(IntegrityError) as failed:
            async with engine.begin() as conn:
                await conn.execute(insert, name)
    finally:
        await engine.dispose()
    assert "UNIQUE" in str(failed.value)
    assert "Bí Mật" not in str(failed.value)
