"""Meetings as the secretariat handles them: call one ad hoc, reschedule or cancel one occurrence, the
card with its confirmations, and the list of what is coming.

Every change writes the meeting, its audit event, its reminders (jobs) and the notices to every
participating group in one transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import presses
from bot.agency_chats import chats_of_agencies
from bot.core import Core
from bot.dates import DateError, parse_day, parse_moment
from bot.i18n import fmt_date, t
from bot.officer import Actor
from bot.secretariat import common, reminders
from bot.secretariat.common import (
    SecretariatRefused,
    agency_name,
    fmt_when,
    secretariat_id,
    send,
)
from bot.secretariat.schedules import ADHOC, announce
from storage.models import Decision, Meeting, MeetingAnswer

RECENT_DAYS = 7  # /meetings still shows a meeting this long after, to record its decisions
DEFAULT_HOUR = dt.time(8, 0)


def parse_when(core: Core, text: str) -> dt.datetime:
    """`dd/mm/yyyy HH:MM` or `yyyy-mm-dd HH:MM` (a day alone: 08:00), local time, as UTC."""
    try:
        day, hour = parse_moment(text)
    except DateError:
        raise SecretariatRefused("secretariat.refused.bad_when") from None
    return dt.datetime.combine(day, hour or DEFAULT_HOUR, core.calendar.timezone).astimezone(dt.UTC)


def parse_date(text: str) -> dt.date:
    """`dd/mm/yyyy` or `yyyy-mm-dd`."""
    try:
        return parse_day(text)
    except DateError:
        raise SecretariatRefused("secretariat.refused.bad_date") from None


def parse_agencies(core: Core, text: str) -> list[str]:
    """Agency ids separated by commas or spaces; unknown ones are refused by name."""
    known = {a.id for a in core.rules.agencies}
    wanted = [w.strip().lower() for w in re.split(r"[,;\s]+", text) if w.strip()]
    unknown = [w for w in wanted if w not in known]
    if unknown or not wanted:
        raise SecretariatRefused(
            "secretariat.refused.unknown_agencies",
            agencies=", ".join(unknown) or "-",
            known=", ".join(sorted(known)),
        )
    return list(dict.fromkeys(wanted))


async def warnings(
    session: AsyncSession,
    core: Core,
    starts_at: dt.datetime,
    agencies: list[str],
    now: dt.datetime,
    exclude: int | None = None,
) -> list[str]:
    """What the secretariat must confirm: a date in the past, a day off, a clash with a meeting of the
    same agencies on the same day."""
    out: list[str] = []
    if starts_at <= now:
        out.append(t("secretariat.warn.past"))
    day = core.calendar.today(starts_at)
    off = core.calendar.day_off_name(day)
    if off:
        out.append(t("secretariat.warn.day_off", day=fmt_date(day), name=off))
    rows = (await session.execute(select(Meeting).where(Meeting.status == "planned"))).scalars()
    for other in rows:
        if (
            other.id != exclude
            and other.starts_at
            and core.calendar.today(other.starts_at) == day
            and set(other.agencies) & set(agencies)
        ):
            out.append(t("secretariat.warn.clash", title=other.title, when=fmt_when(core, other.starts_at)))
    return out


async def create(
    session: AsyncSession, core: Core, actor: Actor, agency_id: str, draft: dict[str, Any], now: dt.datetime
) -> Meeting:
    """An ad-hoc meeting from the dialogue's draft; participants are told and reminders planned."""
    starts_at = dt.datetime.fromisoformat(draft["starts_at"])
    meeting = Meeting(
        schedule_id=f"{ADHOC}{uuid.uuid4().hex[:12]}",
        title=draft["title"][:255],
        scheduled_for=core.calendar.today(starts_at),
        starts_at=starts_at,
        agencies=draft["agencies"],
        chair=draft.get("chair") or agency_id,
        place=draft.get("place"),
        items=draft.get("items", []),
        remind_days_before=[7, 1],
        status="planned",
        version=0,
        created_by=actor.user_id,
        created_at=now,
    )
    session.add(meeting)
    await session.flush()
    common.audit(
        session,
        "meeting_scheduled",
        meeting,
        actor=actor,
        agency_id=agency_id,
        starts_at=starts_at.isoformat(),
        agencies=meeting.agencies,
    )
    await reminders.plan(session, core, meeting, now)
    await announce(session, core, meeting)
    await _tell_all(
        session,
        core,
        meeting,
        t("secretariat.created.notice", header=reminders.header(core, meeting)),
        "created",
        with_buttons=True,
    )
    return meeting


async def _tell_all(
    session: AsyncSession, core: Core, meeting: Meeting, text: str, tag: str, *, with_buttons: bool = False
) -> None:
    chats = await chats_of_agencies(session, [*meeting.agencies, secretariat_id(core)])
    for agency_id, chat in chats.items():
        buttons = (
            reminders.attendance_buttons(core, meeting, agency_id)
            if with_buttons and agency_id in meeting.agencies
            else None
        )
        await send(
            session,
            chat,
            text,
            f"meeting:{meeting.id}:v{meeting.version}:{tag}:{agency_id}",
            agency_id=agency_id,
            buttons=buttons,
        )


