"""Deadlines that act: reminders before a stage is due, escalation after, a notice on a long wait.

`replan` is the one hook every change of a case's deadline calls in its own transaction (submission,
accept, ask, the citizen's answer, extend, transfer, refer, resolve, reject): it cancels the case's
pending deadline jobs and schedules the ones its new state needs, so a paused case does not count down
and a closed one goes quiet. The jobs write lines into the groups' morning digest (bot/digest.py):
- before: `remind_before` working days before the due date (default 3, 1 and on the day) to the lead;
- after: each working morning the lead is told the case is overdue; the supervising agency of the rules
  (`supervises: true`) is told once per case and stage, then sees the case in its digest each morning;
- waiting for the citizen: after the policy's `waiting_days`, and every as many days again, the lead.
A case not accepted within its acceptance stage is overdue like any other: that stage has a due date too.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from bot import digest, jobs
from bot import status as st
from bot.core import Core
from bot.deadlines import DeadlineError, policy_for
from bot.rules import DeadlinePolicy
from storage.models import Case, Job

REMIND = "deadline.remind"
OVERDUE = "deadline.overdue"
WAITING = "deadline.waiting"
DEFAULT_REMIND_BEFORE = (3, 1, 0)
DEFAULT_WAITING_DAYS = 10


def _prefix(case_id: int) -> str:
    return f"deadline:{case_id}:"


def _policy(core: Core, case: Case) -> DeadlinePolicy | None:
    try:
        return policy_for(core.rules, case.kind, case.received_on, case.rule_id)
    except DeadlineError:
        return None


def working_days_before(core: Core, due: dt.date, n: int) -> dt.date:
    """The working day `n` working days before `due` (`due` itself for 0)."""
    day = due
    while n > 0:
        day -= dt.timedelta(days=1)
        if core.calendar.is_working_day(day):
            n -= 1
    return day


async def replan(session: AsyncSession, core: Core, case: Case, now: dt.datetime | None = None) -> None:
    """Cancel the case's pending deadline jobs and schedule what its state needs now (same transaction)."""
    await session.flush()
    now = now or core.clock.now()
    await jobs.cancel(session, key_prefix=_prefix(case.id), case_id=case.id)  # by the case_id index
    if not case.is_open:
        return
    policy = _policy(core, case)
    if case.status == st.WAITING_INFO:
        if case.paused_at is not None:
            wait = policy.waiting_days if policy else DEFAULT_WAITING_DAYS
            await _schedule_waiting(session, core, case, case.paused_at, wait)
        return
    if case.due_on is None or case.stage is None:
        return
    today = core.calendar.today(now)
    base = f"{_prefix(case.id)}{case.stage}:{case.due_on.isoformat()}"
    for n in sorted(set(policy.remind_before if policy else DEFAULT_REMIND_BEFORE), reverse=True):
        day = working_days_before(core, case.due_on, n)
        if day > today:
            await jobs.schedule(session, REMIND, digest.morning(core, day),
                                {"stage": case.stage, "due": case.due_on.isoformat(), "days": n},
                                dedupe_key=f"{base}:remind:{n}", case_id=case.id)
    first_late = core.calendar.next_working_day(case.due_on)
    if first_late <= today:  # already overdue: the next morning notice not yet given
        before_morning = now < digest.morning(core, today)
        first_late = core.calendar.roll_forward(
            today if before_morning else core.calendar.next_working_day(today))
    await jobs.schedule(session, OVERDUE, digest.morning(core, first_late),
                        {"stage": case.stage, "due": case.due_on.isoformat()},
                        dedupe_key=f"{base}:overdue:{first_late.isoformat()}", case_id=case.id)


async def _schedule_waiting(session: AsyncSession, core: Core, case: Case, paused_at: dt.datetime,
                            after_days: int) -> None:
    paused_on = core.calendar.today(paused_at)
    day = paused_on + dt.timedelta(days=after_days)
    await jobs.schedule(session, WAITING, digest.morning(core, day),
                        {"paused_at": paused_at.isoformat(), "days": after_days},
                        dedupe_key=f"{_prefix(case.id)}waiting:{paused_at.isoformat()}:{after_days}",
                        case_id=case.id)


