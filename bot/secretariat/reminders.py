"""Meeting reminders as rows of the jobs table: planned with the meeting, moved or voided with it.

Each reminder's dedupe key carries the meeting's version, so a job fires once whichever instance claims
it, and a reschedule (which bumps the version) cancels the old rows and plans new ones in the same
transaction. A reminder that would fall at night or on a day off waits for the next working morning,
but never past the meeting itself.
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


def moments(core: Core, meeting: Meeting, now: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """(offset, run at) of each reminder still to come: each `remind_days_before`, and one hour before.

    Day offsets already past collapse into one reminder now (a meeting called at short notice still gets
    its invitation, and the agenda with it)."""
    assert meeting.starts_at is not None
    out: list[tuple[str, dt.datetime]] = []
    collapsed = False
    for days in sorted({int(d) for d in meeting.remind_days_before}, reverse=True):
        moment = meeting.starts_at - dt.timedelta(days=days)
        if moment <= now:
            if collapsed or meeting.starts_at <= now:
                continue
            collapsed, moment = True, now
        out.append((f"{days}d", wait_for_work(core, moment, meeting.starts_at)))
    hour = meeting.starts_at - dt.timedelta(hours=1)
    if hour > now:
        out.append((HOUR_BEFORE, wait_for_work(core, hour, meeting.starts_at)))
    elif not out and meeting.starts_at > now:
        out.append((HOUR_BEFORE, now))
    return out


def nudge_at(core: Core, meeting: Meeting) -> dt.datetime:
    assert meeting.starts_at is not None
    return wait_for_work(
        core, meeting.starts_at - dt.timedelta(days=1) + dt.timedelta(hours=2), meeting.starts_at
    )


async def plan(session: AsyncSession, core: Core, meeting: Meeting, now: dt.datetime) -> None:
    """(Re)plan the meeting's reminders in the caller's transaction; old versions' jobs are cancelled."""
    await jobs.cancel(session, key_prefix=key_prefix(meeting))
    if meeting.status != "planned" or meeting.starts_at is None or meeting.starts_at <= now:
        return
    base = f"{key_prefix(meeting)}v{meeting.version}:"
    for offset, run_at in moments(core, meeting, now):
        await jobs.schedule(
            session,
            REMIND,
            run_at,
            {"meeting_id": meeting.id, "version": meeting.version, "offset": offset},
            dedupe_key=f"{base}remind:{offset}",
        )
    nudge = nudge_at(core, meeting)
    if nudge > now:
        await jobs.schedule(
            session,
            NUDGE,
            nudge,
            {"meeting_id": meeting.id, "version": meeting.version},
            dedupe_key=f"{base}nudge",
        )


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


def when_left(core: Core, meeting: Meeting, offset: str) -> str:
    if offset == HOUR_BEFORE:
        return t("secretariat.remind.in_hour")
    return t("secretariat.remind.in_days", days=offset.removesuffix("d"))


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
    meeting = await current(session, job, core.clock.now())
    if meeting is None:
        return
    offset = str(job.payload["offset"])
    if meeting.agenda_at is None:
        from bot.secretariat.agenda import publish

        await publish(session, core, meeting, core.clock.now(), reason="first-reminder")
    chats = await chats_of_agencies(session, [*meeting.agencies, secretariat_id(core)])
    answered = await answers(session, meeting.id)
    text = t("secretariat.remind.text", left=when_left(core, meeting, offset), header=header(core, meeting))
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
    meeting = await current(session, job, core.clock.now())
    if meeting is None:
        return
    answered = await answers(session, meeting.id)
    silent = [a for a in meeting.agencies if a not in answered]
    chats = await chats_of_agencies(session, [*meeting.agencies, secretariat_id(core)])
    for agency_id in silent:
        if agency_id in chats:
            await send(
                session,
                chats[agency_id],
                t("secretariat.nudge.text", header=header(core, meeting)),
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
