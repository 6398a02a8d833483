"""What an action sends: cards in each holding agency's group, the citizen's notice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import cards, case_links, quoting
from bot.agency_chats import chat_of_agency
from bot.core import Core
from bot.delivery.outbox import enqueue, enqueue_evidence, enqueue_private
from bot.i18n import t
from bot.quoting import Block
from storage.models import CardMessage, Case, Reporter


async def card_message_id(session: AsyncSession, case_id: int, agency_id: str, chat_id: str) -> str | None:
    """The platform id of the newest card of a case in an agency's chat, to reply under it."""
    return (
        (
            await session.execute(
                select(CardMessage.message_id)
                .where(
                    CardMessage.case_id == case_id,
                    CardMessage.agency_id == agency_id,
                    CardMessage.chat_id == chat_id,
                    CardMessage.purpose == "card",
                )
                .order_by(CardMessage.id.desc())
            )
        )
        .scalars()
        .first()
    )


async def _duplicate_code(session: AsyncSession, case: Case) -> str | None:
    if case.duplicate_of_id is None:
        return None
    return (
        await session.execute(select(Case.code).where(Case.id == case.duplicate_of_id))
    ).scalar_one_or_none()


async def to_group(
    session: AsyncSession,
    case: Case,
    agency_id: str,
    text: str | list[Block],
    key: str,
    buttons: list[list[dict[str, str]]] | None = None,
    expects_answer: bool = False,
) -> bool:
    """Post a text in an agency's group as a reply to its card of the case; False when it has no group.
    A text holding a citizen's words comes as blocks, those words quoted (`bot.quoting`)."""
    chat = await chat_of_agency(session, agency_id)
    if chat is None:
        return False
    payload: dict[str, Any] = {"text": text} if isinstance(text, str) else quoting.payload(text)
    reply_to = await card_message_id(session, case.id, agency_id, chat.chat_id)
    if reply_to:
        payload["reply_to"] = reply_to
    if buttons:
        payload["buttons"] = buttons
    if expects_answer:
        payload["expects_answer"] = True
    await enqueue(
        session,
        channel=chat.channel,
        chat_id=chat.chat_id,
        kind="text",
        payload=payload,
        key=key,
        case_id=case.id,
        agency_id=agency_id,
    )
    return True


async def refresh_cards(
    session: AsyncSession, core: Core, case: Case, new_cards: tuple[str, ...] = ()
) -> None:
    """Edit every holding agency's card in place; post a fresh card (and evidence) to `new_cards`."""
    await session.flush()
    dup = await _duplicate_code(session, case)
    for agency_id, role in cards.holders(case):
        chat = await chat_of_agency(session, agency_id)
        if chat is None:
            continue
        payload = cards.card_payload(core, case, agency_id, role, "vi", duplicate_code=dup)
        if agency_id in new_cards:
            await enqueue(
                session,
                channel=chat.channel,
                chat_id=chat.chat_id,
                kind="card",
                payload=payload,
                key=f"card:{case.id}:{agency_id}:v{case.version}",
                case_id=case.id,
                agency_id=agency_id,
            )
            await enqueue_evidence(
                session,
                channel=chat.channel,
                chat_id=chat.chat_id,
                files=((a.media, a.file_id) for a in case.attachments),
                caption=case.code,
                key=f"media:{case.id}:{agency_id}:v{case.version}",
                case_id=case.id,
                agency_id=agency_id,
            )
        else:
            await enqueue(
                session,
                channel=chat.channel,
                chat_id=chat.chat_id,
                kind="edit_card",
                payload=payload,
                key=f"edit:{case.id}:{agency_id}:v{case.version}",
                case_id=case.id,
                agency_id=agency_id,
            )


async def reporter_chat(session: AsyncSession, core: Core, case: Case) -> tuple[str, str] | None:
    """(channel, chat id) of the reporter, opened only to send them a message; None without a reporter."""
    reporter = (
        await session.execute(select(Reporter).where(Reporter.case_id == case.id))
    ).scalar_one_or_none()
    if reporter is None:
        return None
    identity = core.privacy.open(reporter.identity)
    chat_id = identity.get("chat_id") or identity.get("user_id")
    if not chat_id:
        return None
    return identity.get("channel") or reporter.channel, str(chat_id)


async def notify_citizen(
    session: AsyncSession, core: Core, case: Case, key: str, tag: str, **params: Any
) -> bool:
    """Tell the reporter in plain language, in their language, what happened to their case; the
    reporters of cases linked to it hear the same under their own receipt code."""
    sent = await _notify_one(session, core, case, case, key, tag, **params)
    for follower in await case_links.followers(session, case):
        await _notify_one(session, core, follower, case, key, tag, **params)
    return sent


async def _notify_one(
    session: AsyncSession, core: Core, case: Case, cause: Case, key: str, tag: str, **params: Any
) -> bool:
    chat = await reporter_chat(session, core, case)
    if chat is None:
        return False
    text = t(key, case.locale, code=case.code, **params)
    await enqueue_private(
        session,
        core.privacy,
        channel=chat[0],
        chat_id=chat[1],
        payload={"text": text},
        key=f"notify:{case.id}:v{cause.version}:{tag}" if cause is case else
        f"notify:{case.id}:by{cause.id}:v{cause.version}:{tag}",
        case_id=case.id,
    )
    return True
