"""Meeting occurrences materialised from the rules' schedules over a rolling horizon.

Idempotent: an occurrence is keyed by (schedule id, date by the schedule), inserted only when missing,
so restarts, several instances or an edited rules file never duplicate one. Future occurrences a rules
change removed are cancelled with a notice; past ones are kept. Runs at start-up and daily as a job, and
re-plans the reminders of every upcoming meeting, ad-hoc ones included (bot/secretariat/reminders.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dateutil.rrule import rrulestr
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot import jobs
from bot.agency_chats import chats_of_agencies
from bot.core import Core
from bot.i18n import t
from bot.rules import MeetingSchedule
from bot.secretariat import common, reminders
from bot.secretariat.common import agency_name, fmt_when, secretariat_id, send
from storage.models import Job, Meeting

HORIZON_DAYS = 366
MATERIALISE = "meeting.materialise"
ADHOC = "adhoc-"


def occurrences(
    core: Core, schedule: MeetingSchedule, after: dt.datetime, until: dt.datetime
) -> list[dt.datetime]:
    """The schedule's meeting moments (UTC) in (after, until]."""
    tz = core.calendar.timezone
    start = dt.datetime.combine(schedule.start, schedule.time)
    rule = rrulestr(schedule.rrule, dtstart=start)
    lo, hi = after.astimezone(tz).replace(tzinfo=None), until.astimezone(tz).replace(tzinfo=None)
    return [m.replace(tzinfo=tz).astimezone(dt.UTC) for m in rule.between(lo, hi, inc=True) if m > lo]


def previous_occurrence(core: Core, schedule: MeetingSchedule, before: dt.datetime) -> dt.date | None:
    """The schedule's occurrence before `before` (local date), for the agenda's period."""
    tz = core.calendar.timezone
    rule = rrulestr(schedule.rrule, dtstart=dt.datetime.combine(schedule.start, schedule.time))
    found = rule.before(before.astimezone(tz).replace(tzinfo=None))
    return found.date() if found else None


async def materialise(core: Core, now: dt.datetime | None = None) -> int:
    """Create missing occurrences up to the horizon and cancel removed future ones; returns how many
    were created."""
    async with core.sessions() as session, session.begin():
        return await materialise_in(session, core, now or core.clock.now())


async def materialise_in(session: AsyncSession, core: Core, now: dt.datetime) -> int:
    """`materialise` in the caller's transaction."""
    until = now + dt.timedelta(days=HORIZON_DAYS)
    created = 0
    expected: set[tuple[str, dt.date]] = set()
    for schedule in core.rules.meetings:
        for moment in occurrences(core, schedule, now, until):
            day = moment.astimezone(core.calendar.timezone).date()
            expected.add((schedule.id, day))
            created += await _ensure(session, core, schedule, day, moment, now)
    future = (
        (await session.execute(select(Meeting).where(Meeting.status == "planned", Meeting.starts_at > now)))
        .scalars()
        .all()
    )
    by_id = {s.id: s for s in core.rules.meetings}
    for meeting in future:
        if meeting.schedule_id.startswith(ADHOC):  # called by hand: only its reminders are re-planned
            await reminders.plan(session, core, meeting, now)
            continue
        schedule = by_id.get(meeting.schedule_id)
        if schedule is None or _removed(core, meeting, schedule, now, expected):
            await _cancel_removed(session, core, meeting, now)
        else:
            _follow_edit(core, meeting, schedule)
            await reminders.plan(session, core, meeting, now)
    return created


def _removed(
    core: Core,
    meeting: Meeting,
    schedule: MeetingSchedule,
    now: dt.datetime,
    expected: set[tuple[str, dt.date]],
) -> bool:
    """The schedule no longer has this future occurrence (one postponed past its date is kept)."""
    original = dt.datetime.combine(meeting.scheduled_for, schedule.time, core.calendar.timezone)
    return original > now and (meeting.schedule_id, meeting.scheduled_for) not in expected


