"""The relayed conversation: a reporter's answer to an officer's question goes back to the agency's group.

Officers never learn who the reporter is and the reporter never learns which officer asked (Luật Tố cáo
2018 Điều 47-48); the bot carries both sides. The answer is matched to its case by the question message
the reporter replied to, so it lands on the right case even when they have several open: the question's
outbox row, sealed, keeps a note of its case after delivery (`bot.delivery.outcomes`).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import cards
from bot import status as st
from bot.agency_chats import chat_of_agency
from bot.audit import record
from bot.core import Core
from bot.deadline_jobs import replan
from bot.deadlines import resume
from bot.delivery.outbox import enqueue_evidence, opened
from bot.evidence import Evidence, refusal
from bot.i18n import t
from bot.officer import (
    current_stage,
    notify_citizen,
    refresh_cards,
    reporter_chat,
    to_group,
)
from bot.quoting import Block, quote
from bot.receipts import normalize_code
from storage.models import Attachment, AuditEvent, Case, OutboxMessage, Reporter

_LEADING_CODE = re.compile(r"^\s*([A-Za-z0-9]{4})[\s\-]?([A-Za-z0-9]{4})\b[\s:,.\-]*")


@dataclass(frozen=True)
class Answered:
    """What the citizen is told after answering: which case their answer went to."""

    code: str
    resumed: bool
    locale: str
    refused: tuple[str, dict[str, Any]] | None = None  # a file not accepted (locale key, parameters)

    def texts(self) -> list[str]:
        """What to tell the citizen: the answer went through, and any file that was not taken."""
        said = [t("notify.answer_relayed", self.locale, code=self.code)]
        if self.refused:
            said.append(t(self.refused[0], self.locale, **self.refused[1]))
        return said


async def question_case(core: Core, channel: str, chat_id: str, replied_to: str) -> int | None:
    """The case a question message (sent to this chat) belongs to, or None when it was no question."""
    async with core.sessions() as session:
        return await _question_case(session, core, channel, chat_id, replied_to)


async def _question_case(session: AsyncSession, core: Core, channel: str, chat_id: str,
                         replied_to: str) -> int | None:
    rows = (
        await session.execute(
            select(OutboxMessage).where(
                OutboxMessage.channel == channel,
                OutboxMessage.chat_id == core.privacy.chat_key(channel, str(chat_id)),
                OutboxMessage.message_id == str(replied_to),
            )
        )
    ).scalars()
    for row in rows:
        case_id, _, question = _note(core, row)
        if question:
            return case_id
    return None


def _note(core: Core, row: OutboxMessage) -> tuple[int | None, str | None, bool]:
    """(case id, agency id, whether it was a question) a message to a reporter was about, from its seal:
    the whole message while it waits, the note it keeps once delivered."""
    content = opened(core.privacy, row.sealed) or {}
    question = (content.get("payload") or {}).get("relay") == "question"
    return content.get("case_id"), content.get("agency_id"), question


async def _status_before_question(session: AsyncSession, case_id: int) -> str:
    """The status the case had before the first unanswered question paused it."""
    events = (
        await session.execute(
            select(AuditEvent)
            .where(AuditEvent.case_id == case_id, AuditEvent.action == "info_requested")
            .order_by(AuditEvent.id.desc())
        )
    ).scalars()
    for event in events:
        status = event.before.get("status")
        if status and status != st.WAITING_INFO:
            return status
    return st.NEW


async def _resume_clock(session: AsyncSession, core: Core, case: Case, now: dt.datetime) -> None:
    """The clock restarts: the due date moves by the time spent waiting for the citizen."""
    today = core.calendar.today(now)
    stage = current_stage(core, case)
    if case.due_on and case.paused_at and stage is not None:
        paused_from = case.paused_at.astimezone(core.calendar.timezone).date()
        unit = stage.unit
        case.due_on = resume(case.due_on, paused_from, today, unit, core.calendar)
    case.status = await _status_before_question(session, case.id)
    case.paused_at = None


async def citizen_answer(
    core: Core,
    *,
    channel: str,
    user_id: str,
    chat_id: str,
    replied_to: str,
    text: str,
    media: list[Evidence] | None = None,
    now: dt.datetime | None = None,
) -> Answered | None:
    """Relay the reporter's answer under the case's card in the lead's (and the asker's) group.

    Returns None when the replied-to message was not a question of ours (the intake dialogue takes it).
    """
    now = now or core.clock.now()
    async with core.sessions() as session, session.begin():
        case_id = await _question_case(session, core, channel, chat_id, replied_to)
        if case_id is None:
            return None
        case = await session.get(Case, case_id)
        if case is None:
            return None
        reporter = await reporter_chat(session, core, case)
        if reporter != (channel, str(chat_id)):
            return None
        asker = await _asker(session, core, case.id, channel, chat_id, replied_to)
        return await _relay(session, core, case, channel, asker, text, media, now)


async def _asker(session: AsyncSession, core: Core, case_id: int, channel: str, chat_id: str,
                 replied_to: str | None) -> str | None:
    """The agency whose question is answered: the replied-to question's, else the latest question's."""
    query = select(OutboxMessage).where(OutboxMessage.channel == channel,
                                        OutboxMessage.chat_id == core.privacy.chat_key(channel, str(chat_id)))
    if replied_to is not None:
        query = query.where(OutboxMessage.message_id == str(replied_to))
    for row in (await session.execute(query.order_by(OutboxMessage.id.desc()))).scalars():
        about, agency, question = _note(core, row)
        if about != case_id:
            continue
        if replied_to is not None or question:
            return agency
    return None


async def waiting_for(core: Core, channel: str, user_id: str) -> list[tuple[int, str]]:
    """(case id, code) of this reporter's cases waiting for their answer, oldest first: on a platform
    without "reply to this message", the answer is matched to its case by these."""
    async with core.sessions() as session:
        rows = (await session.execute(
            select(Case.id, Case.code).join(Reporter, Reporter.case_id == Case.id)
            .where(Reporter.reporter_key == core.privacy.key_for(channel, user_id),
                   Case.status == st.WAITING_INFO)
            .order_by(Case.id)
        )).all()
    return [(row[0], row[1]) for row in rows]


async def unreplied_answer(
    core: Core,
    *,
    channel: str,
    user_id: str,
    chat_id: str,
    text: str,
    media: list[Evidence] | None = None,
    dialogue_busy: bool = False,
) -> Answered | list[str] | None:
    """On a platform without "reply to this message": read a message as the answer to an officer's
    question when the reporter has one waiting. A message that begins with a waiting case's code answers
    that case; with one case waiting, any message the dialogue is not busy with answers it; with several,
    the codes are returned so the citizen can be asked which. None: not an answer (the dialogue takes it).
    """
    waiting = await waiting_for(core, channel, user_id)
    if not waiting:
        return None
    named = _LEADING_CODE.match(text)
    code = normalize_code(named.group(1) + named.group(2)) if named else None
    for case_id, waiting_code in waiting:
        if code == waiting_code:
            assert named is not None
            return await answer_case(core, channel=channel, user_id=user_id, chat_id=chat_id,
                                     case_id=case_id, text=text[named.end():], media=media)
    if dialogue_busy or text.startswith("/"):
        return None
    if len(waiting) == 1:
        return await answer_case(core, channel=channel, user_id=user_id, chat_id=chat_id,
                                 case_id=waiting[0][0], text=text, media=media)
    return [code for _, code in waiting]


async def answer_case(
    core: Core,
    *,
    channel: str,
    user_id: str,
    chat_id: str,
    case_id: int,
    text: str,
    media: list[Evidence] | None = None,
    now: dt.datetime | None = None,
) -> Answered | None:
    """Relay an answer to a case the reporter named (by its code) rather than by replying to the question;
    None unless the case is theirs and waits for them."""
    now = now or core.clock.now()
    async with core.sessions() as session, session.begin():
        case = await session.get(Case, case_id)
        if case is None or case.status != st.WAITING_INFO:
            return None
        if await reporter_chat(session, core, case) != (channel, str(chat_id)):
            return None
        asker = await _asker(session, core, case.id, channel, chat_id, None)
        return await _relay(session, core, case, channel, asker, text, media, now)


async def _relay(session: AsyncSession, core: Core, case: Case, channel: str, asker: str | None, text: str,
                 media: list[Evidence] | None, now: dt.datetime) -> Answered:
    """Put the answer under the case's card in the lead's (and the asker's) group; resume the clock.

    Files go through the same checks as a report's evidence; one that is refused is left out (the text
    still goes) and the citizen is told why."""
    refused = None
    accepted = []
    for item in media or []:
        why = refusal(core.settings, item.media, item.size, item.mime, item.name)
        if why is None:
            accepted.append(item)
        else:
            refused = why
    media = accepted
    resumed = case.status == st.WAITING_INFO
    before = {"status": case.status, "due_on": case.due_on.isoformat() if case.due_on else None}
    if resumed:
        await _resume_clock(session, core, case, now)
        await replan(session, core, case, now)
    for item in media or []:
        case.attachments.append(
            Attachment(
                channel=channel,
                media=item.media,
                file_id=item.file_id,
                file_unique_id=item.file_unique_id,
                added_by="citizen",
            )
        )
    case.updated_at = now
    await refresh_cards(session, core, case)
    record(
        session,
        "info_received",
        case_id=case.id,
        actor_type="citizen",
        reason=text or None,
        before=before,
        after={
            "status": case.status,
            "due_on": case.due_on.isoformat() if case.due_on else None,
            "files": len(media or []),
        },
        public=True,
    )
    key = uuid.uuid4().hex
    heading = t("officer.relay.answer", "vi", code=case.code)
    body = [Block(heading), quote(text)] if text else [Block(f"{heading}\n{t('officer.relay.no_text')}")]
    targets = [case.lead_agency_id] + ([asker] if asker and asker != case.lead_agency_id else [])
    for agency_id in targets:
        if dict(cards.holders(case)).get(agency_id) not in st.HOLDING:
            continue
        await to_group(session, case, agency_id, body, key=f"answer:{key}:{agency_id}")
        chat = await chat_of_agency(session, agency_id) if media else None
        if chat is not None:
            await enqueue_evidence(
                session,
                channel=chat.channel,
                chat_id=chat.chat_id,
                files=((m.media, m.file_id) for m in media),
                caption=case.code,
                key=f"answer-media:{key}:{agency_id}",
                case_id=case.id,
                agency_id=agency_id,
            )
    if resumed:
        await notify_citizen(
            session,
            core,
            case,
            "notify.resumed",
            "resumed",
            status=t(f"status.{case.status}", case.locale),
        )
    return Answered(code=case.code, resumed=resumed, locale=case.locale, refused=refused)
