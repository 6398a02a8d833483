"""One message per agency group per working morning: what is due, overdue, waiting or watched.

Deadline jobs (bot/deadline_jobs.py) do not message groups themselves; they write `DigestLine` rows. The
digest job claims every unsent line of the day (an `UPDATE ... RETURNING`, so two digest jobs never send
a line twice) and sends each group one message, so a group holding 40 cases gets one message, not 40.
The daily digest runs a few minutes after the working morning (08:00 local by default, by the working-day
calendar), so nothing arrives at night or on Tết; lines written later that day go out in a short
follow-up digest. A digest waits while jobs that write its lines are due and have not run (a bot that was
down, or a clock moved forward, catches up), so the morning still brings one message.

A line says which group hears of which case, not what to say: a digest states each case once, as it
stands when the digest is sent (days left or late counted that day, an escalation only while the case is
overdue), so lines from mornings that were missed fold into that state and are never replayed. Lines
whose case moved on before the digest ran (closed, paused, its deadline extended) are dropped.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot import jobs
from bot import status as st
from bot.agency_chats import chat_of_agency
from bot.core import Core
from bot.deadlines import stage_of
from bot.delivery.outbox import enqueue
from bot.i18n import fmt_date, t
from storage.models import Case, DigestLine, Job

KIND = "deadline.digest"
AFTER_MORNING = dt.timedelta(minutes=5)  # the day's reminder jobs (due at the opening) run first
FOLLOW_UP = dt.timedelta(minutes=5)  # lines written after the day's digest wait at most this long
SECTIONS = ("escalated", "overdue", "due_today", "due_in", "waiting", "watch")
DEADLINE_REASONS = frozenset({"escalated", "overdue", "due_today", "due_in"})


def opening(core: Core, moment: dt.datetime) -> dt.datetime:
    """`moment` if in working hours of a working day, else the next working morning (DIGEST_TIME)."""
    return core.calendar.working_time(moment, core.settings.digest_time)


def morning(core: Core, day: dt.date) -> dt.datetime:
    """The working morning (08:00 local by default) of `day`, or of the next working day (UTC)."""
    return opening(core, dt.datetime.combine(day, core.settings.digest_time, core.calendar.timezone))


def daily_slot(core: Core, day: dt.date) -> dt.datetime:
    """When the daily digest of the working day `day` (or the next one) runs."""
    return morning(core, day) + AFTER_MORNING


def next_daily_slot(core: Core, now: dt.datetime) -> dt.datetime:
    """The first daily digest at or after `now`."""
    slot = daily_slot(core, core.calendar.today(now))
    return slot if slot >= now else daily_slot(core, core.calendar.next_working_day(core.calendar.today(now)))


async def schedule_digest(session: AsyncSession, core: Core, at: dt.datetime) -> Job:
    """The digest running at `at`; keyed by its time so several writers schedule one."""
    at = at.astimezone(dt.UTC).replace(second=0, microsecond=0)
    daily = at == daily_slot(core, core.calendar.today(at))
    return await jobs.schedule(session, KIND, at, {"daily": daily}, dedupe_key=f"{KIND}:{at.isoformat()}")


async def soon(session: AsyncSession, core: Core, now: dt.datetime) -> None:
    """Make sure a digest will send lines written at `now`: today's daily one, else a follow-up."""
    opens = opening(core, now)
    daily = daily_slot(core, core.calendar.today(opens))
    if opens <= daily:
        await schedule_digest(session, core, daily)
        return
    step = FOLLOW_UP.total_seconds()
    at = dt.datetime.fromtimestamp((opens.timestamp() // step + 1) * step, dt.UTC)
    if opening(core, at) != at:  # past closing time: tomorrow's daily digest
        at = daily_slot(core, core.calendar.today(opening(core, at)))
    await schedule_digest(session, core, at)


async def add_line(session: AsyncSession, *, key: str, agency_id: str, case: Case, reason: str, day: dt.date,
                   at: dt.datetime, days: int = 0, due_on: dt.date | None = None) -> bool:
    """Write a digest line once: a second write with the same key (a job run again) changes nothing.
    True when the line is new."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(DigestLine).values(
            key=key, agency_id=agency_id, case_id=case.id, reason=reason, stage=case.stage,
            due_on=due_on if due_on is not None else case.due_on, days=days, day=day, created_at=at,
        ).on_conflict_do_nothing(index_elements=["key"])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _still_true(line: DigestLine, case: Case) -> bool:
    """Whether the line still concerns the case (it may have moved on since the line was written)."""
    if not case.is_open:
        return False
    if line.reason in DEADLINE_REASONS:
        return (case.status != st.WAITING_INFO and case.stage == line.stage and case.due_on == line.due_on)
    if line.reason == "waiting":
        return (case.status == st.WAITING_INFO and case.paused_at is not None
                and line.created_at >= case.paused_at)
    return case.watched


@dataclass(frozen=True)
class Entry:
    """One case in one group's digest, as it stands when the digest is sent."""

    case: Case
    reason: str
    days: int = 0
    watched: bool = False  # also on the watch list: said on this line rather than on a second one


def deadline_state(core: Core, case: Case, today: dt.date) -> tuple[str, int]:
    """(reason, working days left or late) of the case's deadline on `today`."""
    assert case.due_on is not None
    if case.due_on < today:
        return "overdue", max(1, core.calendar.working_days_between(case.due_on, today))
    left = core.calendar.working_days_between(today, case.due_on)
    return ("due_in", left) if left > 0 else ("due_today", 0)


def entry(core: Core, today: dt.date, case: Case, lines: list[DigestLine]) -> Entry | None:
    """What one group's digest says of a case, from every line it has for it; None when none still holds."""
    reasons = {line.reason for line in lines if _still_true(line, case)}
    watched = "watch" in reasons
    if reasons & DEADLINE_REASONS and case.due_on is not None:
        reason, days = deadline_state(core, case, today)
        if reason == "overdue" and "escalated" in reasons:
            reason = "escalated"
        return Entry(case, reason, days, watched)
    if "waiting" in reasons and case.paused_at is not None:
        return Entry(case, "waiting", (today - core.calendar.today(case.paused_at)).days, watched)
    return Entry(case, "watch") if watched else None


async def _watch_lines(session: AsyncSession, core: Core, today: dt.date, now: dt.datetime) -> None:
    """Once a week, a line per watched open case in each secretariat's digest (diện theo dõi, chỉ đạo)."""
    secretariats = [a.id for a in core.rules.agencies if a.secretariat]
    if not secretariats:
        return
    year, week, _ = today.isocalendar()
    watched = (await session.execute(
        select(Case).where(Case.watched.is_(True), Case.status.not_in(tuple(st.CLOSED)))
    )).scalars().all()
    for case in watched:
        for agency_id in secretariats:
            await add_line(session, key=f"watch:{case.id}:{agency_id}:{year}-W{week:02d}",
                           agency_id=agency_id, case=case, reason="watch", day=today, at=now)


def _line_text(core: Core, item: Entry) -> str:
    case = item.case
    found = stage_of(core.rules, case.kind, case.received_on, case.rule_id, case.stage)
    stage = found[0] if found else None
    lead = core.rules.agency(case.lead_agency_id)
    text = t(f"digest.line.{item.reason}", "vi", code=case.code, due=fmt_date(case.due_on), days=item.days,
             stage=stage.name.vi if stage else "—", lead=(lead.short or lead.name).vi,
             status=t(f"status.{case.status}"))
    return (text + t("digest.watched", "vi")) if item.watched else text


def render(core: Core, day: dt.date, entries: list[Entry]) -> str:
    """The digest text: a one-line count by reason, then one line per case with its code."""
    by_reason: dict[str, list[str]] = defaultdict(list)
    for item in sorted(entries, key=lambda e: (e.case.due_on or dt.date.max, e.case.code)):
        by_reason[item.reason].append(_line_text(core, item))
    counts = ", ".join(t(f"digest.count.{r}", "vi", n=len(by_reason[r])) for r in SECTIONS if by_reason[r])
    parts = [t("digest.title", "vi", date=fmt_date(day)), counts]
    for reason in SECTIONS:
        if by_reason[reason]:
            parts.append("\n" + t(f"digest.section.{reason}", "vi"))
            parts.extend(by_reason[reason])
    return "\n".join(parts)


async def send_digest(session: AsyncSession, core: Core, now: dt.datetime, *, daily: bool) -> int:
    """Claim the unsent lines up to today and send each group its one message; returns messages queued."""
    today = core.calendar.today(now)
    if daily:
        await _watch_lines(session, core, today, now)
    claimed = (await session.execute(
        update(DigestLine).where(DigestLine.sent_at.is_(None), DigestLine.day <= today)
        .values(sent_at=now).returning(DigestLine.id).execution_options(synchronize_session=False)
    )).scalars().all()
    if not claimed:
        return 0
    rows = (await session.execute(
        select(DigestLine, Case).join(Case, Case.id == DigestLine.case_id).where(DigestLine.id.in_(claimed))
    )).all()
    grouped: dict[tuple[str, int], list[DigestLine]] = defaultdict(list)
    cases: dict[int, Case] = {}
    for line, case in rows:
        grouped[(line.agency_id, case.id)].append(line)
        cases[case.id] = case
    by_agency: dict[str, list[Entry]] = defaultdict(list)
    for (agency_id, case_id), lines in grouped.items():
        item = entry(core, today, cases[case_id], lines)
        if item is not None:
            by_agency[agency_id].append(item)
    sent = 0
    for agency_id, entries in sorted(by_agency.items()):
        chat = await chat_of_agency(session, agency_id)
        if chat is None:
            continue
        payload: dict[str, Any] = {"text": render(core, today, entries)}
        await enqueue(session, channel=chat.channel, chat_id=chat.chat_id, kind="text", payload=payload,
                      key=f"digest:{agency_id}:{min(claimed)}:{len(claimed)}", agency_id=agency_id)
        sent += 1
    return sent


async def lines_coming(session: AsyncSession, job: Job, writers: Collection[str],
                       now: dt.datetime) -> dt.datetime | None:
    """When to look again if jobs that write digest lines are due and have not run: now when they wait
    for a runner or this one holds them, else when another runner's hold on them runs out; None when
    every line due by now is written."""
    rows = (await session.execute(
        select(Job.status, Job.claimed_by, Job.claimed_until)
        .where(Job.kind.in_(tuple(writers)), Job.status.in_(("pending", "running")), Job.run_at <= now)
    )).all()
    if not rows:
        return None
    held = [until for status, by, until in rows
            if status == "running" and by != job.claimed_by and until is not None and until > now]
    return now if len(held) < len(rows) else min(held)


def handler(core: Core, writers: Collection[str]) -> jobs.Handler:
    """The digest job; `writers` are the kinds of job that write its lines."""
    async def run(session: AsyncSession, job: Job) -> None:
        now = core.clock.now()
        daily = bool(job.payload.get("daily"))
        opens = opening(core, now)
        if opens != now:  # at night or on a day off (a bot that was down): wait for the morning
            await schedule_digest(session, core, daily_slot(core, core.calendar.today(opens)))
            return
        later = await lines_coming(session, job, writers, now)
        if later is not None:
            raise jobs.Deferred(later)
        await send_digest(session, core, now, daily=daily)
        if daily:
            await schedule_digest(session, core, next_daily_slot(core, now + dt.timedelta(minutes=1)))

    return run


async def on_start(core: Core) -> None:
    """Make sure the next daily digest is pending (the first instance to start schedules it)."""
    async with core.sessions() as session, session.begin():
        await schedule_digest(session, core, next_daily_slot(core, core.clock.now()))
