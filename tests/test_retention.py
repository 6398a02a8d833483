"""Old delivery records go after RETENTION_DAYS, by a nightly job; what keeps a promise stays."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from bot import retention
from bot.jobs import JobRunner
from runner.app import job_handlers
from storage.models import DigestLine, Job, OutboxMessage
from tests.figures_kit import add_case

DAY = dt.timedelta(days=1)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


async def _row(core, key: str, status: str, age: dt.timedelta, now: dt.datetime) -> None:
    async with core.sessions() as session, session.begin():
        session.add(OutboxMessage(
            channel="telegram", chat_id="-100500", kind="text", payload={"text": f"card {key}"},
            idempotency_key=key, status=status, created_at=now - age,
            sent_at=now - age if status == "sent" else None, agency_id="thanh-tra",
        ))


async def _job(core, key: str, status: str, age: dt.timedelta, now: dt.datetime,
               case_id: int | None) -> None:
    async with core.sessions() as session, session.begin():
        session.add(Job(kind="deadline.remind", run_at=now - age, dedupe_key=key, status=status,
                        case_id=case_id,
                        created_at=now - age, done_at=now - age if status == "done" else None,
                        claimed_by="other" if status == "running" else None,
                        claimed_until=now + dt.timedelta(days=60) if status == "running" else None))


async def _line(core, key: str, reason: str, age: dt.timedelta | None, now: dt.datetime,
                case_id: int) -> None:
    async with core.sessions() as session, session.begin():
        session.add(DigestLine(key=key, agency_id="thanh-tra", case_id=case_id, reason=reason,
                               day=(now - (age or DAY)).date(), sent_at=None if age is None else now - age))


async def _keys(core, model, column) -> set[str]:
    async with core.sessions() as session:
        return set((await session.execute(select(column))).scalars())


@pytest.fixture
def clock(core) -> Clock:
    clock = Clock(dt.datetime(2027, 3, 10, 12, 0, tzinfo=dt.UTC))
    core.clock.now = clock  # type: ignore[method-assign]
    return clock


async def _runner(core, clock: Clock, name: str = "w1") -> JobRunner:
    """The job runner with every kind of job production registers."""
    return JobRunner(core.sessions, job_handlers(core), name, clock=clock)


async def _purge_night(core, clock: Clock) -> None:
    """Plan the purge as start-up does, and run the jobs due once its time has come."""
    await retention.on_start(core)
    async with core.sessions() as session:
        planned = (await session.execute(select(Job.run_at).where(Job.kind == retention.KIND))).scalar_one()
    clock.now = planned.replace(tzinfo=dt.UTC) if planned.tzinfo is None else planned
    runner = await _runner(core, clock)
    while await runner.run_once():
        pass


async def test_old_delivered_rows_finished_jobs_and_sent_lines_go_the_rest_stays(core, clock) -> None:
    now, old, recent = clock.now, dt.timedelta(days=45), dt.timedelta(days=3)
    open_case = await add_case(core, kind="complaint", lead="thanh-tra", received="2027-01-04",
                               status="verifying")
    closed_case = await add_case(core, kind="complaint", lead="thanh-tra", received="2027-01-05",
                                 status="resolved")
    await _row(core, "old-sent", "sent", old, now)
    await _row(core, "old-failed", "failed", old, now)
    await _row(core, "recent-sent", "sent", recent, now)
    await _row(core, "old-pending", "pending", old, now)  # an outage's backlog is never purged
    await _job(core, "old-done-nocase", "done", old, now, None)
    await _job(core, "old-done-closed", "done", old, now, closed_case)
    await _job(core, "old-done-open", "done", old, now, open_case)  # its key stops a second reminder
    await _job(core, "old-running", "running", old, now, None)  # another instance is on it
    await _job(core, "recent-done", "done", recent, now, None)
    await _line(core, "old-overdue", "overdue", old, now, closed_case)
    await _line(core, "old-escalated", "escalated", old, now, closed_case)  # one escalation, ever
    await _line(core, "old-unsent", "overdue", None, now, open_case)
    await _line(core, "recent-overdue", "overdue", recent, now, open_case)

    await _purge_night(core, clock)

    assert await _keys(core, OutboxMessage, OutboxMessage.idempotency_key) == {"recent-sent", "old-pending"}
    jobs_left = await _keys(core, Job, Job.dedupe_key)
    assert {"old-done-open", "old-running", "recent-done"} <= jobs_left
    assert not {"old-done-nocase", "old-done-closed"} & jobs_left
    assert await _keys(core, DigestLine, DigestLine.key) == {"old-escalated", "old-unsent", "recent-overdue"}


async def test_the_purge_runs_every_night_once_even_with_two_instances(core, clock: Clock) -> None:
    await retention.on_start(core)
    await retention.on_start(core)  # a second instance starting plans nothing more
    await _purge_night(core, clock)
    second = await _runner(core, clock, "w2")
    assert await second.run_once() == 0
    async with core.sessions() as session:
        nights = (await session.execute(
            select(Job.status, Job.run_at).where(Job.kind == retention.KIND).order_by(Job.run_at)
        )).all()
    assert [status for status, _ in nights] == ["done", "pending"]
    done_at, next_at = (r.replace(tzinfo=dt.UTC) if r.tzinfo is None else r for _, r in nights)
    assert next_at - done_at == DAY
    local = next_at.astimezone(core.calendar.timezone)
    assert (local.hour, local.minute) == (retention.PURGE_TIME.hour, retention.PURGE_TIME.minute)


async def test_a_large_backlog_goes_in_small_transactions(core, clock: Clock,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "BATCH", 4)
    for n in range(11):
        await _row(core, f"old-{n}", "sent", dt.timedelta(days=40), clock.now)
    await _purge_night(core, clock)
    async with core.sessions() as session:
        left = (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
        parts = (await session.execute(
            select(func.count()).select_from(Job).where(Job.kind == retention.KIND, Job.status == "done")
        )).scalar_one()
    assert left == 0
    assert parts == 3  # 4 + 4 + 3 rows, one transaction each


async def test_the_retention_setting_is_honoured(core, clock: Clock) -> None:
    core.settings.retention_days = 90
    await _row(core, "45-days", "sent", dt.timedelta(days=45), clock.now)
    await _row(core, "100-days", "sent", dt.timedelta(days=100), clock.now)
    await _purge_night(core, clock)
    assert await _keys(core, OutboxMessage, OutboxMessage.idempotency_key) == {"45-days"}
