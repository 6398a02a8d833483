"""Several bot instances share one jobs table: every due job runs once, none is lost or doubled, a killed
instance's leased jobs are taken over, and jobs missed while the bot was down run once at start."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, insert, select

from bot.jobs import JobRunner
from storage.db import create_engine, session_factory
from storage.models import AuditEvent, Job, utcnow
from storage.queue import claim_jobs

T0 = dt.datetime(2027, 2, 1, 1, 0, tzinfo=dt.UTC)


async def ran(session, job: Job) -> None:
    """The job's visible effect: one audit row naming it, in the job's own transaction."""
    session.add(AuditEvent(actor_type="system", action="job_ran", reason=str(job.id), at=T0))


async def add_jobs(sessions, n: int, run_at: dt.datetime) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            insert(Job),
            [
                {
                    "kind": "test.ran",
                    "run_at": run_at - dt.timedelta(seconds=i % 600),
                    "payload": {},
                    "dedupe_key": f"t:{i}",
                    "status": "pending",
                    "attempts": 0,
                    "created_at": utcnow(),
                }
                for i in range(n)
            ],
        )


async def effects(sessions) -> dict[str, int]:
    async with sessions() as session:
        rows = (
            await session.execute(
                select(AuditEvent.reason, func.count())
                .where(AuditEvent.action == "job_ran")
                .group_by(AuditEvent.reason)
            )
        ).all()
    return {str(reason): int(count) for reason, count in rows}


async def statuses(sessions) -> dict[str, int]:
    async with sessions() as session:
        rows = (await session.execute(select(Job.status, func.count()).group_by(Job.status))).all()
    return {str(status): int(count) for status, count in rows}


async def drain(runner: JobRunner) -> int:
    total = 0
    while claimed := await runner.run_once():
        total += claimed
    return total


@pytest.mark.parametrize("instances", [2, 3])
async def test_instances_on_postgresql_clear_thousands_of_jobs_exactly_once(
    db_url: str, sessions, instances: int
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several writers claiming at once is the PostgreSQL deployment")
    n = 2000
    await add_jobs(sessions, n, T0)
    engines = [create_engine(db_url) for _ in range(instances)]
    try:
        runners = [
            JobRunner(session_factory(e), {"test.ran": ran}, f"instance-{i}", clock=lambda: T0, batch=20)
            for i, e in enumerate(engines)
        ]
        claimed = await asyncio.gather(*(drain(r) for r in runners))
    finally:
        for engine in engines:
            await engine.dispose()
    done = await effects(sessions)
    assert len(done) == n, "none lost"
    assert set(done.values()) == {1}, "none doubled"
    assert sum(claimed) == n
    assert all(c > 0 for c in claimed), f"every instance took a share: {claimed}"
    assert await statuses(sessions) == {"done": n}


async def test_a_killed_instances_leased_jobs_are_taken_over_once(sessions) -> None:
    await add_jobs(sessions, 30, T0)
    async with sessions() as session:
        taken = await claim_jobs(session, "killed", 30, 60, T0)  # claimed, then the process was killed
    assert len(taken) == 30
    survivor = JobRunner(sessions, {"test.ran": ran}, "survivor", clock=lambda: T0 + dt.timedelta(seconds=30))
    assert await drain(survivor) == 0, "the lease still holds"
    survivor.clock = lambda: T0 + dt.timedelta(seconds=61)
    assert await drain(survivor) == 30
    # Had the first instance only hung, its late finish must not run the jobs a second time.
    ghost = JobRunner(sessions, {"test.ran": ran}, "killed", clock=lambda: T0 + dt.timedelta(seconds=62))
    for job in taken:
        await ghost._run(job)
    assert set((await effects(sessions)).values()) == {1} and len(await effects(sessions)) == 30
    assert await statuses(sessions) == {"done": 30}


async def test_jobs_missed_while_down_run_once_at_start(sessions) -> None:
    """A week of jobs came due while no instance ran: the first round after start runs each once."""
    async with sessions() as session, session.begin():
        await session.execute(
            insert(Job),
            [
                {
                    "kind": "test.ran",
                    "run_at": T0 + dt.timedelta(hours=h),
                    "payload": {},
                    "dedupe_key": f"h:{h}",
                    "status": "pending",
                    "attempts": 0,
                    "created_at": utcnow(),
                }
                for h in range(0, 7 * 24, 6)
            ],
        )
    runner = JobRunner(sessions, {"test.ran": ran}, "restarted", clock=lambda: T0 + dt.timedelta(days=8))
    assert await drain(runner) == 28
    assert await drain(runner) == 0
    assert set((await effects(sessions)).values()) == {1} and len(await effects(sessions)) == 28
