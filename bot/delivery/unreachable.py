"""Agencies the bot cannot reach, and what they missed.

When an agency's group cannot get messages (the bot was removed or blocked, or no group is bound yet),
its cases wait. The admins and the secretariat are told at once, in plain words, which agency is
unreachable and which cases wait for it. When the group is bound again (`/bind`) or the bot is back in it,
every card it missed is delivered and the cards it still shows are brought up to date.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import cards
from bot import status as st
from bot.agency_chats import chat_of_agency
from bot.core import Core
from bot.delivery.outbox import enqueue, enqueue_evidence
from bot.i18n import t
from storage.models import AgencyChat, CardMessage, Case, CaseAgency, ChatUser


async def open_cases(session: AsyncSession, agency_id: str) -> list[Case]:
    """The open cases an agency holds (as lead or co-operating), oldest first."""
    query = (
        select(Case)
        .join(CaseAgency, CaseAgency.case_id == Case.id)
        .where(CaseAgency.agency_id == agency_id, CaseAgency.role.in_(st.HOLDING),
               Case.status.not_in((st.RESOLVED, st.REJECTED)))
        .order_by(Case.id)
    )
    return list((await session.execute(query)).scalars().unique().all())


async def waiting(session: AsyncSession, agency_id: str, chat: AgencyChat | None) -> list[Case]:
    """The agency's open cases whose card is not in its working group."""
    cases = await open_cases(session, agency_id)
    if chat is None or chat.failed_at is not None:
        return cases
    shown = set((await session.execute(select(CardMessage.case_id).where(
        CardMessage.agency_id == agency_id, CardMessage.channel == chat.channel,
        CardMessage.chat_id == chat.chat_id, CardMessage.purpose == "card"))).scalars())
    return [c for c in cases if c.id not in shown]


async def tell_unreachable(session: AsyncSession, core: Core, agency_id: str, *, why: str, key: str) -> None:
    """Tell the admins and the secretariat's group that `agency_id` cannot be reached and what waits.

    `why` is "removed" (the bot cannot write to the group) or "unbound" (no group is bound); `key` makes
    the alert once per occasion."""
    chat = (await session.execute(select(AgencyChat).where(AgencyChat.agency_id == agency_id)
                                  .order_by(AgencyChat.id))).scalars().first()
    codes = [c.code for c in await waiting(session, agency_id, chat)]

    def text(locale: str) -> str:
        return t("delivery.unreachable", locale, agency=cards.agency_name(core, agency_id, locale),
                 agency_id=agency_id, why=t(f"delivery.why.{why}", locale),
                 cases=", ".join(codes) if codes else t("delivery.no_cases", locale), count=len(codes))

    for admin in core.settings.admin_ids:
        user = await session.get(ChatUser, ("telegram", core.privacy.chat_key("telegram", str(admin))))
        locale = (user.locale if user is not None else None) or "vi"
        await enqueue(session, channel="telegram", chat_id=str(admin), kind="text",
                      payload={"text": text(locale)}, key=f"{key}:admin:{admin}")
    for spec in core.rules.agencies:
        if not spec.secretariat or spec.id == agency_id:
            continue
        group = await chat_of_agency(session, spec.id, working=True)
        if group is not None:
            await enqueue(session, channel=group.channel, chat_id=group.chat_id, kind="text",
                          payload={"text": text("vi")}, key=f"{key}:secretariat:{spec.id}")


async def deliver_missed(session: AsyncSession, core: Core, chat: AgencyChat, now: dt.datetime) -> list[str]:
    """Queue, for a group bound again or back in reach, every card it missed (with the evidence) and an
    up-to-date version of the cards it shows; returns the codes of the cases delivered anew."""
    delivered: list[str] = []
    stamp = int(now.timestamp())
    for case in await open_cases(session, chat.agency_id):
        role = next((r for a, r in cards.holders(case) if a == chat.agency_id), st.LEAD)
        duplicate = None
        if case.duplicate_of_id is not None:
            duplicate = (await session.execute(select(Case.code).where(Case.id == case.duplicate_of_id))
                         ).scalar_one_or_none()
        payload = cards.card_payload(core, case, chat.agency_id, role, "vi", duplicate_code=duplicate)
        shown = (await session.execute(select(exists().where(
            CardMessage.case_id == case.id, CardMessage.agency_id == chat.agency_id,
            CardMessage.channel == chat.channel, CardMessage.chat_id == chat.chat_id,
            CardMessage.purpose == "card")))).scalar()
        common = {"channel": chat.channel, "chat_id": chat.chat_id, "case_id": case.id,
                  "agency_id": chat.agency_id}
        if shown:
            await enqueue(session, kind="edit_card", payload=payload,
                          key=f"edit:{case.id}:{chat.agency_id}:back:{stamp}", **common)
            continue
        await enqueue(session, kind="card", payload=payload,
                      key=f"card:{case.id}:{chat.agency_id}:back:{stamp}", **common)
        await enqueue_evidence(session, files=((a.media, a.file_id) for a in case.attachments),
                               caption=case.code, key=f"media:{case.id}:{chat.agency_id}:back:{stamp}",
                               **common)
        delivered.append(case.code)
    return delivered
