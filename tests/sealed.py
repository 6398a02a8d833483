"""What the outbox holds for a person's own chat, read back as the sender reads it (for tests): the rows
are sealed and keyed by a keyed hash of the chat, so a test finds them by that key and opens them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.core import Core
from bot.delivery.outbox import opened
from storage.models import OutboxMessage


def chat_key(core: Core, chat_id: str | int, channel: str = "telegram") -> str:
    """How a person's chat (or user) is stored: `chat_users.user_key`, `outbox.chat_id`."""
    return core.privacy.chat_key(channel, str(chat_id))


def unsealed(core: Core, row: OutboxMessage) -> OutboxMessage:
    """A detached copy of a sealed row with its chat, payload, case and agency put back (a row that is
    not sealed, or whose seal this key cannot open, as it is)."""
    content = opened(core.privacy, row.sealed)
    if content is None:
        return row
    columns: dict[str, Any] = {c.key: getattr(row, c.key) for c in OutboxMessage.__table__.columns}
    columns.update(chat_id=str(content.get("chat_id") or row.chat_id), payload=content.get("payload") or {},
                   case_id=content.get("case_id"), agency_id=content.get("agency_id"))
    return OutboxMessage(**columns)


async def rows_to(core: Core, chat_id: str | int, *where: Any,
                  channel: str = "telegram") -> list[OutboxMessage]:
    """The outbox rows to a person's chat, oldest first, opened."""
    key = chat_key(core, chat_id, channel)
    async with core.sessions() as session:
        rows = (await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == channel, OutboxMessage.chat_id == key, *where)
            .order_by(OutboxMessage.id)
        )).all()
    return [unsealed(core, row) for row in rows]


async def all_rows(core: Core, *where: Any) -> list[OutboxMessage]:
    """Every outbox row, oldest first, the sealed ones opened."""
    async with core.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).where(*where).order_by(OutboxMessage.id))).all()
    return [unsealed(core, row) for row in rows]
