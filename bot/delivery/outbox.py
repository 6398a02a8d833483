"""The outbox: messages caused by a change are rows written in the change's own transaction.

Payloads are platform-neutral; a channel's sender (e.g. handlers/telegram/sender.py) renders them:
- kind "text": {"text": str, "buttons": [[{"text", "value"} | {"text", "press"} | {"text", "url"}]]?,
  "reply_to": message id?, "expects_answer": bool?}
- kind "card": like text; once sent, the message is recorded as the case's card in that chat
- kind "edit_card": like text; edits the case's card(s) in that chat in place
- kind "media": {"items": [MediaItem as JSON]}: a file by its id (a platform's, or the bot's stored copy),
  or a file the bot made itself (a chart, a report) with its bytes in the row
- kind "file": a document the bot generated, {"name": str, "data": base64 str, "caption"?: str}

A message to a person's own chat is queued sealed (`enqueue_private`): no reader of the database learns
from its row who is written to, what is said (a receipt's PIN, a phone number in a summary) or which case
it is about. The sender opens it (`outgoing`) only to send it.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.privacy import Privacy
from storage.models import OutboxMessage


@dataclass(frozen=True)
class MediaItem:
    """One file of a "media" row, as it is stored in the row's JSON and read back by a transport."""

    media: str  # photo | document | voice | video | audio
    file_id: str | None = None  # a platform's file id, or the bot's stored copy (`bot.delivery.filestore`)
    data: str | None = None  # base64 of a file the bot made, instead of a file id
    filename: str | None = None
    caption: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def of(cls, raw: dict[str, Any]) -> MediaItem:
        return cls(media=str(raw.get("media") or "document"), file_id=raw.get("file_id"),
                   data=raw.get("data"), filename=raw.get("filename"), caption=raw.get("caption"))

    def raw_bytes(self) -> bytes | None:
        return base64.b64decode(self.data) if self.data else None


def media_items(payload: dict[str, Any]) -> list[MediaItem]:
    """The deliverable items of a "media" row (an item with neither a file id nor bytes is skipped)."""
    items = (MediaItem.of(raw) for raw in payload.get("items") or [] if isinstance(raw, dict))
    return [item for item in items if item.file_id or item.data]


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
    fresh: bool = False,
    sealed: str | None = None,
) -> OutboxMessage:
    """Queue one message; a second enqueue with the same idempotency key returns the first row. A caller
    whose key is new by construction (it holds a random part) says `fresh`, and no row is looked up."""
    if not fresh:
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
        case_id=case_id, agency_id=agency_id, sealed=sealed,
    )
    session.add(message)
    return message


async def enqueue_private(
    session: AsyncSession,
    privacy: Privacy,
    *,
    channel: str,
    chat_id: str,
    payload: dict[str, Any],
    key: str,
    case_id: int | None = None,
    agency_id: str | None = None,
    fresh: bool = False,
) -> OutboxMessage:
    """Queue a text to a person's own chat, sealed: the row shows its chat only as a keyed hash (so the
    person's messages still go out in order), its idempotency key hashed, and keeps the chat id, payload,
    case and agency only inside `sealed`."""
    content = {"chat_id": str(chat_id), "payload": payload, "case_id": case_id, "agency_id": agency_id}
    return await enqueue(
        session, channel=channel, chat_id=privacy.chat_key(channel, str(chat_id)), kind="text", payload={},
        key=privacy.tag(key), fresh=fresh, sealed=privacy.seal_value(content),
    )


@dataclass(frozen=True)
class Outgoing:
    """An outbox row as the sender delivers it: a sealed row opened, with its chat as stored (`chat`,
    the keyed hash) apart from the chat to send to (`chat_id`)."""

    id: int
    channel: str
    chat: str
    chat_id: str
    kind: str
    payload: dict[str, Any]
    case_id: int | None
    agency_id: str | None
    attempts: int
    claimed_until: dt.datetime | None
    sealed: bool = False

    @property
    def question(self) -> bool:
        """A relayed question, whose delivered row keeps a sealed note for the person's reply."""
        return self.sealed and self.payload.get("relay") == "question" and self.case_id is not None


def outgoing(row: OutboxMessage, privacy: Privacy) -> Outgoing | None:
    """The row to deliver; None for a sealed row this key cannot open."""
    values = {"id": row.id, "channel": row.channel, "chat": row.chat_id, "kind": row.kind,
              "attempts": row.attempts, "claimed_until": row.claimed_until}
    if row.sealed is None:
        return Outgoing(chat_id=row.chat_id, payload=dict(row.payload or {}), case_id=row.case_id,
                        agency_id=row.agency_id, **values)
    content = opened(privacy, row.sealed)
    if content is None or not content.get("chat_id"):
        return None
    return Outgoing(chat_id=str(content["chat_id"]), payload=dict(content.get("payload") or {}),
                    case_id=content.get("case_id"), agency_id=content.get("agency_id"), sealed=True, **values)


def opened(privacy: Privacy, sealed: str | None) -> dict[str, Any] | None:
    """What a sealed row (or a delivered question's note) holds; None when it cannot be opened."""
    content = privacy.open_value(sealed) if sealed else None
    return content if isinstance(content, dict) else None


def question_note(privacy: Privacy, row: Outgoing, day: dt.datetime) -> str:
    """What a delivered question keeps, sealed at the start of its day: its case and agency, not its text
    (a token tells the second it was sealed at)."""
    note = {"payload": {"relay": "question"}, "case_id": row.case_id, "agency_id": row.agency_id}
    return privacy.seal_value(note, at=day)


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
    items = [MediaItem(media, file_id) for media, file_id in files]
    if not items:
        return None
    items[0] = MediaItem(items[0].media, items[0].file_id, caption=caption)
    payload = {"items": [item.as_json() for item in items]}
    return await enqueue(
        session, channel=channel, chat_id=chat_id, kind="media", payload=payload, key=key,
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
    item = MediaItem(media, data=encoded, filename=filename, caption=caption or None)
    return await enqueue(
        session, channel=channel, chat_id=chat_id, kind="media", payload={"items": [item.as_json()]}, key=key,
        agency_id=agency_id,
    )
