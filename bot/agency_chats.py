"""Where each agency's group is: the one query every part of the core uses to find it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AgencyChat


async def chats_of_agencies(
    session: AsyncSession, agency_ids: list[str], *, channel: str | None = None, working: bool = False
) -> dict[str, AgencyChat]:
    """The one way to find agencies' groups: agency id -> its bound group chat (the first bound, on
    `channel` or any); with `working`, only groups the bot can still reach (none that answered 403)."""
    query = select(AgencyChat).where(AgencyChat.agency_id.in_(agency_ids)).order_by(AgencyChat.id.desc())
    if channel:
        query = query.where(AgencyChat.channel == channel)
    if working:
        query = query.where(AgencyChat.failed_at.is_(None))
    return {row.agency_id: row for row in (await session.execute(query)).scalars()}


async def chat_of_agency(
    session: AsyncSession, agency_id: str, channel: str | None = None, *, working: bool = False
) -> AgencyChat | None:
    """The group chat bound to one agency (see `chats_of_agencies`)."""
    return (await chats_of_agencies(session, [agency_id], channel=channel, working=working)).get(agency_id)
