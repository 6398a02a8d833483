"""Claiming outbox rows and jobs: each due row goes to exactly one worker, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from storage.db import create_engine, session_factory
from storage.models import Job, OutboxMessage
from storage.queue import Sent, claim_jobs, claim_outbox, delete_held, record_sent

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def _row(n: int, **kw: object) -> OutboxMessage:
    values: dict[str, object] = {"channel": "telegram", "chat_id": str(n % 7), "kind": "text",
                                 "payload": {"text": f"m{n}"}, "idempotency_key": f"k{n}", "not_before": NOW}
    values.update(kw)
    return OutboxMessage(**values)


async def test_only_due_rows_are_claimed(sessions) -> None:
    async with sessions() as session:
        session.add_all([
            _row(1), _row(2, not_before=NOW + dt.timedelta(seconds=5)), _row(3, status="sent"),
            _row(4, status="failed"),
            _row(5, status="sending", claimed_by="other", claimed_until=NOW + dt.timedelta(seconds=30)),
        ])
        await session.commit()
    async with sessions() as session:
        claimed = await claim_outbox(session, "w1", 10, 60, NOW)
    assert [r.idempotency_key for r in claimed] == ["k1"]
    assert claimed[0].status == "sending" and claimed[0].claimed_by == "w1"
    assert claimed[0].claimed_until == NOW + dt.timedelta(seconds=60)
    async with sessions() as session:
        stored = await session.get(OutboxMessage, claimed[0].id)
        assert stored is not None and stored.status == "sending" and stored.claimed_by == "w1"


async def test_expired_lease_is_reclaimed_by_another_worker(sessions) -> None:
    async with sessions() as session:
        session.add(_row(1))
        await session.commit()
    async with sessions() as session:
        assert len(await claim_outbox(session, "crashed", 10, 60, NOW)) == 1
    async with sessions() as session:
        assert await claim_outbox(session, "w2", 10, 60, NOW + dt.timedelta(seconds=59)) == []
    async with sessions() as session:
        again = await claim_outbox(session, "w2", 10, 60, NOW + dt.timedelta(seconds=61))
    assert [r.claimed_by for r in again] == ["w2"]


async def test_limit_takes_oldest_rows_first(sessions) -> None:
    async with sessions() as session:
        session.add_all([_row(n, not_before=NOW - dt.timedelta(seconds=n)) for n in range(1, 6)])
        await session.commit()
    async with sessions() as session:
        claimed = await claim_outbox(session, "w", 2, 60, NOW)
    assert [r.idempotency_key for r in claimed] == ["k1", "k2"]


async def test_a_waiting_row_holds_back_newer_rows_of_its_chat_only(sessions) -> None:
    async with sessions() as session:
        session.add_all([
            _row(1, chat_id="7", not_before=NOW + dt.timedelta(seconds=5)),  # deferred card
            _row(2, chat_id="7"),  # its edit, due now
            _row(3, chat_id="8"),
            _row(4, chat_id="9", status="sending", claimed_by="x",
                 claimed_until=NOW + dt.timedelta(seconds=9)),
            _row(5, chat_id="9"),
        ])
        await session.commit()
    async with sessions() as session:
        claimed = await claim_outbox(session, "w", 10, 60, NOW)
    assert [r.idempotency_key for r in claimed] == ["k3"]
    async with sessions() as session:
        later = await claim_outbox(session, "w", 10, 60, NOW + dt.timedelta(seconds=10))
    assert [r.idempotency_key for r in later] == ["k1", "k2", "k4", "k5"]


async def test_concurrent_claimers_never_share_a_row(db_url: str) -> None:
    """Two workers with their own engines claim in small batches until the table is drained."""
    total = 300
    engines = [create_engine(db_url), create_engine(db_url)]
    try:
        async with session_factory(engines[0])() as session:
            session.add_all([_row(n, chat_id=str(n)) for n in range(total)])
            await session.commit()

        async def worker(name: str, engine) -> list[int]:
            got: list[int] = []
            factory = session_factory(engine)
            while True:
                async with factory() as session:
                    batch = await claim_outbox(session, name, 7, 60, NOW)
                if not batch:
                    return got
                got.extend(r.id for r in batch)
                await asyncio.sleep(0)

        a, b = await asyncio.gather(worker("a", engines[0]), worker("b", engines[1]))
        assert not set(a) & set(b)
        assert len(a) + len(b) == total
        assert a and b, "both workers should have taken part"
        async with session_factory(engines[0])() as session:
            owners = dict((await session.execute(select(OutboxMessage.id, OutboxMessage.claimed_by))).all())
        assert all(owners[i] == "a" for i in a) and all(owners[i] == "b" for i in b)
    finally:
        for engine in engines:
            await engine.dispose()


async def test_jobs_claim_due_and_expired(sessions) -> None:
    async with sessions() as session:
        session.add_all([
            Job(kind="remind", run_at=NOW - dt.timedelta(minutes=1)),
            Job(kind="later", run_at=NOW + dt.timedelta(minutes=1)),
            Job(kind="stuck", run_at=NOW - dt.timedelta(hours=1), status="running", claimed_by="dead",
                claimed_until=NOW - dt.timedelta(seconds=1)),
            Job(kind="done", run_at=NOW - dt.timedelta(hours=1), status="done"),
        ])
        await session.commit()
    async with sessions() as session:
        claimed = await claim_jobs(session, "w", 10, 30, NOW)
    assert sorted(j.kind for j in claimed) == ["remind", "stuck"]
    assert {j.status for j in claimed} == {"running"} and {j.claimed_by for j in claimed} == {"w"}


async def test_concurrent_job_claimers_never_share_a_job(db_url: str) -> None:
    engines = [create_engine(db_url), create_engine(db_url)]
    try:
        async with session_factory(engines[0])() as session:
            session.add_all([Job(kind="k", run_at=NOW, dedupe_key=f"j{n}") for n in range(200)])
            await session.commit()

        async def worker(name: str, engine) -> list[int]:
            got: list[int] = []
            while True:
                async with session_factory(engine)() as session:
                    batch = await claim_jobs(session, name, 5, 60, NOW)
                if not batch:
                    return got
                got.extend(j.id for j in batch)

        a, b = await asyncio.gather(worker("a", engines[0]), worker("b", engines[1]))
        assert not set(a) & set(b) and len(a) + len(b) == 200
    finally:
        for engine in engines:
            await engine.dispose()


async def test_one_statement_records_a_batch_each_row_its_values_only_where_still_held(sessions) -> None:
    now = dt.datetime(2026, 5, 4, 3, 0, tzinfo=dt.UTC)
    async with sessions() as session:
        rows = [_row(n, status="sending", claimed_by="w1", payload={}, sealed=f"câu hỏi {n}")
                for n in range(4)]
        rows[3].claimed_by = "w2"  # its lease ran out and another worker took it
        session.add_all(rows)
        await session.commit()
        ids = [r.id for r in rows]
    notes = [f"ghi chú {n}" for n in range(4)]
    deliveries = [Sent(i, now + dt.timedelta(seconds=n), f"m{n}" if n != 2 else None, notes[n])
                  for n, i in enumerate(ids)]
    async with sessions() as session:
        recorded = set(await session.scalars(record_sent(deliveries, "w1")))
        await session.commit()
    assert recorded == set(ids[:3])
    async with sessions() as session:
        stored = {r.id: r for r in (await session.scalars(select(OutboxMessage))).all()}
    for n, i in enumerate(ids[:3]):
        row = stored[i]
        assert (row.status, row.message_id, row.payload, row.sealed) == (
            "sent", f"m{n}" if n != 2 else None, {}, notes[n])
        at = now + dt.timedelta(seconds=n)
        assert row.sent_at == row.created_at == row.not_before == at, "the note keeps no other time"
        assert row.claimed_until is None
    assert (stored[ids[3]].status, stored[ids[3]].sealed) == ("sending", "câu hỏi 3")


async def test_only_rows_still_held_are_deleted(sessions) -> None:
    async with sessions() as session:
        rows = [_row(n, status="sending", claimed_by="w1") for n in range(3)]
        rows[1].claimed_by = "w2"
        rows[2].status = "pending"
        session.add_all(rows)
        await session.commit()
        ids = [r.id for r in rows]
    async with sessions() as session:
        deleted = set(await session.scalars(delete_held(ids, "w1")))
        await session.commit()
    assert deleted == {ids[0]}
    async with sessions() as session:
        assert set(await session.scalars(select(OutboxMessage.id))) == set(ids[1:])
