"""Telegram transport for the outbox sender: renders platform-neutral payloads with aiogram and maps
Telegram's answers onto the sender's outcomes (ok, retry after, transient, permanent for row or chat).

Payloads (bot/delivery/outbox.py): text and card: {"text", "blocks"?: the text with a citizen's words
apart (bot.quoting; shown as blockquote entities), "buttons"?: [[{"text","value"} | {"text","press"} |
{"text","url"} | {"text","data"} (queued by earlier versions)]], "reply_to"?: message id,
"expects_answer"?: true (sent as a ForceReply)}; edit_card:
like text, applied to the recorded cards;
media: {"items": [bot.delivery.outbox.MediaItem as JSON]}.
file: a generated document, {"name", "data": base64, "caption"?}.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.methods import SendMessage
from aiogram.types import (
    BufferedInputFile,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
    MessageEntity,
    ReplyParameters,
    TelegramObject,
)

from bot import presses, quoting
from bot.delivery.filestore import FileMissing, FileStore, store_key
from bot.delivery.outbox import MediaItem, media_items
from bot.delivery.ratelimit import Limits
from bot.delivery.transport import Delivery, DeliveryResult
from bot.longtext import split_text, utf16_length
from handlers.telegram import MAX_TEXT
from handlers.telegram.callbacks import pack
from handlers.telegram.keyboards import option_data

log = logging.getLogger(__name__)


class Sent(TelegramObject):
    """What the transport reads of a message Telegram accepted: its id. The rest of Telegram's echo is
    kept as it came, unvalidated; validating it as a whole `Message` (the chat, the sender, the text's
    entities and the buttons again) was about a tenth of the bot's CPU under a burst of first messages."""

    message_id: int


class SendMessageForId(SendMessage):
    """`sendMessage`, answered with `Sent` rather than a full `Message`."""

    __returning__ = Sent


Markup = InlineKeyboardMarkup | ForceReply | None
CAPTION_LIMIT = 1024

# Bad requests meaning the chat itself cannot receive messages (not just this one message).
CHAT_GONE = (
    "chat not found", "bot was kicked", "bot is not a member", "have no rights to send",
    "not enough rights to send", "group chat was deactivated", "user is deactivated", "peer_id_invalid",
    "chat_write_forbidden", "bot can't initiate conversation",
)
CARD_GONE = ("message to edit not found", "message can't be edited", "message_id_invalid")
ALBUM = {"photo": InputMediaPhoto, "video": InputMediaVideo, "document": InputMediaDocument,
         "audio": InputMediaAudio}
# Which kinds may share one album: photos with videos; documents only together; audio only together.
EXTENSIONS = {"photo": "jpg", "video": "mp4", "voice": "ogg", "audio": "mp3", "document": "bin"}
ALBUM_FAMILY = {"photo": "visual", "video": "visual", "document": "document", "audio": "audio"}


def _data(button: dict[str, Any]) -> str:
    """A button's callback data: an intake option's value or a signed press, encoded here; "data" is
    what rows queued by earlier versions carry, already in Telegram's format."""
    if "value" in button:
        return option_data(str(button["value"]))
    signed = presses.from_button(button)
    if signed is not None:
        return pack(signed)
    return str(button.get("data", "-"))


def keyboard(payload: dict[str, Any]) -> Markup:
    """Inline buttons from payload["buttons"] (rows of {"text","value"} for the intake's options,
    {"text","press"} for signed presses, or {"text","url"}), or ForceReply."""
    rows = payload.get("buttons") or []
    if rows and isinstance(rows[0], dict):
        rows = [rows]
    if rows:
        return InlineKeyboardMarkup(inline_keyboard=[
            [InlineKeyboardButton(text=b["text"], url=b["url"]) if b.get("url")
             else InlineKeyboardButton(text=b["text"], callback_data=_data(b)) for b in row]
            for row in rows
        ])
    if payload.get("expects_answer") or payload.get("force_reply"):  # force_reply: rows of earlier versions
        return ForceReply(force_reply=True, input_field_placeholder=payload.get("placeholder"))
    return None


