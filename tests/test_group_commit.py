"""Group commit: steps that arrive together share a transaction, each caller is answered only after its
step is committed, and one step's failure stays its own."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import create_engine, lost_a_race, session_factory
from storage.group_commit import GroupCommit
from storage.models import ChatUser


def count_commits(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    commits = [0]
    engine = sessions.kw["bind"].sync_engine
    event.listen(engine, "commit", lambda _conn: commits.__setitem__(0, commits[0] + 1))
    return commits


async def stored(sessions: async_sessionmaker[AsyncSession], user_id: str) -> bool:
    async with sessions() as session:
        return await session.get(ChatUser, ("telegram", user_id)) is not None


def newcomer(user_id: str):
    async def work(session: AsyncSession) -> str:
        session.add(ChatUser(channel="telegram", user_key=user_id, locale="vi"))
        return user_id
    return work


async def test_steps_arriving_together_share_a_commit_and_each_waits_for_it(sessions) -> None:
    group = GroupCommit(sessions)
    commits = count_commits(sessions)

    async def one(n: int) -> bool:
        await group.run(newcomer(str(n)))
        return await stored(sessions, str(n))  # answered only once the row is committed

    assert await asyncio.gather(*(one(n) for n in range(20))) == [True] * 20
    assert commits[0] <= 2  # one per step would be 20


async def test_a_lone_step_has_a_transaction_of_its_own(sessions) -> None:
    group = GroupCommit(sessions)
    commits = count_commits(sessions)
    assert await group.run(newcomer("7")) == "7"
    assert commits[0] == 1 and await stored(sessions, "7")


async def test_a_failing_step_fails_alone_and_the_others_are_stored(sessions) -> None:
    group = GroupCommit(sessions)

    async def broken(session: AsyncSession) -> str:
        session.add(ChatUser(channel="telegram", user_key="bad", locale="vi"))
        raise ValueError("this step is broken")

    results = await asyncio.gather(
        group.run(newcomer("1")), group.run(broken), group.run(newcomer("2")), return_exceptions=True
    )
    assert results[0] == "1" and results[2] == "2"
    assert isinstance(results[1], ValueError)
    assert await stored(sessions, "1") and await stored(sessions, "2")
    assert not await stored(sessions, "bad")


async def test_two_steps_writing_the_same_row_the_second_gets_the_conflict(sessions) -> None:
    group = GroupCommit(sessions)
    first, second = await asyncio.gather(group.run(newcomer("5")), group.run(newcomer("5")),
                                         return_exceptions=True)
    assert first == "5"
    assert isinstance(second, IntegrityError)  # the shared commit failed; alone, only the second does
    assert await stored(sessions, "5")


async def test_a_caller_that_gave_up_before_its_turn_is_skipped(sessions) -> None:
    group = GroupCommit(sessions)
    release, ran = asyncio.Event(), []

    async def slow(session: AsyncSession) -> str:
        await release.wait()
        return "slow"

    async def tracked(session: AsyncSession) -> str:
        ran.append("tracked")
        return "tracked"

    slow_task = asyncio.create_task(group.run(slow))
    await asyncio.sleep(0)
    given_up = asyncio.create_task(group.run(tracked))
    kept = asyncio.create_task(group.run(newcomer("9")))
    await asyncio.sleep(0.01)
    given_up.cancel()
    release.set()
    assert await slow_task == "slow" and await kept == "9"
    assert ran == []


async def test_callers_are_told_when_the_lane_stops_instead_of_waiting_forever(sessions) -> None:
    group = GroupCommit(sessions)
    never = asyncio.Event()

    async def stuck(session: AsyncSession) -> None:
        await never.wait()

    first = asyncio.create_task(group.run(stuck))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(group.run(newcomer("3")))
    await asyncio.sleep(0)
    for lane in list(group._tasks):
        lane.cancel()
    for caller in (first, second):
        with pytest.raises(RuntimeError, match="interrupted"):
            await asyncio.wait_for(caller, 5)
    assert not await stored(sessions, "3")


async def test_a_postgresql_deadlock_is_recognised_as_a_lost_race(pg_database) -> None:
    """Two transactions taking two rows in opposite order: PostgreSQL aborts one of them, and that
    error is the one a step is run again for."""
    engine = create_engine(pg_database)
    try:
        await _deadlock_and_check(session_factory(engine))
    finally:
        await engine.dispose()


async def _deadlock_and_check(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await session.execute(text("CREATE TABLE IF NOT EXISTS race (id int primary key, n int)"))
        await session.execute(text("DELETE FROM race"))
        await session.execute(text("INSERT INTO race VALUES (1, 0), (2, 0)"))
    both = asyncio.Barrier(2)

    async def take(first: int, second: int) -> None:
        async with sessions() as session, session.begin():
            await session.execute(text("UPDATE race SET n = n + 1 WHERE id = :id"), {"id": first})
            await both.wait()
            await session.execute(text("UPDATE race SET n = n + 1 WHERE id = :id"), {"id": second})

    outcomes = await asyncio.gather(take(1, 2), take(2, 1), return_exceptions=True)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(errors) == 1 and lost_a_race(errors[0]), outcomes
    assert not lost_a_race(IntegrityError("INSERT", {}, Exception("duplicate key")))
    async with sessions() as session:
        assert (await session.execute(select(text("sum(n)")).select_from(text("race")))).scalar() == 2
        await session.execute(text("DROP TABLE race"))
        await session.commit()


async def test_a_step_queued_right_after_a_lane_finished_still_runs(sessions) -> None:
    """A caller that is answered and queues its next step before the finished lane's task has ended
    (nothing awaited in between) must not find every lane taken."""
    group = GroupCommit(sessions)

    async def fails(session: AsyncSession) -> None:
        raise ValueError("first")

    with pytest.raises(ValueError):
        await group.run(fails)
    async with asyncio.timeout(5):  # in this task: queued before the lane's task has ended
        assert await group.run(newcomer("4")) == "4"


async def test_prepare_reads_for_the_whole_batch_and_a_failing_one_costs_nothing(sessions) -> None:
    """`prepare` is told every key of a shared transaction before its units run, in that transaction;
    when it fails, the units still run, each alone."""
    told: list[list[str]] = []

    async def prepare(session: AsyncSession, keys: list[str]) -> None:
        told.append(sorted(keys))
        session.info["prepared"] = True

    async def unit(session: AsyncSession) -> bool:
        return bool(session.info.get("prepared"))

    group = GroupCommit(sessions, prepare=prepare)
    results = await asyncio.gather(*(group.run(unit, key=str(n)) for n in range(5)))
    assert told == [["0", "1", "2", "3", "4"]] and results == [True] * 5

    async def broken(session: AsyncSession, keys: list[str]) -> None:
        raise RuntimeError("could not read ahead")

    group = GroupCommit(sessions, prepare=broken)
    stored_ids = await asyncio.gather(*(group.run(newcomer(str(n)), key=str(n)) for n in range(10, 13)))
    assert stored_ids == ["10", "11", "12"]
    assert all([await stored(sessions, n) for n in stored_ids])
