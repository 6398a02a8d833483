"""What officers look up and answer in their group: /case, /cases, replies under a card."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from bot import cards, quoting
from bot import status as st
from bot.core import Core
from bot.officer.actions import ask, comment
from bot.officer.messages import _duplicate_code
from bot.officer.permissions import ActionRefused, Actor, Outcome, _acting_agency, _context, _role
from bot.officer.prompts import has_pending, submit_input
from storage.models import AuditEvent, CardMessage, Case, CaseAgency


async def card_of_message(core: Core, actor: Actor, message_id: str) -> int | None:
    """The case whose card (in the actor's chat) is `message_id`, or None."""
    async with core.sessions() as session:
        return (
            (
                await session.execute(
                    select(CardMessage.case_id).where(
                        CardMessage.channel == actor.channel,
                        CardMessage.chat_id == actor.chat_id,
                        CardMessage.message_id == str(message_id),
                        CardMessage.purpose == "card",
                    )
                )
            )
            .scalars()
            .first()
        )


async def reply_to_card(
    core: Core, actor: Actor, case_id: int, text: str, now: dt.datetime | None = None
) -> Outcome:
    """A reply to a card: from the lead it is a question relayed to the citizen, from others a comment;
    one transaction, like a press."""
    try:
        async with core.sessions() as session, session.begin():
            agency_id = await _acting_agency(session, actor)
            case = await session.get(Case, case_id)
            lead = case is not None and _role(case, agency_id) == st.LEAD
            action = cards.ASK if lead else cards.COMMENT
            ctx = await _context(session, core, actor, case_id, None, action, agency_id=agency_id, now=now)
            return await (ask(ctx, text.strip()) if lead else comment(ctx, text.strip()))
    except StaleDataError as exc:
        raise ActionRefused("officer.refused.stale") from exc


async def officer_reply(
    core: Core, actor: Actor, replied_to: str, text: str, now: dt.datetime | None = None
) -> Outcome | None:
    """A group message replying to one of the bot's: to a card it asks or comments, to a prompt it answers.

    None when it concerns nothing the bot is waiting for (ordinary group chatter).
    """
    case_id = await card_of_message(core, actor, replied_to)
    if case_id is not None:
        return await reply_to_card(core, actor, case_id, text, now)
    if await has_pending(core, actor):
        return await submit_input(core, actor, text, now)
    return None


async def show_case(core: Core, actor: Actor, code: str) -> list[quoting.Block]:
    """/case CODE: the card and the timeline of a case the actor's agency holds (now or before), the
    citizen's words quoted."""
    from bot.receipts import normalize_code

    normalized = normalize_code(code or "")
    async with core.sessions() as session:
        agency_id = await _acting_agency(session, actor)
        if normalized is None:
            raise ActionRefused("officer.refused.bad_code")
        case = (await session.execute(select(Case).where(Case.code == normalized))).scalar_one_or_none()
        role = _role(case, agency_id) if case else None
        if case is None or role is None:
            raise ActionRefused("officer.refused.not_holder")
        events = list(
            (
                await session.execute(
                    select(AuditEvent)
                    .where(AuditEvent.case_id == case.id)
                    .order_by(AuditEvent.at, AuditEvent.id)
                )
            ).scalars()
        )
        dup = await _duplicate_code(session, case)
    card = cards.card_blocks(core, case, agency_id, role, "vi", dup, files_follow=False)
    return [*card, quoting.Block(""), *cards.timeline_blocks(core, case, events)]


async def open_cases(core: Core, actor: Actor, now: dt.datetime | None = None) -> str:
    """/cases: the agency's open cases by deadline, overdue first (cases without a deadline last)."""
    async with core.sessions() as session:
        agency_id = await _acting_agency(session, actor)
        rows = list(
            (
                await session.execute(
                    select(Case)
                    .join(CaseAgency, CaseAgency.case_id == Case.id)
                    .where(
                        CaseAgency.agency_id == agency_id,
                        CaseAgency.role.in_(st.HOLDING),
                        Case.status.not_in(tuple(st.CLOSED)),
                    )
                )
            )
            .scalars()
            .unique()
        )
    rows.sort(key=lambda c: (c.due_on is None, c.due_on or dt.date.max, c.id))
    return cards.open_cases_text(core, rows, agency_id, core.calendar.today(now))
