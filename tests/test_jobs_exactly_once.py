"""Several bot instances share one jobs table: every due job runs once, none is lost or doubled, a killed
instance's leased jobs are taken over, and jobs missed while the bot was down run once at start."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot.jobs import JobRunner
from storage.models import AuditEvent, Job, utcnow
from storage.queue import claim_jobs
from tests.job_instance import ran

T0 = dt.datetime(2027, 2, 1, 1, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parent.parent


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


async def instance(db_url: str, worker: str, mode: str = "drain") -> asyncio.subprocess.Process:
    """A separate bot process running only its job runner (tests/job_instance.py)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.job_instance", db_url, worker, mode, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


@pytest.mark.parametrize("instances", [2, 3])
async def test_instances_on_postgresql_clear_thousands_of_jobs_exactly_once(
    db_url: str, sessions, instances: int
) -> None:
    """Separate processes, as several bot instances behind a webhook are, share 2,000 due jobs."""
    if not db_url.startswith("postgresql"):
        pytest.skip("several writers claiming at once is the PostgreSQL deployment")
    n = 2000
    await add_jobs(sessions, n, utcnow() - dt.timedelta(hours=1))
    procs = [await instance(db_url, f"instance-{i}") for i in range(instances)]
    outputs = [await asyncio.wait_for(p.communicate(), 600) for p in procs]
    assert [p.returncode for p in procs] == [0] * instances, [err.decode()[-2000:] for _, err in outputs]
    claimed = [int(out.decode().split()[-1]) for out, _ in outputs]
    done = await effects(sessions)
    assert len(done) == n, "none lost"
    assert set(done.values()) == {1}, "none doubled"
    # A claim may be taken over when its 2-second lease runs out on a loaded machine; the run itself is
    # still once (above), so claims add up to at least the jobs, not exactly.
    assert sum(claimed) >= n
    assert await statuses(sessions) == {"done": n}


async def test_an_instance_killed_mid_job_is_taken_over_after_its_lease(db_url: str, sessions) -> None:
    """SIGKILL a process while it holds leased jobs: another instance runs each of them once, after the
    lease (2 s) runs out and not before."""
    await add_jobs(sessions, 25, utcnow() - dt.timedelta(minutes=5))
    doomed = await instance(db_url, "doomed", "hang")
    assert doomed.stdout is not None
    line = await asyncio.wait_for(doomed.stdout.readline(), 120)
    assert line.strip() == b"claimed"
    doomed.send_signal(signal.SIGKILL)
    await doomed.wait()
    assert (await statuses(sessions)).get("running") == 20, "one batch leased by the killed instance"
    survivor = JobRunner(sessions, {"test.ran": ran}, "survivor", lease_seconds=2.0)
    await drain(survivor)
    assert len(await effects(sessions)) <= 5, "the leased ones wait for their lease to run out"
    await asyncio.sleep(2.5)
    await drain(survivor)
    done = await effects(sessions)
    assert len(done) == 25 and set(done.values()) == {1}
    assert await statuses(sessions) == {"done": 25}


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
