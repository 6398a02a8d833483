"""Agencies and their bound group chats: mirrored from the rules file, bound by admins."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
                    session.add(AgencyChat(agency_id=spec.id, channel=channel, chat_id=str(chat_id),
                                           source="rules"))
