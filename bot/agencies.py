"""Agencies and their bound group chats: mirrored from the rules file, bound by admins.

Any member of a bound group acts for its agency, so the chat -> agency lookup here is the whole
of an officer's authentication; binding is therefore limited to admins and always audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.agency_chats import chat_of_agency
from bot.audit import record
from bot.core import Core
from bot.delivery.unreachable import deliver_missed
from bot.refusals import Refused
from bot.rules import Rules
from storage.models import Agency, AgencyChat


async def sync_agencies(sessions: async_sessionmaker[AsyncSession], rules: Rules) -> None:
    """Mirror the rules' agencies into the database and bind the chats the rules file names."""
    async with sessions() as session, session.begin():
        existing = {a.id: a for a in (await session.execute(select(Agency))).scalars()}
        for spec in rules.agencies:
            row = existing.get(spec.id) or Agency(id=spec.id)
            row.name_vi, row.name_en, row.role = spec.name.vi, spec.name.get("en"), spec.role
            session.add(row)
        await session.flush()
        for spec in rules.agencies:
            for channel, chat_id in spec.chats.items():
                bound = (
                    await session.execute(
                        select(AgencyChat).where(
                            AgencyChat.agency_id == spec.id, AgencyChat.channel == channel
                        )
                    )
                ).scalar_one_or_none()
                if bound is None:
                    session.add(
                        AgencyChat(agency_id=spec.id, channel=channel, chat_id=str(chat_id), source="rules")
                    )


class BindingRefused(Refused):
    """A bind, unbind or listing request that must not be done."""


@dataclass(frozen=True)
class Binding:
    agency_id: str
    channel: str
    chat_id: str
    title: str | None
    source: str
    redelivered: tuple[str, ...] = ()  # codes of the cases whose missed cards are delivered now




def is_admin(core: Core, user_id: str) -> bool:
    return str(user_id) in core.settings.admin_ids


async def agency_of_chat(session: AsyncSession, channel: str, chat_id: str) -> str | None:
    """The agency a group chat acts for, or None when the chat is not bound."""
    return (
        await session.execute(
            select(AgencyChat.agency_id).where(
                AgencyChat.channel == channel, AgencyChat.chat_id == str(chat_id)
            )
        )
    ).scalar_one_or_none()


async def bound_agency(core: Core, channel: str, chat_id: str) -> str | None:
    """The agency of a chat, for adapters deciding whether to listen to it at all."""
    async with core.sessions() as session:
        return await agency_of_chat(session, channel, chat_id)


def _check_admin_in_group(core: Core, user_id: str, is_group: bool) -> None:
    if not is_admin(core, user_id):
        raise BindingRefused("officer.bind.not_admin", user_id=user_id)
    if not is_group:
        raise BindingRefused("officer.bind.private")


async def bind(
    core: Core,
    *,
    channel: str,
    chat_id: str,
    is_group: bool,
    user_id: str,
    agency_id: str | None,
    title: str | None = None,
) -> Binding:
    """Make a group chat the agency's group (moving the agency off its old group); audited."""
    _check_admin_in_group(core, user_id, is_group)
    if not agency_id:
        raise BindingRefused("officer.bind.usage", agencies=", ".join(a.id for a in core.rules.agencies))
    agency_id = agency_id.strip().lower()
    if agency_id not in {a.id for a in core.rules.agencies}:
        raise BindingRefused(
            "officer.bind.unknown_agency",
            agency=agency_id,
            agencies=", ".join(a.id for a in core.rules.agencies),
        )
    chat_id = str(chat_id)
    async with core.sessions() as session, session.begin():
        current = await agency_of_chat(session, channel, chat_id)
        if current is not None and current != agency_id:
            raise BindingRefused("officer.bind.chat_taken", agency=current)
        row = await chat_of_agency(session, agency_id, channel)
        before = {"chat_id": row.chat_id, "source": row.source} if row else {}
        if row is None:
            row = AgencyChat(agency_id=agency_id, channel=channel, chat_id=chat_id)
            session.add(row)
        row.chat_id, row.title, row.source, row.bound_by = chat_id, title, "admin", str(user_id)
        row.bound_at, row.failed_at, row.failure = core.clock.now(), None, None
        record(
            session,
            "chat_bound",
            actor_type="admin",
            actor_id=str(user_id),
            agency_id=agency_id,
            before=before,
            after={"channel": channel, "chat_id": chat_id, "title": title},
        )
        await session.flush()
        codes = await _deliver_missed(session, core, row)
    return Binding(agency_id, channel, chat_id, title, "admin", tuple(codes))


async def back_in_group(core: Core, *, channel: str, chat_id: str) -> tuple[str, list[str]] | None:
    """The bot is a member of a bound group again: the group works again and gets every card it missed.

    Returns (agency id, codes delivered anew), or None when the chat is not bound."""
    async with core.sessions() as session, session.begin():
        row = (await session.execute(select(AgencyChat).where(
            AgencyChat.channel == channel, AgencyChat.chat_id == str(chat_id)))).scalar_one_or_none()
        if row is None:
            return None
        row.failed_at, row.failure = None, None
        await session.flush()
        return row.agency_id, await _deliver_missed(session, core, row)


async def _deliver_missed(session: AsyncSession, core: Core, row: AgencyChat) -> list[str]:
    codes = await deliver_missed(session, core, row, core.clock.now())
    if codes:
        record(session, "cards_redelivered", actor_type="system", agency_id=row.agency_id,
               reason=", ".join(codes), after={"chat_id": row.chat_id, "cases": codes})
    return codes


async def unbind(core: Core, *, channel: str, chat_id: str, is_group: bool, user_id: str) -> str:
    """Release a group from its agency; returns the agency it acted for. Audited."""
    _check_admin_in_group(core, user_id, is_group)
    async with core.sessions() as session, session.begin():
        row = (
            await session.execute(
                select(AgencyChat).where(AgencyChat.channel == channel, AgencyChat.chat_id == str(chat_id))
            )
        ).scalar_one_or_none()
        if row is None:
            raise BindingRefused("officer.bind.not_bound")
        agency_id = row.agency_id
        await session.delete(row)
        record(
            session,
            "chat_unbound",
            actor_type="admin",
            actor_id=str(user_id),
            agency_id=agency_id,
            before={"channel": channel, "chat_id": row.chat_id, "source": row.source},
        )
    return agency_id


async def bindings(core: Core, *, user_id: str) -> list[tuple[str, Binding | None]]:
    """Every agency of the rules with its bound group (None when unbound); for admins only."""
    if not is_admin(core, user_id):
        raise BindingRefused("officer.bind.not_admin", user_id=user_id)
    async with core.sessions() as session:
        rows = (await session.execute(select(AgencyChat).order_by(AgencyChat.id))).scalars().all()
    by_agency: dict[str, Binding] = {}
    for row in rows:
        by_agency.setdefault(
            row.agency_id, Binding(row.agency_id, row.channel, row.chat_id, row.title, row.source)
        )
    return [(a.id, by_agency.get(a.id)) for a in core.rules.agencies]