async def _ensure(
    session: AsyncSession,
    core: Core,
    schedule: MeetingSchedule,
    day: dt.date,
    moment: dt.datetime,
    now: dt.datetime,
) -> int:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    previous = previous_occurrence(core, schedule, moment)
    values: dict[str, Any] = dict(
        schedule_id=schedule.id,
        title=schedule.title.vi[:255],
        scheduled_for=day,
        starts_at=moment,
        agencies=list(schedule.agencies),
        chair=schedule.chair,
        status="planned",
        items=[],
        remind_days_before=list(schedule.remind_days_before),
        period_from=previous or schedule.start,
        version=0,
        created_at=now,
    )
    result = await session.execute(
        insert(Meeting)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["schedule_id", "scheduled_for"])
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return 0
    meeting = (
        await session.execute(
            select(Meeting).where(Meeting.schedule_id == schedule.id, Meeting.scheduled_for == day)
        )
    ).scalar_one()
    common.audit(session, "meeting_scheduled", meeting, schedule=schedule.id, starts_at=moment.isoformat())
    await announce(session, core, meeting)
    return 1


def _follow_edit(core: Core, meeting: Meeting, schedule: MeetingSchedule) -> None:
    """An edited schedule (title, agencies, chair, reminders) applies to its future occurrences."""
    meeting.title = schedule.title.vi[:255]
    meeting.agencies = list(schedule.agencies)
    meeting.chair = schedule.chair
    meeting.remind_days_before = list(schedule.remind_days_before)


async def announce(session: AsyncSession, core: Core, meeting: Meeting) -> None:
    """Tell the secretariat, at scheduling time, which participants have no bound group to reach."""
    bound = await chats_of_agencies(session, [*meeting.agencies, secretariat_id(core)])
    missing = [a for a in meeting.agencies if a not in bound]
    sec = secretariat_id(core)
    if missing and sec in bound:
        await send(
            session,
            bound[sec],
            t(
                "secretariat.unbound.text",
                title=meeting.title,
                when=fmt_when(core, meeting.starts_at),
                agencies=", ".join(agency_name(core, a) for a in missing),
            ),
            f"meeting:{meeting.id}:unbound",
            agency_id=sec,
        )


async def _cancel_removed(session: AsyncSession, core: Core, meeting: Meeting, now: dt.datetime) -> None:
    meeting.status, meeting.reason = "cancelled", t("secretariat.cancel.rules_changed")
    await reminders.plan(session, core, meeting, now)
    chats = await chats_of_agencies(session, [*meeting.agencies, secretariat_id(core)])
    text = t(
        "secretariat.cancel.notice",
        title=meeting.title,
        when=fmt_when(core, meeting.starts_at),
        reason=meeting.reason,
    )
    for agency_id, chat in chats.items():
        await send(session, chat, text, f"meeting:{meeting.id}:cancelled:{agency_id}", agency_id=agency_id)
    common.audit(session, "meeting_cancelled", meeting, reason=meeting.reason)


async def on_start(core: Core) -> None:
    """Materialise now and plan the daily run (one job a day whatever the number of instances)."""
    await materialise(core)
    async with core.sessions() as session, session.begin():
        await _plan_next(session, core)


async def _plan_next(session: AsyncSession, core: Core) -> None:
    today = core.calendar.today(core.clock.now())
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(6, 0), core.calendar.timezone)
    await jobs.schedule(
        session,
        MATERIALISE,
        tomorrow.astimezone(dt.UTC),
        {},
        dedupe_key=f"meetings:materialise:{today + dt.timedelta(days=1)}",
    )


def job_handlers(core: Core) -> dict[str, Any]:
    async def run(session: AsyncSession, job: Job) -> None:
        await materialise_in(session, core, core.clock.now())
        await _plan_next(session, core)

    return {MATERIALISE: run, **reminders.job_handlers(core)}