async def reschedule(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    agency_id: str,
    meeting: Meeting,
    starts_at: dt.datetime,
    reason: str,
    now: dt.datetime,
) -> None:
    """Move one occurrence: its old reminders and buttons are void, every participant is told."""
    before = meeting.starts_at
    meeting.starts_at, meeting.reason, meeting.version = starts_at, reason, meeting.version + 1
    meeting.agenda_at = None  # the agenda goes out again with the first reminder of the new date
    await session.execute(MeetingAnswer.__table__.delete().where(MeetingAnswer.meeting_id == meeting.id))
    await reminders.plan(session, core, meeting, now)
    common.audit(
        session,
        "meeting_rescheduled",
        meeting,
        actor=actor,
        agency_id=agency_id,
        reason=reason,
        before=before.isoformat() if before else None,
        starts_at=starts_at.isoformat(),
    )
    text = t(
        "secretariat.reschedule.notice",
        title=meeting.title,
        before=fmt_when(core, before),
        when=fmt_when(core, starts_at),
        reason=reason,
    )
    await _tell_all(session, core, meeting, text, "rescheduled", with_buttons=True)


async def cancel(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    agency_id: str,
    meeting: Meeting,
    reason: str,
    now: dt.datetime,
) -> None:
    meeting.status, meeting.reason = "cancelled", reason
    await reminders.plan(session, core, meeting, now)
    common.audit(session, "meeting_cancelled", meeting, actor=actor, agency_id=agency_id, reason=reason)
    text = t(
        "secretariat.cancel.notice",
        title=meeting.title,
        when=fmt_when(core, meeting.starts_at),
        reason=reason,
    )
    await _tell_all(session, core, meeting, text, "cancelled")


async def meeting_for(session: AsyncSession, meeting_id: int) -> Meeting:
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        raise SecretariatRefused("secretariat.refused.no_meeting")
    return meeting


async def card(
    session: AsyncSession, core: Core, meeting: Meeting, agency_id: str, locale: str = "vi"
) -> common.Reply:
    """The meeting card for a group: details, who confirmed, decisions; buttons for what it may do."""
    answered = await reminders.answers(session, meeting.id)
    lines = [reminders.header(core, meeting), t(f"secretariat.status.{meeting.status}", locale)]
    if meeting.reason:
        lines.append(t("secretariat.card.reason", locale, reason=meeting.reason))
    lines.append(t("secretariat.card.attendance", locale))
    for a in meeting.agencies:
        lines.append(
            "• "
            + (
                reminders.answer_line(core, answered[a])
                if a in answered
                else t("secretariat.attendance.line_none", locale, agency=agency_name(core, a))
            )
        )
    decisions = (
        (
            await session.execute(
                select(Decision).where(Decision.meeting_id == meeting.id).order_by(Decision.id)
            )
        )
        .scalars()
        .all()
    )
    if decisions:
        lines.append(t("secretariat.card.decisions", locale))
        for d in decisions:
            lines.append(
                t(
                    f"secretariat.decision.line_{d.status}",
                    locale,
                    text=d.text,
                    owner=agency_name(core, d.owner_agency_id),
                    due=fmt_date(d.due_on),
                )
            )
    if meeting.items:
        lines.append(t("secretariat.agenda.part_items", locale))
        lines += [f"{i}. {item}" for i, item in enumerate(meeting.items, 1)]
    return common.Reply("\n".join(lines), card_buttons(core, meeting, agency_id, locale))


def card_buttons(
    core: Core, meeting: Meeting, agency_id: str, locale: str = "vi"
) -> list[list[tuple[str, presses.Press]]]:
    def b(action: str) -> tuple[str, presses.Press]:
        return (
            t(f"secretariat.button.{action}", locale),
            presses.sign(core, agency_id, presses.MEETING, meeting.id, action, meeting.version),
        )

    rows: list[list[tuple[str, presses.Press]]] = []
    if meeting.status != "planned":
        return rows
    if agency_id in meeting.agencies:
        rows.append([b("att"), b("abs")])
    if common.may_manage(core, meeting, agency_id):
        rows += [[b("rs"), b("cx")], [b("dec"), b("item"), b("ag")]]
    return rows


async def upcoming(
    core: Core, actor: Actor, now: dt.datetime | None = None, locale: str = "vi"
) -> common.Reply:
    """`/meetings`: what is coming (and what was held this past week) for the group's agency, everything
    for the secretariat, with each meeting's status and confirmations and a button to open its card."""
    now = now or core.clock.now()
    async with core.sessions() as session:
        agency_id = await common.acting_agency(session, actor)
        rows = await listing(session, now - dt.timedelta(days=RECENT_DAYS), None)
        mine = [m for m in rows if agency_id == secretariat_id(core) or agency_id in m.agencies]
        if not mine:
            return common.Reply(t("secretariat.list.empty", locale))
        lines = [t("secretariat.list.title", locale)]
        for m in mine:
            answered = await reminders.answers(session, m.id)
            yes = sum(1 for a in answered.values() if a.attends)
            lines.append(
                t(
                    "secretariat.list.line",
                    locale,
                    id=m.id,
                    when=fmt_when(core, m.starts_at),
                    title=m.title,
                    status=t(f"secretariat.status.{m.status}", locale),
                    yes=yes,
                    no=len(answered) - yes,
                    total=len(m.agencies),
                )
            )
        buttons = [
            [
                (
                    t("secretariat.button.card", locale, id=m.id),
                    presses.sign(core, agency_id, presses.MEETING, m.id, "card", m.version),
                )
            ]
            for m in mine
            if m.status == "planned"
        ][:5]
        return common.Reply("\n".join(lines), buttons)


async def listing(session: AsyncSession, start: dt.datetime | None, end: dt.datetime | None) -> list[Meeting]:
    query = select(Meeting).order_by(Meeting.starts_at, Meeting.id)
    if start is not None:
        query = query.where(Meeting.starts_at >= start)
    if end is not None:
        query = query.where(Meeting.starts_at < end)
    return list((await session.execute(query)).scalars())
