"""A reporter's reply to a relayed question, in their private chat; anything else falls through to intake."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Filter
from aiogram.types import Message

from bot import relay
from bot.core import Core
from bot.delivery.filestore import FileStore
from bot.evidence import Evidence
from handlers.telegram import CHANNEL
from handlers.telegram.files import keep_items
from handlers.telegram.filters import Magic, private


class AnswersQuestion(Filter):
    """Passes a reply to one of the bot's relayed questions (so the intake dialogue never sees it)."""

    async def __call__(self, message: Message, core: Core) -> bool | dict[str, Any]:
        replied = message.reply_to_message
        if replied is None:
            return False
        case_id = await relay.question_case(core, CHANNEL, str(message.chat.id), str(replied.message_id))
        return {"case_id": case_id} if case_id is not None else False


def media_of(message: Message) -> list[Evidence]:
    """The files of a message as the core stores them (Telegram file ids work in any chat of this bot)."""
    if message.photo:
        best = message.photo[-1]
        return [Evidence("photo", best.file_id, best.file_unique_id, best.file_size, "image/jpeg")]
    for kind in ("document", "video", "voice", "audio", "animation", "sticker", "video_note"):
        item = getattr(message, kind)
        if item is not None:
            return [Evidence(kind, item.file_id, item.file_unique_id, item.file_size,
                             getattr(item, "mime_type", None), getattr(item, "file_name", None))]
    return []


async def on_answer(message: Message, core: Core, bot: Bot, store: FileStore | None = None) -> None:
    replied = message.reply_to_message
    assert replied is not None
    user_id = str(message.from_user.id) if message.from_user else str(message.chat.id)
    answered = await relay.citizen_answer(
        core,
        channel=CHANNEL,
        user_id=user_id,
        chat_id=str(message.chat.id),
        replied_to=str(replied.message_id),
        text=message.text or message.caption or "",
        media=await keep_items(bot, store, core.settings, media_of(message)),
    )
    if answered is not None:
        for text in answered.texts():
            await message.answer(text, parse_mode=None)


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher, and tests build several)."""
    relayed = Router(name="relay")
    relayed.message.filter(private(), Magic(F.reply_to_message))
    relayed.message.register(on_answer, AnswersQuestion())
    return relayed
