"""One bot instance's job runner as its own process, for the several-instances tests.

    python -m tests.job_instance DATABASE_URL WORKER_ID drain|hang

`drain` runs due jobs until none is left and exits; `hang` claims jobs with a 2-second lease, prints
"claimed" and never finishes its first one, to be killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys

from sqlalchemy.ext.asyncio import AsyncSession

from bot.jobs import JobRunner
from storage.db import create_engine, session_factory
from storage.models import AuditEvent, Job

KIND = "test.ran"
AT = dt.datetime(2027, 2, 1, 1, 0, tzinfo=dt.UTC)


async def ran(session: AsyncSession, job: Job) -> None:
    """The job's visible effect: one audit row naming it, committed with the job's "done"."""
    session.add(AuditEvent(actor_type="system", action="job_ran", reason=str(job.id), at=AT))


async def hang(session: AsyncSession, job: Job) -> None:
    print("claimed", flush=True)
    await asyncio.Event().wait()


async def main(url: str, worker: str, mode: str) -> None:
    engine = create_engine(url)
    handler = ran if mode == "drain" else hang
    lease = 2.0 if mode == "hang" else 300.0  # a short lease only for the instance that will be killed
    runner = JobRunner(session_factory(engine), {KIND: handler}, worker, lease_seconds=lease)
    claimed = 0
    while batch := await runner.run_once():
        claimed += batch
    print(f"claimed {claimed}", flush=True)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
