"""Meeting reminders as rows of the jobs table: planned with the meeting, moved or voided with it.

Each reminder's dedupe key carries the meeting's version, so a job fires once whichever instance claims
it, and a reschedule (which bumps the version) cancels the old rows and plans new ones in the same
transaction. A reminder that would fall at night or on a day off waits for the next working morning,
but never past the meeting itself.

Re-planning the same version (at every start, and daily) keeps what is still to be said: of the
reminders already due only the latest counts, and it is sent once, now if it has not been. A reminder
that runs when one nearer the meeting has come due is dropped, and the time left is written when a
reminder is sent, so a bot that was down never sends stale words.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import jobs, presses
from bot.agency_chats import chats_of_agencies
from bot.core import Core
from bot.i18n import t
from bot.secretariat import common
from bot.secretariat.common import agency_name, fmt_when, secretariat_id, send
from storage.models import Job, Meeting, MeetingAnswer

REMIND = "meeting.remind"
NUDGE = "meeting.nudge"
HOUR_BEFORE = "1h"
NUDGE_AFTER = dt.timedelta(hours=2)  # after the one-day reminder, for agencies that have not answered

Wanted = dict[str, tuple[str, dt.datetime, dict[str, Any]]]  # dedupe key: (kind, run at, payload)


def key_prefix(meeting: Meeting) -> str:
    return f"meeting:{meeting.id}:"


def wait_for_work(core: Core, moment: dt.datetime, limit: dt.datetime | None = None) -> dt.datetime:
    """`moment`, or the next working morning when it falls outside working hours. When that morning
    would be past the meeting (`limit`), the reminder goes earlier instead: at its own time on the
    meeting's own day (07:00 before an 08:00 meeting), else on the last working morning before."""
    opens = core.settings.digest_time
    waited = core.calendar.working_time(moment, opens=opens)
    if limit is None or waited < limit:
        return waited
    tz = core.calendar.timezone
    day = moment.astimezone(tz).date()
    if day == limit.astimezone(tz).date():
        return moment
    day -= dt.timedelta(days=1)
    while not core.calendar.is_working_day(day):
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day, opens, tz).astimezone(dt.UTC)


def lead_time(offset: str) -> dt.timedelta:
    """How long before the meeting a reminder ("7d", "1h") is meant to come."""
    if offset == HOUR_BEFORE:
        return dt.timedelta(hours=1)
    return dt.timedelta(days=int(offset.removesuffix("d")))


def timetable(core: Core, meeting: Meeting) -> list[tuple[str, dt.datetime]]:
    """(offset, when) of every reminder, the furthest from the meeting first: each `remind_days_before`
    and one hour before, in working hours but never past the meeting."""
    assert meeting.starts_at is not None
    offsets = sorted({f"{int(d)}d" for d in meeting.remind_days_before} | {HOUR_BEFORE}, key=lead_time,
                     reverse=True)
    return [(o, wait_for_work(core, meeting.starts_at - lead_time(o), meeting.starts_at)) for o in offsets]


def superseded(core: Core, meeting: Meeting, offset: str, now: dt.datetime) -> bool:
    """A reminder nearer the meeting has come due as well: it speaks for this one."""
    lead = lead_time(offset)
    return any(lead_time(o) < lead and at <= now for o, at in timetable(core, meeting))


def nudge_at(core: Core, meeting: Meeting) -> dt.datetime:
    assert meeting.starts_at is not None
    return wait_for_work(core, meeting.starts_at - dt.timedelta(days=1) + NUDGE_AFTER, meeting.starts_at)


def nudge_overtaken(core: Core, meeting: Meeting, now: dt.datetime) -> bool:
    """A reminder due after the nudge has come: it carries the same buttons, so a late nudge is dropped."""
    nudge = nudge_at(core, meeting)
    return any(nudge < at <= now for _, at in timetable(core, meeting))


def wanted(core: Core, meeting: Meeting, now: dt.datetime, open_keys: set[str]) -> Wanted:
    """The jobs the meeting needs from `now`: every reminder still ahead, and the latest one already due
    (at once, or on the next working morning if that is still before the meeting). The nudge is kept
    while it is ahead or its job is still open (a bot that was down sends it late), but never planned
    afresh once its time has passed: a meeting called at short notice gets its reminder, not a nudge."""
    if meeting.status != "planned" or meeting.starts_at is None or meeting.starts_at <= now:
        return {}
    base = f"{key_prefix(meeting)}v{meeting.version}:"
    payload: dict[str, Any] = {"meeting_id": meeting.id, "version": meeting.version}
    late = wait_for_work(core, now, meeting.starts_at)
    table = timetable(core, meeting)
    due = [o for o, at in table if at <= now]
    out: Wanted = {
        f"{base}remind:{o}": (REMIND, at if at > now else late, {**payload, "offset": o})
        for o, at in table
        if at > now or (due and o == due[-1])
    }
    nudge, key = nudge_at(core, meeting), f"{base}nudge"
    if nudge > now or key in open_keys:
        out[key] = (NUDGE, nudge if nudge > now else late, payload)
    return out


async def plan(session: AsyncSession, core: Core, meeting: Meeting, now: dt.datetime) -> None:
    """(Re)plan the meeting's reminders in the caller's transaction: earlier versions' jobs are cancelled,
    this version's are kept, moved or added (one already sent is never planned again)."""
    found = await jobs.open_jobs(session, key_prefix(meeting))
    needed = wanted(core, meeting, now, {str(j.dedupe_key) for j in found})
    for job in found:
        if job.dedupe_key not in needed:
            job.status, job.claimed_until = "cancelled", None
    for key, (kind, run_at, payload) in needed.items():
        job = await jobs.schedule(session, kind, run_at, payload, dedupe_key=key)
        if job.status == "pending":
            job.run_at = run_at


