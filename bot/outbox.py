"""The outbox: messages caused by a change are rows written in the change's own transaction.

Payloads are platform-neutral; a channel's sender (e.g. handlers/telegram/sender.py) renders them:
- kind "text": {"text": str, "buttons": [[{"text": str, "data": str}]]?, "reply_to": message id?}
- kind "card": like text; once sent, the message is recorded as the case's card in that chat
- kind "edit_card": like text; edits the case's card(s) in that chat in place
- kind "media": {"items": [{"media": "photo|document|voice|video|audio", "file_id": str, "caption"?: str}]};
  an item made by the bot itself (a chart, a report) carries its bytes instead of a file id:
  {"media": ..., "data": base64 str, "filename": str, "caption"?: str}
- kind "file": a document the bot generated, {"name": str, "data": base64 str, "caption"?: str}
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str,
    kind: str,
    payload: dict[str, Any],
    key: str,
    case_id: int | None = None,
    agency_id: str | None = None,
) -> OutboxMessage:
    """Queue one message; a second enqueue with the same idempotency key returns the first row."""
    existing = (
        await session.execute(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    for pending in session.new:
        if isinstance(pending, OutboxMessage) and pending.idempotency_key == key:
            return pending
    message = OutboxMessage(
        channel=channel, chat_id=str(chat_id), kind=kind, payload=payload, idempotency_key=key,
        case_id=case_id, agency_id=agency_id,
    )
    session.add(message)
    return message


async def enqueue_evidence(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str,
    files: Iterable[tuple[str, str]],
    caption: str,
    key: str,
    case_id: int,
    agency_id: str,
) -> OutboxMessage | None:
    """Queue evidence files, given as (media, file id), as one "media" row captioned with the case code."""
    items: list[dict[str, Any]] = [{"media": media, "file_id": file_id} for media, file_id in files]
    if not items:
        return None
    items[0]["caption"] = caption
    return await enqueue(
        session, channel=channel, chat_id=chat_id, kind="media", payload={"items": items}, key=key,
        case_id=case_id, agency_id=agency_id,
    )


async def enqueue_file(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str,
    media: str,
    data: bytes,
    filename: str,
    key: str,
    caption: str | None = None,
    agency_id: str | None = None,
) -> OutboxMessage:
    """Queue a file the bot made (a chart as "photo", a report as "document"), its bytes in the row."""
    encoded = base64.b64encode(data).decode("ascii")
    item: dict[str, Any] = {"media": media, "data": encoded, "filename": filename}
    if caption:
        item["caption"] = caption
    return await enqueue(
        session, channel=channel, chat_id=chat_id, kind="media", payload={"items": [item]}, key=key,
        agency_id=agency_id,
    )
