"""The job runner: time-based work (reminders, escalations, meeting notices) stored as rows.

A job is claimed with a lease (storage.queue.claim_jobs), then its handler runs inside a transaction that
also marks the job done, so the handler's changes (case updates, outbox rows) and "done" commit together:
a job that succeeded fires exactly once, and a crash mid-way leaves nothing half-done; the lease expires
and another worker runs it again. A handler that raises is retried with backoff, then marked failed; one
that raises `Deferred` is run again at the time it names, as often as it asks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outage import OutageLog, backoff
from bot.redaction import redact
from storage.models import Job, utcnow
from storage.queue import claim_jobs

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Job], Awaitable[Any]]


async def schedule(
    session: AsyncSession,
    kind: str,
    run_at: dt.datetime,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    case_id: int | None = None,
) -> Job:
    """Add a job in the caller's transaction. With a `dedupe_key` already used, nothing changes and the
    existing job is returned, unless that job was cancelled: then it is scheduled again."""
    if dedupe_key is None:
        job = Job(kind=kind, run_at=run_at, payload=payload or {}, case_id=case_id)
        session.add(job)
        await session.flush()
        return job
    for pending in session.new:
        if isinstance(pending, Job) and pending.dedupe_key == dedupe_key:
            return pending
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(Job).values(kind=kind, run_at=run_at, payload=payload or {}, dedupe_key=dedupe_key,
                           case_id=case_id, status="pending", attempts=0, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    job = (await session.execute(
        select(Job).where(Job.dedupe_key == dedupe_key).execution_options(populate_existing=True)
    )).scalar_one()
    if job.status == "cancelled":
        job.kind, job.run_at, job.payload, job.case_id = kind, run_at, payload or {}, case_id
        job.status, job.attempts, job.last_error = "pending", 0, None
        job.claimed_by, job.claimed_until = None, None
        await session.flush()
    return job


def _like_prefix(key_prefix: str) -> Any:
    escaped = key_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Job.dedupe_key.like(f"{escaped}%", escape="\\")


async def open_jobs(session: AsyncSession, key_prefix: str) -> list[Job]:
    """The pending and running jobs whose dedupe key starts with `key_prefix`, loaded for the caller to
    keep, move or cancel."""
    rows = await session.execute(
        select(Job).where(Job.status.in_(["pending", "running"]), _like_prefix(key_prefix))
    )
    return list(rows.scalars())


async def cancel(session: AsyncSession, *, key_prefix: str | None = None, case_id: int | None = None) -> int:
    """Cancel pending and running jobs by dedupe-key prefix and/or case; returns how many.

    A running job cancelled mid-way does not complete: its handler's transaction is rolled back.
    """
    if key_prefix is None and case_id is None:
        raise ValueError("give key_prefix or case_id")
    query = update(Job).where(Job.status.in_(["pending", "running"]))
    if key_prefix is not None:
        query = query.where(_like_prefix(key_prefix))
    if case_id is not None:
        query = query.where(Job.case_id == case_id)
    result = await session.execute(query.values(status="cancelled", claimed_until=None)
                                   .execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


class _LeaseLost(Exception):
    pass


class Deferred(Exception):
    """Raised by a handler that cannot do its work yet: the job runs again at `at`, its attempts untouched,
    and whatever the handler wrote is rolled back."""

    def __init__(self, at: dt.datetime) -> None:
        super().__init__(f"deferred to {at.isoformat()}")
        self.at = at


class JobRunner:
    """Runs due jobs with the handler registered for their kind."""

    schedule = staticmethod(schedule)
    cancel = staticmethod(cancel)

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        handlers: dict[str, Handler],
        worker_id: str,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        batch: int = 20,
        lease_seconds: float = 300.0,
        max_attempts: int = 5,
        backoff_base: float = 30.0,
        backoff_cap: float = 3600.0,
        poll_interval: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        self.sessions = sessions
        self.handlers = handlers
        self.worker_id = worker_id
        self.clock = clock
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.poll_interval = poll_interval
        self.rng = rng or random.Random()
        self.outage = OutageLog(log, "job runner")

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            pause = self.poll_interval
            try:
                ran = await self.run_once()
                self.outage.recovered()
            except Exception as exc:
                pause, ran = self.outage.failed(exc), 0
            if not ran:
                try:
                    await asyncio.wait_for(stop.wait(), pause)
                except TimeoutError:
                    pass

    async def run_once(self) -> int:
        """Claim and run the due jobs; returns how many were claimed."""
        async with self.sessions() as session:
            jobs = await claim_jobs(session, self.worker_id, self.batch, self.lease_seconds, self.clock())
        for job in jobs:
            await self._run(job)
        return len(jobs)

    async def _run(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            await self._finish(job, "failed", f"no handler for job kind {job.kind!r}")
            return
        try:
            async with self.sessions() as session, session.begin():
                claimed = (await session.execute(
                    select(Job).where(Job.id == job.id).execution_options(populate_existing=True)
                )).scalar_one()
                await handler(session, claimed)
                done = await session.execute(self._mine(job.id).values(
                    status="done", done_at=self.clock(), claimed_until=None, last_error=None))
                if done.rowcount == 0:  # type: ignore[attr-defined]
                    raise _LeaseLost
        except _LeaseLost:
            log.warning("job %s (%s) was cancelled or taken over while running", job.id, job.kind)
        except Deferred as later:
            await self._again(job, later.at)
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.kind)
            await self._failed_attempt(job, redact(f"{exc.__class__.__name__}: {exc}"))

    def _mine(self, job_id: int) -> Any:
        return update(Job).where(
            Job.id == job_id, Job.claimed_by == self.worker_id, Job.status == "running",
        ).execution_options(synchronize_session=False)

    async def _again(self, job: Job, at: dt.datetime) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(self._mine(job.id).values(
                status="pending", run_at=at, claimed_by=None, claimed_until=None))

    async def _failed_attempt(self, job: Job, error: str) -> None:
        attempts = job.attempts + 1
        if attempts >= self.max_attempts:
            await self._finish(job, "failed", error, attempts)
            return
        pause = backoff(attempts, self.backoff_base, self.backoff_cap, self.rng)
        async with self.sessions() as session, session.begin():
            await session.execute(self._mine(job.id).values(
                status="pending", attempts=attempts, last_error=error, claimed_by=None, claimed_until=None,
                run_at=self.clock() + dt.timedelta(seconds=pause),
            ))

    async def _finish(self, job: Job, status: str, error: str, attempts: int | None = None) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(self._mine(job.id).values(
                status=status, last_error=error, claimed_until=None,
                attempts=job.attempts if attempts is None else attempts,
            ))

