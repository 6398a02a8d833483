"""The citizen's private chat on Telegram: updates become intake events, replies become messages.

No rules here: every decision is the core dialogue's (bot.intake); this module only translates.
"""

from __future__ import annotations

from dataclasses import replace

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, Message

from bot.delivery.filestore import FileStore
from bot.intake import EDITED, Attachment, Choice, Command, Event, Intake, Other, Reply, Text
from handlers.telegram import CHANNEL
from handlers.telegram.errors import Press
from handlers.telegram.files import keep
from handlers.telegram.filters import pressed_in_private, private
from handlers.telegram.keyboards import IntakeCallback, inline_keyboard
from handlers.telegram.middlewares import IntakeMiddleware
from handlers.telegram.sender import SendMessageForId, chunks


def message_event(message: Message) -> Event:
    """The intake event for a private message."""
    if message.text is not None:
        text = message.text
        if text.startswith("/") and len(text) > 1:
            head, _, args = text.partition(" ")
            return Command(head[1:].split("@", 1)[0].lower(), args.strip())
        return Text(text)
    if message.photo:
        biggest = message.photo[-1]
        return Attachment("photo", biggest.file_id, biggest.file_unique_id, biggest.file_size, "image/jpeg")
    if message.animation:
        return Other("animation")
    if message.document:
        d = message.document
        return Attachment("document", d.file_id, d.file_unique_id, d.file_size, d.mime_type, d.file_name)
    for media in ("voice", "audio", "video", "video_note"):
        item = getattr(message, media)
        if item is not None:
            return Attachment(
                "video" if media == "video_note" else media,
                item.file_id,
                item.file_unique_id,
                item.file_size,
                getattr(item, "mime_type", None),
                getattr(item, "file_name", None),
            )
    return Other(str(message.content_type))


async def send_replies(bot: Bot, chat_id: int, replies: list[Reply]) -> None:
    """Say a step's replies that were not queued; only the message id of each comes back (`Sent`)."""
    for reply in replies:
        parts = chunks(reply.text)
        for i, part in enumerate(parts):
            markup = inline_keyboard(reply.options) if i == len(parts) - 1 else None
            await bot(SendMessageForId(chat_id=chat_id, text=part, reply_markup=markup, parse_mode=None))


async def on_message(message: Message, bot: Bot, intake: Intake, store: FileStore | None = None) -> None:
    user = message.from_user
    if user is None:
        return
    event = message_event(message)
    if isinstance(event, Attachment):  # the bot keeps its own copy, for agencies on any platform
        file_id, size = await keep(bot, store, intake.core.settings, event.media, event.file_id, event.size,
                                   event.mime, event.name)
        event = replace(event, file_id=file_id, size=size)
    replies = await intake.handle(CHANNEL, str(user.id), str(message.chat.id), event, user.language_code)
    await send_replies(bot, message.chat.id, replies)


async def on_choice(query: CallbackQuery, callback_data: IntakeCallback, bot: Bot, intake: Intake,
                    press: Press) -> None:
    """A dialogue button: the press is answered at once (the spinner stops), then the dialogue moves on;
    a citizen over the message limit is told in an alert when to try again, and the press is not taken."""
    held_back = intake.held_back(CHANNEL, str(query.from_user.id), query.from_user.language_code)
    if held_back is not None:
        await press.answer(held_back, show_alert=True)
        return
    await press.answer()
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    replies = await intake.handle(
        CHANNEL,
        str(query.from_user.id),
        str(chat_id),
        Choice(callback_data.value),
        query.from_user.language_code,
    )
    await send_replies(bot, chat_id, replies)


async def on_edited(message: Message, bot: Bot, intake: Intake) -> None:
    """An edited message: the dialogue reads new messages only, and tells the citizen how to add."""
    user = message.from_user
    if user is None:
        return
    replies = await intake.handle(CHANNEL, str(user.id), str(message.chat.id), Other(EDITED),
                                  user.language_code)
    await send_replies(bot, message.chat.id, replies)


def router() -> Router:
    """A fresh router for private chats (a router belongs to one dispatcher, and tests build several)."""
    citizen = Router(name="citizen")
    citizen.message.filter(private())
    citizen.edited_message.filter(private())
    citizen.callback_query.filter(pressed_in_private())
    intake = IntakeMiddleware()
    for observer in (citizen.message, citizen.edited_message, citizen.callback_query):
        observer.middleware(intake)
    citizen.callback_query.register(on_choice, IntakeCallback.filter())
    citizen.message.register(on_message)
    citizen.edited_message.register(on_edited)
    return citizen