def _reply(payload: dict[str, Any]) -> ReplyParameters | None:
    reply_to = payload.get("reply_to")
    if reply_to in (None, ""):
        return None
    return ReplyParameters(message_id=int(reply_to), allow_sending_without_reply=True)


# Telegram's limits: about 30 messages a second per bot, 1 a second per chat, 20 a minute per group.
LIMITS = Limits(per_second=30.0, chat_interval=1.0, group_per_minute=20)


class TelegramTransport:
    """Delivers outbox rows with an aiogram Bot."""

    def __init__(self, bot: Bot, store: FileStore | None = None, limits: Limits = LIMITS) -> None:
        self.bot = bot
        self.store = store
        self.limits = limits

    @staticmethod
    def is_group(chat_id: str) -> bool:
        """Telegram gives groups and supergroups negative chat ids."""
        return str(chat_id).startswith("-")

    async def _file(self, file_id: str, media: str) -> str | BufferedInputFile:
        """A Telegram file id as it is; a file the bot stores (received on another platform) as bytes."""
        key = store_key(file_id)
        if key is None or self.store is None:
            return file_id
        data = await self.store.get(key)
        return BufferedInputFile(data, filename=f"{key}.{EXTENSIONS.get(media, 'bin')}")

    async def _item_file(self, item: MediaItem) -> str | BufferedInputFile:
        """An outbox media item's file: the bytes of a file the bot made, else by its file id."""
        made = item.raw_bytes()
        if made is not None:
            return BufferedInputFile(made, filename=item.filename or "file")
        return await self._file(str(item.file_id), item.media)

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        render: dict[str, Callable[[Delivery], Awaitable[DeliveryResult]]] = {
            "text": self._text, "card": self._text, "edit_card": self._edit_card, "media": self._media,
            "file": self._generated,
        }
        action = render.get(delivery.kind)
        if action is None:
            return DeliveryResult.permanent(f"unknown outbox kind {delivery.kind!r}")
        try:
            return await action(delivery)
        except TelegramAPIError as exc:
            return classify(exc)
        except FileMissing as exc:
            return DeliveryResult.permanent(str(exc))

    async def _text(self, delivery: Delivery) -> DeliveryResult:
        ids, digests = await self._send_parts(delivery.chat_id, delivery.payload)
        if delivery.kind == "card":
            return DeliveryResult.ok(ids[-1], new_cards=ids, digests=digests)
        return DeliveryResult.ok(ids[-1], message_ids=ids)

    async def _send_parts(self, chat_id: str, payload: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
        """The text in as many messages as it needs; the first replies, the last carries the buttons.
        Returns the message ids and what each shows."""
        parts = text_parts(payload)
        ids: list[str] = []
        digests: dict[str, str] = {}
        for n, part in enumerate(parts):
            markup = keyboard(payload) if n == len(parts) - 1 else None
            message = await self.bot(SendMessageForId(
                chat_id=chat_id, text=part.text, entities=part.entities(), reply_markup=markup,
                reply_parameters=_reply(payload) if n == 0 else None,
            ))
            ids.append(str(message.message_id))
            digests[ids[-1]] = digest(part, markup)
        return ids, digests

    async def _edit_card(self, delivery: Delivery) -> DeliveryResult:
        """Edit the card's messages in place, only the parts that changed; when the card now needs another
        number of messages (or its messages are gone), post it anew and remove the old one."""
        payload = delivery.payload
        parts = text_parts(payload)
        if len(delivery.cards) == len(parts):
            known = delivery.digests or (None,) * len(parts)
            digests: dict[str, str] = {}
            for n, (message_id, part, shown) in enumerate(zip(delivery.cards, parts, known, strict=True)):
                markup = keyboard(payload) if n == len(parts) - 1 else None
                wanted = digest(part, markup)
                if wanted != shown and not await self._edit(delivery.chat_id, message_id, part, markup):
                    break
                digests[message_id] = wanted
            else:
                return DeliveryResult.ok(delivery.cards[-1], digests=digests)
        ids, digests = await self._send_parts(delivery.chat_id, payload)
        for old in delivery.cards:
            await self._remove(delivery.chat_id, old)
        return DeliveryResult.ok(ids[-1], new_cards=ids, replace_cards=True, digests=digests)

    async def _edit(self, chat_id: str, message_id: str, part: Part, markup: Markup) -> bool:
        """Edit one card message; False when it is gone or can no longer be edited."""
        try:
            await self.bot.edit_message_text(
                chat_id=chat_id, message_id=int(message_id), text=part.text, entities=part.entities(),
                reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
            )
        except TelegramBadRequest as exc:
            reason = exc.message.lower()
            if "message is not modified" in reason:
                return True
            if any(gone in reason for gone in CARD_GONE):
                log.info("card %s in %s cannot be edited (%s)", message_id, chat_id, exc.message)
                return False
            raise
        return True

    async def _remove(self, chat_id: str, message_id: str) -> None:
        """Delete an outdated card message, or at least take its buttons away (old messages cannot be
        deleted by a bot)."""
        try:
            await self.bot.delete_message(chat_id=chat_id, message_id=int(message_id))
        except TelegramBadRequest:
            with contextlib.suppress(TelegramBadRequest):
                await self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=int(message_id),
                                                         reply_markup=None)

    async def _generated(self, delivery: Delivery) -> DeliveryResult:
        """A document the bot made (an agenda, an invitation), uploaded from the payload's bytes."""
        payload = delivery.payload
        data = base64.b64decode(payload["data"])
        document = BufferedInputFile(data, filename=payload.get("name") or "file")
        message = await self.bot.send_document(chat_id=delivery.chat_id, document=document,
                                               caption=short_caption(payload.get("caption")),
                                               reply_parameters=_reply(payload))
        return DeliveryResult.ok(message.message_id)

    async def _media(self, delivery: Delivery) -> DeliveryResult:
        items = media_items(delivery.payload)
        if not items:
            return DeliveryResult.permanent("media row without items")
        ids: list[int] = []
        for chunk in _albums(items):
            if len(chunk) == 1:
                ids.append((await self._single(delivery.chat_id, chunk[0], delivery.payload)).message_id)
                continue
            media = [ALBUM[i.media](media=await self._item_file(i), caption=short_caption(i.caption))
                     for i in chunk]
            sent = await self.bot.send_media_group(chat_id=delivery.chat_id, media=media,  # type: ignore[arg-type]
                                                   reply_parameters=_reply(delivery.payload))
            ids.extend(m.message_id for m in sent)
        return DeliveryResult.ok(ids[0], message_ids=[str(i) for i in ids])

    async def _single(self, chat_id: str, item: MediaItem, payload: dict[str, Any]) -> Message:
        kind, caption = item.media, item.caption
        file_id = await self._item_file(item)
        common: dict[str, Any] = {"chat_id": chat_id, "caption": short_caption(caption),
                                  "reply_parameters": _reply(payload)}
        if kind == "photo":
            return await self.bot.send_photo(photo=file_id, **common)
        if kind == "voice":
            return await self.bot.send_voice(voice=file_id, **common)
        if kind == "video":
            return await self.bot.send_video(video=file_id, **common)
        if kind == "audio":
            return await self.bot.send_audio(audio=file_id, **common)
        return await self.bot.send_document(document=file_id, **common)


