"""A meeting's agenda: figures per participating agency since the previous meeting, the open decisions
of earlier meetings, then the items added by hand. Built with the first reminder, refreshed on demand,
sent as a message, the agenda and the invitation (giấy mời) as DOCX to sign and print, and an .ics
invitation for calendars."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.agency_chats import chats_of_agencies
from bot.core import Core
from bot.i18n import fmt_date, t
from bot.secretariat import common, documents
from bot.secretariat.agency_figures import AgencyFigures, compute
from bot.secretariat.common import agency_name, fmt_when, secretariat_id, send, send_file
from bot.secretariat.reminders import header
from storage.models import Decision, Meeting

DEFAULT_PERIOD_DAYS = 182


@dataclass
class Agenda:
    meeting: Meeting
    start: dt.date
    end: dt.date
    figures: list[AgencyFigures]
    decisions: list[Decision]
    items: list[str]


async def period_start(session: AsyncSession, core: Core, meeting: Meeting, now: dt.datetime) -> dt.date:
    """Since the previous meeting of the same schedule (or with the same agencies) already held by `now`,
    else the schedule's period, else about six months. One still to come cannot start the period: the
    figures would end before they began."""
    assert meeting.starts_at is not None
    query = (
        select(Meeting)
        .where(Meeting.id != meeting.id, Meeting.status != "cancelled",
               Meeting.starts_at < min(meeting.starts_at, now))
        .order_by(Meeting.starts_at.desc())
    )
    for earlier in (await session.execute(query)).scalars():
        if earlier.schedule_id == meeting.schedule_id or set(earlier.agencies) == set(meeting.agencies):
            assert earlier.starts_at is not None
            return core.calendar.today(earlier.starts_at)
    if meeting.period_from:
        return meeting.period_from
    return core.calendar.today(meeting.starts_at) - dt.timedelta(days=DEFAULT_PERIOD_DAYS)


async def open_decisions(session: AsyncSession, meeting: Meeting) -> list[Decision]:
    """Open decisions of other meetings owned by a participant."""
    rows = await session.execute(
        select(Decision)
        .where(
            Decision.status == "open",
            Decision.meeting_id != meeting.id,
            Decision.owner_agency_id.in_(list(meeting.agencies)),
        )
        .order_by(Decision.due_on, Decision.id)
    )
    return list(rows.scalars())


async def build(session: AsyncSession, core: Core, meeting: Meeting, now: dt.datetime) -> Agenda:
    today = core.calendar.today(now)
    start = min(await period_start(session, core, meeting, now), today)
    figures = await compute(session, core.rules, core.calendar, list(meeting.agencies), start, today, today)
    return Agenda(
        meeting,
        start,
        today,
        [figures[a] for a in meeting.agencies],
        await open_decisions(session, meeting),
        [str(i) for i in meeting.items],
    )


def figures_lines(core: Core, f: AgencyFigures, locale: str = "vi") -> list[str]:
    none = t("secretariat.agenda.none", locale)
    oldest = ", ".join(f"{code} ({fmt_date(day)})" for code, day in f.oldest_open) or none
    return [
        t(
            "secretariat.agenda.counts",
            locale,
            received=f.received,
            accepted=f.accepted,
            transferred_in=f.transferred_in,
            transferred_out=f.transferred_out,
            resolved=f.resolved,
            rejected=f.rejected,
        ),
        t(
            "secretariat.agenda.timeliness",
            locale,
            overdue=f.overdue,
            on_time=none if f.on_time_percent is None else f"{f.on_time_percent:g}%",
            first_action=none
            if f.median_days_to_first_action is None
            else f"{f.median_days_to_first_action:g}",
        ),
        t("secretariat.agenda.followed", locale, watched=f.watched, investigating=f.investigating),
        t("secretariat.agenda.oldest", locale, cases=oldest),
    ]


def decision_line(core: Core, d: Decision, locale: str = "vi") -> str:
    return t(
        "secretariat.agenda.decision",
        locale,
        text=d.text,
        owner=agency_name(core, d.owner_agency_id, locale),
        due=fmt_date(d.due_on),
    )


def render(core: Core, agenda: Agenda, locale: str = "vi") -> str:
    """The agenda as a chat message."""
    lines = [
        t("secretariat.agenda.title", locale, title=agenda.meeting.title),
        t("secretariat.agenda.period", locale, start=fmt_date(agenda.start), end=fmt_date(agenda.end)),
        "",
    ]
    lines.append(t("secretariat.agenda.part_figures", locale))
    for f in agenda.figures:
        lines.append(f"• {agency_name(core, f.agency_id, locale)}")
        lines += [f"   {line}" for line in figures_lines(core, f, locale)]
    lines += ["", t("secretariat.agenda.part_decisions", locale)]
    lines += [f"• {decision_line(core, d, locale)}" for d in agenda.decisions] or [
        t("secretariat.agenda.none", locale)
    ]
    lines += ["", t("secretariat.agenda.part_items", locale)]
    lines += [f"{i}. {item}" for i, item in enumerate(agenda.items, 1)] or [
        t("secretariat.agenda.none", locale)
    ]
    return "\n".join(lines)


async def publish(
    session: AsyncSession,
    core: Core,
    meeting: Meeting,
    now: dt.datetime,
    *,
    reason: str,
    only: list[str] | None = None,
) -> Agenda:
    """Build the agenda, store it on the meeting and send it with its DOCX and .ics to the groups
    (all participants and the secretariat, or `only` those agencies)."""
    agenda = await build(session, core, meeting, now)
    meeting.agenda, meeting.agenda_at = render(core, agenda), now
    docx = documents.agenda_docx(core, agenda)
    letter = documents.invitation_docx(core, meeting, agenda.end)
    ics = documents.invitation_ics(core, meeting)
    stamp = now.strftime("%Y%m%d%H%M%S")
    chats = await chats_of_agencies(session, only or [*meeting.agencies, secretariat_id(core)])
    name = f"chuong-trinh-hop-{meeting.id}"
    for agency_id, chat in chats.items():
        key = f"meeting:{meeting.id}:v{meeting.version}:agenda:{stamp}:{agency_id}"
        await send(session, chat, meeting.agenda, key, agency_id=agency_id)
        caption = t("secretariat.agenda.caption", title=meeting.title, when=fmt_when(core, meeting.starts_at))
        await send_file(session, chat, f"{name}.docx", docx, caption, f"{key}:docx", agency_id=agency_id)
        invitation = t("secretariat.agenda.invitation_caption", title=meeting.title)
        await send_file(session, chat, f"giay-moi-hop-{meeting.id}.docx", letter, invitation,
                        f"{key}:invitation", agency_id=agency_id)
        await send_file(
            session,
            chat,
            f"hop-{meeting.id}.ics",
            ics,
            header(core, meeting),
            f"{key}:ics",
            agency_id=agency_id,
        )
    common.audit(
        session,
        "meeting_agenda_built",
        meeting,
        reason=reason,
        start=agenda.start.isoformat(),
        end=agenda.end.isoformat(),
    )
    return agenda
