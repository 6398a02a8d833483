"""Decisions of a meeting, followed up like a case deadline: the owner agency's group is reminded the
working day before the due date and every working day while it is overdue, until it closes the decision
with a short result. Open decisions go on the next agenda."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import jobs, presses
from bot.agency_chats import chats_of_agencies
from bot.core import Core
from bot.i18n import fmt_date, t
from bot.officer import Actor
from bot.secretariat import common
from bot.secretariat.common import SecretariatRefused, agency_name, secretariat_id, send
from storage.models import Decision, Job, Meeting

REMIND = "decision.remind"
OVERDUE = "decision.overdue"
MAX_TEXT = 2000


def _morning(core: Core, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, core.settings.digest_time, core.calendar.timezone).astimezone(dt.UTC)


def _working_day_before(core: Core, day: dt.date) -> dt.date:
    day -= dt.timedelta(days=1)
    while not core.calendar.is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


async def record(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    agency_id: str,
    meeting: Meeting,
    text: str,
    owner: str,
    due_on: dt.date,
    now: dt.datetime,
) -> Decision:
    """Record a decision; the owner's group gets it with a button to close it, and reminders are planned."""
    text = text.strip()[:MAX_TEXT]
    if not text:
        raise SecretariatRefused("secretariat.refused.empty")
    if owner not in {a.id for a in core.rules.agencies}:
        raise SecretariatRefused("secretariat.refused.unknown_agencies", agencies=owner, known="")
    if due_on < core.calendar.today(now):
        raise SecretariatRefused("secretariat.refused.due_past")
    decision = Decision(
        meeting_id=meeting.id,
        text=text,
        owner_agency_id=owner,
        due_on=due_on,
        status="open",
        created_by=actor.user_id,
        created_at=now,
    )
    session.add(decision)
    await session.flush()
    common.audit(
        session,
        "decision_recorded",
        meeting,
        actor=actor,
        agency_id=agency_id,
        decision_id=decision.id,
        owner=owner,
        due_on=due_on.isoformat(),
        text=text,
    )
    remind_at = _morning(core, _working_day_before(core, due_on))
    key = f"decision:{decision.id}:"
    if remind_at > now:
        await jobs.schedule(
            session, REMIND, remind_at, {"decision_id": decision.id}, dedupe_key=f"{key}remind"
        )
    first_overdue = core.calendar.next_working_day(due_on)
    await jobs.schedule(
        session,
        OVERDUE,
        _morning(core, first_overdue),
        {"decision_id": decision.id},
        dedupe_key=f"{key}overdue:{first_overdue}",
    )
    await _to_owner(
        session,
        core,
        decision,
        meeting,
        t("secretariat.decision.new", title=meeting.title, text=text, due=fmt_date(due_on)),
        "new",
    )
    return decision


async def _to_owner(
    session: AsyncSession, core: Core, decision: Decision, meeting: Meeting | None, text: str, tag: str
) -> bool:
    chats = await chats_of_agencies(session, [decision.owner_agency_id])
    chat = chats.get(decision.owner_agency_id)
    if chat is None:
        return False
    data = presses.sign(core, decision.owner_agency_id, presses.DECISION, decision.id, "close")
    await send(
        session,
        chat,
        text,
        f"decision:{decision.id}:{tag}",
        agency_id=decision.owner_agency_id,
        buttons=[[presses.button(t("secretariat.button.close"), data)]],
    )
    return True


async def close(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    agency_id: str,
    decision: Decision,
    result: str,
    now: dt.datetime,
) -> None:
    """The owner closes a decision with a short result; its reminders stop, the secretariat is told."""
    result = result.strip()[:MAX_TEXT]
    if not result:
        raise SecretariatRefused("secretariat.refused.empty")
    if decision.owner_agency_id != agency_id:
        raise SecretariatRefused("secretariat.refused.not_owner")
    if decision.status != "open":
        raise SecretariatRefused("secretariat.refused.closed")
    decision.status, decision.result, decision.closed_at = "closed", result, now
    await jobs.cancel(session, key_prefix=f"decision:{decision.id}:")
    meeting = await session.get(Meeting, decision.meeting_id)
    common.audit(
        session,
        "decision_closed",
        meeting,
        actor=actor,
        agency_id=agency_id,
        reason=result,
        decision_id=decision.id,
    )
    sec = secretariat_id(core)
    chats = await chats_of_agencies(session, [sec])
    if sec in chats and sec != agency_id:
        await send(
            session,
            chats[sec],
            t(
                "secretariat.decision.closed_notice",
                text=decision.text,
                owner=agency_name(core, agency_id),
                result=result,
            ),
            f"decision:{decision.id}:closed",
            agency_id=sec,
        )


async def _open(session: AsyncSession, job: Job) -> Decision | None:
    decision = await session.get(Decision, int(job.payload["decision_id"]))
    return decision if decision is not None and decision.status == "open" else None


def job_handlers(core: Core) -> dict[str, Any]:
    async def remind(session: AsyncSession, job: Job) -> None:
        decision = await _open(session, job)
        if decision is not None and core.calendar.today(core.clock.now()) <= decision.due_on:
            # run after the due date (the bot was down), the overdue notice says it instead
            await _to_owner(
                session,
                core,
                decision,
                None,
                t("secretariat.decision.due_soon", text=decision.text, due=fmt_date(decision.due_on)),
                "remind",
            )

    async def overdue(session: AsyncSession, job: Job) -> None:
        decision = await _open(session, job)
        if decision is None:
            return
        today = core.calendar.today(core.clock.now())
        late = core.calendar.working_days_between(decision.due_on, today)
        await _to_owner(
            session,
            core,
            decision,
            None,
            t("secretariat.decision.overdue", text=decision.text, due=fmt_date(decision.due_on), days=late),
            f"overdue:{today}",
        )
        following = core.calendar.next_working_day(today)
        await jobs.schedule(
            session,
            OVERDUE,
            _morning(core, following),
            {"decision_id": decision.id},
            dedupe_key=f"decision:{decision.id}:overdue:{following}",
        )

    return {REMIND: remind, OVERDUE: overdue}