@dataclass(frozen=True)
class Part:
    """One message of a text: its words and where the citizen's are, as (offset, length) in UTF-16 code
    units, shown as quoted blocks (entities: no parse mode, so nothing in anyone's words is markup)."""

    text: str
    quotes: tuple[tuple[int, int], ...] = ()

    def entities(self) -> list[MessageEntity] | None:
        return [MessageEntity(type="blockquote", offset=o, length=n) for o, n in self.quotes] or None


def digest(part: Part | str, markup: Markup) -> str:
    """A fingerprint of what a message shows, to skip edits that would change nothing."""
    part = Part(part) if isinstance(part, str) else part
    shown = markup.model_dump_json(exclude_none=True) if markup is not None else ""
    quotes = f"\x00{part.quotes}" if part.quotes else ""  # plain texts keep the fingerprints they had
    return hashlib.sha256(f"{part.text}\x00{shown}{quotes}".encode()).hexdigest()


def chunks(text: str) -> list[str]:
    """A long text cut, at paragraph, line or sentence breaks, into messages of at most 4,096 characters
    as Telegram counts them."""
    return split_text(text, MAX_TEXT, utf16_length)


def text_parts(payload: dict[str, Any]) -> list[Part]:
    """The payload's text as the messages it takes, the citizen's words quoted."""
    blocks = quoting.blocks_of(payload)
    if blocks is None:
        return [Part(p) for p in chunks(payload.get("text") or "-")]
    return quoted_parts(blocks)