async def current(session: AsyncSession, job: Job, now: dt.datetime) -> Meeting | None:
    """The job's meeting if it still takes place, later, at the version the job was planned for (a bot
    that was down past the meeting does not remind of it afterwards)."""
    meeting = await session.get(Meeting, int(job.payload["meeting_id"]))
    if meeting is None or meeting.status != "planned" or meeting.version != job.payload.get("version"):
        return None
    if meeting.starts_at is None or meeting.starts_at <= now:
        return None
    return meeting


async def answers(session: AsyncSession, meeting_id: int) -> dict[str, MeetingAnswer]:
    rows = await session.execute(select(MeetingAnswer).where(MeetingAnswer.meeting_id == meeting_id))
    return {a.agency_id: a for a in rows.scalars()}


def attendance_buttons(core: Core, meeting: Meeting, agency_id: str) -> list[list[dict[str, Any]]]:
    def one(action: str) -> dict[str, Any]:
        signed = presses.sign(core, agency_id, presses.MEETING, meeting.id, action, meeting.version)
        return presses.button(t(f"secretariat.button.{action}"), signed)

    return [[one("att"), one("abs")]]


def time_left(core: Core, meeting: Meeting, now: dt.datetime) -> str:
    """How long until the meeting, as it is when the message goes: days by the calendar, else hours and
    minutes (to five minutes, so a reminder a few seconds late still says one hour)."""
    assert meeting.starts_at is not None
    tz = core.calendar.timezone
    days = (meeting.starts_at.astimezone(tz).date() - now.astimezone(tz).date()).days
    if days >= 1:
        return t("secretariat.remind.in_days", days=days)
    minutes = max(1, round((meeting.starts_at - now).total_seconds() / 60))
    if minutes >= 10:
        minutes = 5 * round(minutes / 5)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return t("secretariat.remind.in_minutes", minutes=minutes)
    if not minutes:
        return t("secretariat.remind.in_hours", hours=hours)
    return t("secretariat.remind.in_hours_minutes", hours=hours, minutes=minutes)


def header(core: Core, meeting: Meeting) -> str:
    names = ", ".join(agency_name(core, a) for a in meeting.agencies)
    return t(
        "secretariat.meeting.header",
        title=meeting.title,
        when=fmt_when(core, meeting.starts_at),
        place=meeting.place or t("secretariat.meeting.no_place"),
        chair=agency_name(core, meeting.chair or secretariat_id(core)),
        agencies=names,
    )


async def on_remind(core: Core, session: AsyncSession, job: Job) -> None:
    now = core.clock.now()
    meeting = await current(session, job, now)
    offset = str(job.payload["offset"])
    if meeting is None or superseded(core, meeting, offset, now):
        return
    if meeting.agenda_at is None:
        from bot.secretariat.agenda import publish

        await publish(session, core, meeting, now, reason="first-reminder")
    chats = await chats_of_agencies(session, [*meeting.agencies, secretariat_id(core)])
    answered = await answers(session, meeting.id)
    text = t("secretariat.remind.text", left=time_left(core, meeting, now), header=header(core, meeting))
    for agency_id, chat in chats.items():
        participates = agency_id in meeting.agencies
        buttons = attendance_buttons(core, meeting, agency_id) if participates else None
        body = text
        if participates and agency_id in answered:
            body += "\n" + answer_line(core, answered[agency_id])
        await send(
            session, chat, body, f"{job.dedupe_key}:{agency_id}", agency_id=agency_id, buttons=buttons
        )
    common.audit(session, "meeting_reminded", meeting, offset=offset)


def answer_line(core: Core, answer: MeetingAnswer) -> str:
    key = "secretariat.attendance.line_yes" if answer.attends else "secretariat.attendance.line_no"
    return t(key, agency=agency_name(core, answer.agency_id), detail=answer.detail)


async def on_nudge(core: Core, session: AsyncSession, job: Job) -> None:
    """A day before: one nudge to agencies that have not answered; the secretariat sees who."""
    now = core.clock.now()
    meeting = await current(session, job, now)
    if meeting is None or nudge_overtaken(core, meeting, now):
        return
    answered = await answers(session, meeting.id)
    silent = [a for a in meeting.agencies if a not in answered]
    chats = await chats_of_agencies(session, [*meeting.agencies, secretariat_id(core)])
    for agency_id in silent:
        if agency_id in chats:
            await send(
                session,
                chats[agency_id],
                t("secretariat.nudge.text", left=time_left(core, meeting, now), header=header(core, meeting)),
                f"{job.dedupe_key}:{agency_id}",
                agency_id=agency_id,
                buttons=attendance_buttons(core, meeting, agency_id),
            )
    sec = secretariat_id(core)
    if sec in chats:
        names = ", ".join(agency_name(core, a) for a in silent) or t("secretariat.nudge.none")
        await send(
            session,
            chats[sec],
            t(
                "secretariat.nudge.silent",
                title=meeting.title,
                when=fmt_when(core, meeting.starts_at),
                agencies=names,
            ),
            f"{job.dedupe_key}:{sec}:list",
            agency_id=sec,
        )
    common.audit(session, "meeting_nudged", meeting, silent=silent)


def job_handlers(core: Core) -> dict[str, Any]:
    async def remind(session: AsyncSession, job: Job) -> None:
        await on_remind(core, session, job)

    async def nudge(session: AsyncSession, job: Job) -> None:
        await on_nudge(core, session, job)

    return {REMIND: remind, NUDGE: nudge}
