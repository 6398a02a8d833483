"""Attendance: an agency answers an invitation with who attends (names and titles) or why it cannot.

The latest answer of an agency counts; each answer is audited and the chair's and the secretariat's
groups get the updated confirmations.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import presses
from bot.agency_chats import chats_of_agencies
from bot.core import Core
from bot.officer import Actor
from bot.secretariat import common, meetings
from bot.secretariat.common import SecretariatRefused, secretariat_id, send
from storage.models import Meeting, MeetingAnswer

MAX_DETAIL = 1000


async def answer(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    agency_id: str,
    meeting: Meeting,
    attends: bool,
    detail: str,
    now: dt.datetime,
) -> MeetingAnswer:
    detail = " ".join(detail.split())[:MAX_DETAIL]
    if not detail:
        raise SecretariatRefused("secretariat.refused.empty")
    if agency_id not in meeting.agencies:
        raise SecretariatRefused("secretariat.refused.not_invited")
    if meeting.status != "planned":
        raise SecretariatRefused("secretariat.refused.not_planned")
    row = (
        await session.execute(
            select(MeetingAnswer).where(
                MeetingAnswer.meeting_id == meeting.id, MeetingAnswer.agency_id == agency_id
            )
        )
    ).scalar_one_or_none()
    if row is None:
        row = MeetingAnswer(meeting_id=meeting.id, agency_id=agency_id, attends=attends, detail=detail)
        session.add(row)
    row.attends, row.detail, row.by_user, row.at = attends, detail, actor.user_id, now
    await session.flush()
    common.audit(
        session,
        "meeting_attends" if attends else "meeting_absent",
        meeting,
        actor=actor,
        agency_id=agency_id,
        reason=detail,
    )
    targets = {meeting.chair or secretariat_id(core), secretariat_id(core)} - {agency_id}
    chats = await chats_of_agencies(session, sorted(targets))
    for target, chat in chats.items():
        card = await meetings.card(session, core, meeting, target)
        await send(
            session,
            chat,
            card.text,
            f"meeting:{meeting.id}:answer:{row.agency_id}:{now.isoformat()}:{target}",
            agency_id=target,
            buttons=[[presses.button(label, signed) for label, signed in r] for r in card.buttons],
        )
    return row
