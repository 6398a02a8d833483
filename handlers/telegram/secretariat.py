"""The secretariat in Telegram groups: /meeting, /meetings, meeting and decision buttons, and the replies
the bot asked for. Decisions are the core's (bot.secretariat.dialogue); this module only translates."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, Filter
from aiogram.types import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)

from bot.core import Core
from bot.i18n import pick_locale
from bot.officer import Actor
from bot.secretariat import dialogue, meetings
from bot.secretariat.common import Reply, SecretariatRefused
from handlers.telegram.callbacks import DecisionButton, MeetingButton, pack, unpack
from handlers.telegram.errors import Press
from handlers.telegram.filters import Magic, in_group, pressed_in_group
from handlers.telegram.groups import actor


class Awaited(Filter):
    """Passes a reply to the bot from someone the secretariat asked for a text in this chat."""

    async def __call__(self, message: Message, core: Core) -> bool | dict[str, Any]:
        if message.reply_to_message is None or (message.text or "").startswith("/meeting"):
            return False
        replied = str(message.reply_to_message.message_id)
        return await dialogue.waiting(core, actor(message.from_user, message.chat), replied)


def markup(reply: Reply) -> InlineKeyboardMarkup | ForceReply | None:
    if reply.buttons:
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=label, callback_data=pack(signed)) for label, signed in row]
                for row in reply.buttons
            ]
        )
    if reply.expects_answer:
        return ForceReply(force_reply=True, selective=True)
    return None


async def show(
    message: Message, reply: Reply, core: Core, person: Actor, *, reply_to: int | None = None
) -> None:
    """Send the core's reply; a prompt's id is remembered so that only a reply to it answers it."""
    params = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
    sent = await message.answer(
        reply.text, parse_mode=None, reply_markup=markup(reply), reply_parameters=params
    )
    if reply.expects_answer:
        await dialogue.prompted(core, person, str(sent.message_id))


def _locale(message: Message | CallbackQuery) -> str:
    user = message.from_user
    return pick_locale(user.language_code if user else None)


async def on_meeting(message: Message, core: Core) -> None:
    locale = _locale(message)
    try:
        reply = await dialogue.start_new(core, actor(message.from_user, message.chat), locale)
    except SecretariatRefused as refused:
        reply = Reply(refused.text(locale))
    await show(message, reply, core, actor(message.from_user, message.chat), reply_to=message.message_id)


async def on_meetings(message: Message, core: Core) -> None:
    locale = _locale(message)
    try:
        reply = await meetings.upcoming(core, actor(message.from_user, message.chat), locale=locale)
    except SecretariatRefused as refused:
        reply = Reply(refused.text(locale))
    await show(message, reply, core, actor(message.from_user, message.chat), reply_to=message.message_id)


async def on_button(query: CallbackQuery, core: Core, press: Press) -> None:
    if query.message is None or query.data is None:
        return
    locale = _locale(query)
    try:
        person = actor(query.from_user, query.message.chat)
        reply = await dialogue.press(core, person, unpack(query.data), locale)
    except SecretariatRefused as refused:
        await press.answer(refused.text(locale), show_alert=True)
        return
    await press.answer()
    if isinstance(query.message, Message):
        person = actor(query.from_user, query.message.chat)
        await show(query.message, reply, core, person, reply_to=query.message.message_id)


async def on_reply(message: Message, core: Core) -> None:
    locale = _locale(message)
    try:
        reply = await dialogue.reply(core, actor(message.from_user, message.chat), message.text or "", locale)
    except SecretariatRefused as refused:
        reply = Reply(refused.text(locale), expects_answer=True)
    await show(message, reply, core, actor(message.from_user, message.chat), reply_to=message.message_id)


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher, and tests build several)."""
    secretariat = Router(name="secretariat")
    secretariat.message.filter(in_group())
    secretariat.callback_query.filter(pressed_in_group())
    secretariat.message.register(on_meeting, Command("meeting"))
    secretariat.message.register(on_meetings, Command("meetings"))
    secretariat.callback_query.register(
        on_button,
        Magic(F.data.startswith((f"{MeetingButton.__prefix__}:", f"{DecisionButton.__prefix__}:"))),
    )
    secretariat.message.register(on_reply, Magic(F.text), Awaited())
    return secretariat