def _supervisors(core: Core, case: Case) -> list[str]:
    return [a.id for a in core.rules.agencies if a.supervises and a.id != case.lead_agency_id]


async def _case(session: AsyncSession, job: Job) -> Case | None:
    return await session.get(Case, job.case_id) if job.case_id is not None else None


def _on_schedule(case: Case, job: Job) -> bool:
    """The job still concerns the case's current stage and deadline (replan cancels stale ones too)."""
    return (case.is_open and case.status != st.WAITING_INFO and case.stage == job.payload.get("stage")
            and case.due_on is not None and case.due_on.isoformat() == job.payload.get("due"))


def handlers(core: Core) -> dict[str, jobs.Handler]:
    async def remind(session: AsyncSession, job: Job) -> None:
        case = await _case(session, job)
        if case is None or not _on_schedule(case, job):
            return
        now = core.clock.now()
        n = int(job.payload["days"])  # on time or late, the digest counts the days left when it is sent
        await digest.add_line(session, key=f"{job.dedupe_key}:line", agency_id=case.lead_agency_id,
                              case=case, reason="due_today" if n == 0 else "due_in",
                              day=core.calendar.today(now), days=n, at=now)
        await digest.soon(session, core, now)

    async def overdue(session: AsyncSession, job: Job) -> None:
        case = await _case(session, job)
        if case is None or not _on_schedule(case, job) or case.due_on is None:
            return
        now = core.clock.now()
        today = core.calendar.today(now)
        late = max(1, core.calendar.working_days_between(case.due_on, today))
        day_key = f"{case.id}:{case.stage}:{case.due_on.isoformat()}:{today.isoformat()}"
        await digest.add_line(session, key=f"overdue:{case.lead_agency_id}:{day_key}",
                              agency_id=case.lead_agency_id, case=case, reason="overdue", day=today,
                              days=late, at=now)
        for agency_id in _supervisors(core, case):
            # the escalation line's key has no date: the supervisor is told once per case and stage
            escalated = await digest.add_line(
                session, key=f"escalated:{agency_id}:{case.id}:{case.stage}", agency_id=agency_id, case=case,
                reason="escalated", day=today, days=late, at=now)
            if not escalated:
                await digest.add_line(session, key=f"overdue:{agency_id}:{day_key}", agency_id=agency_id,
                                      case=case, reason="overdue", day=today, days=late, at=now)
        await digest.soon(session, core, now)
        tomorrow = core.calendar.next_working_day(today)
        await jobs.schedule(session, OVERDUE, digest.morning(core, tomorrow), dict(job.payload),
                            dedupe_key=f"{_prefix(case.id)}{case.stage}:{case.due_on.isoformat()}:overdue:"
                                       f"{tomorrow.isoformat()}", case_id=case.id)

    async def waiting(session: AsyncSession, job: Job) -> None:
        case = await _case(session, job)
        paused_at = job.payload.get("paused_at")
        if (case is None or not case.is_open or case.status != st.WAITING_INFO or case.paused_at is None
                or case.paused_at.isoformat() != paused_at):
            return
        now = core.clock.now()
        today = core.calendar.today(now)
        waited = (today - core.calendar.today(case.paused_at)).days
        await digest.add_line(session, key=f"{job.dedupe_key}:line", agency_id=case.lead_agency_id,
                              case=case, reason="waiting", day=today, days=waited, at=now)
        await digest.soon(session, core, now)
        step = int(job.payload["days"])
        policy = _policy(core, case)
        every = policy.waiting_days if policy else DEFAULT_WAITING_DAYS
        await _schedule_waiting(session, core, case, case.paused_at, step + every)

    return {REMIND: remind, OVERDUE: overdue, WAITING: waiting}


def job_handlers(core: Core) -> dict[str, jobs.Handler]:
    writers = handlers(core)
    return {**writers, digest.KIND: digest.handler(core, writers)}


async def on_start(core: Core) -> None:
    await digest.on_start(core)
