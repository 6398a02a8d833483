"""Old delivery records go after `RETENTION_DAYS`: the outbox, finished jobs and sent digest lines.

They are working records, not the agency's: a case, its audit trail and its reporter's sealed identity are
kept without a time limit, and none of them is touched here. Rows to citizens were already scrubbed when
delivered; rows to groups and admins keep their texts (a case's summary) until they go.

A purge job runs every night at `PURGE_TIME` local time. Each run deletes at most `BATCH` rows a table in
its own short transaction, so a large backlog never holds long locks; when a table had more, the run asks
for another run at once, and the last one schedules the next night's. The jobs table makes each run happen
once with several instances.

Some rows stay whatever their age because they keep a promise: an "escalated" digest line is what makes an
escalation happen once per case and stage, and an open case's jobs hold the dedupe keys that stop its
reminders from firing twice when it is re-planned.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import jobs
from bot.core import Core
from bot.status import CLOSED
from storage.models import Case, DigestLine, Job, OutboxMessage

KIND = "retention.purge"
PURGE_TIME = dt.time(2, 30)  # a quiet hour, local time
BATCH = 5000
ENDED_JOBS = ("done", "failed", "cancelled")
ENDED_ROWS = ("sent", "failed")


def next_run(core: Core, now: dt.datetime) -> dt.datetime:
    """The next `PURGE_TIME` after `now`, local time, as UTC."""
    zone = core.calendar.timezone
    local = now.astimezone(zone)
    at = dt.datetime.combine(local.date(), PURGE_TIME, tzinfo=zone)
    if at <= local:
        at = dt.datetime.combine(local.date() + dt.timedelta(days=1), PURGE_TIME, tzinfo=zone)
    return at.astimezone(dt.UTC)


async def purge_once(session: AsyncSession, cutoff: dt.datetime, batch: int | None = None) -> dict[str, int]:
    """Delete up to `batch` (default `BATCH`) expired rows of each table in the caller's transaction."""
    batch = batch or BATCH
    outbox = select(OutboxMessage.id).where(
        OutboxMessage.status.in_(ENDED_ROWS),
        or_(OutboxMessage.sent_at < cutoff,
            OutboxMessage.sent_at.is_(None) & (OutboxMessage.created_at < cutoff)),
    ).limit(batch)
    open_case = select(Case.id).where(Case.id == Job.case_id,
                                      Case.status.not_in(CLOSED)).exists()
    finished_jobs = select(Job.id).where(
        Job.status.in_(ENDED_JOBS), Job.run_at < cutoff, Job.kind != KIND,
        or_(Job.case_id.is_(None), ~open_case),
    ).limit(batch)
    lines = select(DigestLine.id).where(
        DigestLine.sent_at.is_not(None), DigestLine.sent_at < cutoff, DigestLine.reason != "escalated",
    ).limit(batch)
    counts: dict[str, int] = {}
    for name, model, ids in (("outbox", OutboxMessage, outbox), ("jobs", Job, finished_jobs),
                             ("digest_lines", DigestLine, lines)):
        chosen = list((await session.execute(ids)).scalars())
        if chosen:
            await session.execute(delete(model).where(model.id.in_(chosen))
                                  .execution_options(synchronize_session=False))
        counts[name] = len(chosen)
    return counts


async def schedule_run(session: AsyncSession, at: dt.datetime, part: int = 0) -> Job:
    """The purge for the night of `at` (part > 0: a follow-up the same night); a no-op when it exists."""
    return await jobs.schedule(session, KIND, at, {"part": part},
                               dedupe_key=f"{KIND}:{at.date().isoformat()}:{part}")


def job_handlers(core: Core) -> dict[str, jobs.Handler]:
    async def purge(session: AsyncSession, job: Job) -> None:
        now = core.clock.now()
        cutoff = now - dt.timedelta(days=core.settings.retention_days)
        counts = await purge_once(session, cutoff)
        part = int((job.payload or {}).get("part", 0))
        if any(n >= BATCH for n in counts.values()):
            await schedule_run(session, job.run_at, part + 1)
        else:
            await schedule_run(session, next_run(core, now))

    return {KIND: purge}


async def on_start(core: Core) -> None:
    """Make sure a purge is planned (the first instance to start plans it)."""
    async with core.sessions() as session, session.begin():
        await schedule_run(session, next_run(core, core.clock.now()))