def quoted_parts(blocks: Sequence[quoting.Block], limit: int = MAX_TEXT) -> list[Part]:
    """Blocks as messages of at most `limit`: a block too long for one is cut at its paragraphs,
    sentences or words, and a message holds as many whole pieces as fit."""
    messages: list[list[quoting.Block]] = []
    size = 0
    for block in blocks:
        for piece in split_text(block.text, limit, utf16_length) if block.text else [""]:
            length = utf16_length(piece)
            if messages and size + 1 + length <= limit:
                messages[-1].append(replace(block, text=piece))
                size += 1 + length
            else:
                messages.append([replace(block, text=piece)])
                size = length
    parts = [_part(message) for message in messages]
    return [p for p in parts if p.text] or [Part("-")]


def _part(blocks: list[quoting.Block]) -> Part:
    """One message's blocks joined by line breaks, with no space at either end (Telegram trims it, which
    would move every quote)."""
    while blocks and not blocks[0].text.strip():
        blocks = blocks[1:]
    while blocks and not blocks[-1].text.strip():
        blocks = blocks[:-1]
    if not blocks:
        return Part("")
    blocks = [replace(blocks[0], text=blocks[0].text.lstrip()), *blocks[1:]]
    blocks[-1] = replace(blocks[-1], text=blocks[-1].text.rstrip())
    quotes: list[tuple[int, int]] = []
    offset = 0
    for block in blocks:
        length = utf16_length(block.text)
        if block.quoted and length:
            if quotes and sum(quotes[-1]) + 1 == offset:  # the rest of the same words: one quote
                quotes[-1] = (quotes[-1][0], offset + length - quotes[-1][0])
            else:
                quotes.append((offset, length))
        offset += length + 1
    return Part("\n".join(b.text for b in blocks), tuple(quotes))


def short_caption(caption: str | None) -> str | None:
    """A caption within Telegram's 1,024 characters (captions name the case; a longer one is cut)."""
    if caption is None or utf16_length(caption) <= CAPTION_LIMIT:
        return caption
    return split_text(caption, CAPTION_LIMIT - 1, utf16_length)[0] + "…"


def _albums(items: list[MediaItem]) -> list[list[MediaItem]]:
    """Consecutive items that may share an album, in chunks of at most 10; others alone."""
    chunks: list[list[MediaItem]] = []
    for item in items:
        family = ALBUM_FAMILY.get(item.media)
        last = chunks[-1] if chunks else None
        if family and last and len(last) < 10 and ALBUM_FAMILY.get(last[0].media) == family:
            last.append(item)
        else:
            chunks.append([item])
    return chunks


def classify(exc: TelegramAPIError) -> DeliveryResult:
    """Telegram's error as an outcome: wait, retry later, give up on the row, or on the whole chat."""
    text = exc.message
    lowered = text.lower()
    if isinstance(exc, TelegramRetryAfter):
        return DeliveryResult.retry_after(exc.retry_after, text)
    if isinstance(exc, TelegramForbiddenError):
        return DeliveryResult.permanent(text, scope="chat")
    if isinstance(exc, TelegramMigrateToChat):
        moved = f"group migrated to supergroup {exc.migrate_to_chat_id}"
        return DeliveryResult.permanent(moved, scope="chat")
    if isinstance(exc, TelegramEntityTooLarge):
        return DeliveryResult.permanent(text)
    if isinstance(exc, TelegramBadRequest):
        if any(marker in lowered for marker in CHAT_GONE):
            return DeliveryResult.permanent(text, scope="chat")
        return DeliveryResult.permanent(text)
    if isinstance(exc, TelegramNetworkError):
        return DeliveryResult.transient(text)
    return DeliveryResult.transient(text)
