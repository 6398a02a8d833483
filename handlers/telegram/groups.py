"""Agency group chats: card buttons, replies to cards and prompts, /case and /cases.

The bot listens only to bound groups (button presses elsewhere get a refusal so nobody waits on a
spinner); all decisions are the core's, this module only translates.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, Chat, Message, ReplyParameters, User

from bot import agencies, officer
from bot.core import Core
from bot.i18n import pick_locale, t
from bot.officer import ActionRefused, Actor
from bot.quoting import Block
from handlers.telegram import CHANNEL
from handlers.telegram.callbacks import CaseButton, unpack
from handlers.telegram.errors import Press
from handlers.telegram.filters import Magic, in_group, pressed_in_group
from handlers.telegram.sender import Part, chunks, quoted_parts


class BoundGroup(Filter):
    """Passes only messages from a group bound to an agency."""

    async def __call__(self, message: Message, core: Core) -> bool | dict[str, Any]:
        agency_id = await agencies.bound_agency(core, CHANNEL, str(message.chat.id))
        return {"agency_id": agency_id} if agency_id else False


def actor(user: User | None, chat: Chat) -> Actor:
    name = user.full_name if user else None
    return Actor(channel=CHANNEL, chat_id=str(chat.id), user_id=str(user.id) if user else "", name=name)


async def reply(message: Message, text: str | list[Block]) -> None:
    """Answer under the message (still answering if it was deleted meanwhile), in as many messages as
    Telegram needs for a long text such as a case's timeline; a citizen's words in it quoted."""
    parts = [Part(p) for p in chunks(text)] if isinstance(text, str) else quoted_parts(text)
    for n, part in enumerate(parts):
        await message.answer(
            part.text,
            entities=part.entities(),
            parse_mode=None,
            reply_parameters=ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True)
            if n == 0 else None,
        )


def _locale(user: User | None) -> str:
    return pick_locale(user.language_code if user else None)


async def on_button(query: CallbackQuery, core: Core, press: Press) -> None:
    """A card button: the core acts, offers a choice or asks for a text; refusals are alerts."""
    if query.message is None or query.data is None:
        return
    locale = _locale(query.from_user)
    try:
        outcome = await officer.press(core, actor(query.from_user, query.message.chat), unpack(query.data))
    except ActionRefused as refused:
        await press.answer(refused.text(locale), show_alert=True)
        return
    await press.answer(outcome.text(locale))


async def on_malformed_button(query: CallbackQuery, press: Press) -> None:
    """Callback data that is not even well-formed: refuse like a forged one."""
    await press.answer(t("officer.refused.forged", _locale(query.from_user)), show_alert=True)


async def on_case(message: Message, command: CommandObject, core: Core) -> None:
    locale = _locale(message.from_user)
    if not command.args:
        await reply(message, t("officer.case.usage", locale))
        return
    try:
        shown: str | list[Block] = await officer.show_case(core, actor(message.from_user, message.chat),
                                                           command.args)
    except ActionRefused as refused:
        shown = refused.text(locale)
    await reply(message, shown)


async def on_cases(message: Message, core: Core) -> None:
    try:
        text = await officer.open_cases(core, actor(message.from_user, message.chat))
    except ActionRefused as refused:
        text = refused.text(_locale(message.from_user))
    await reply(message, text)


async def on_reply(message: Message, core: Core) -> None:
    """A reply to a card (a question or a comment) or to the bot's prompt (the text an action needs)."""
    replied = message.reply_to_message
    if replied is None or (message.text or "").startswith("/"):
        return
    try:
        await officer.officer_reply(
            core,
            actor(message.from_user, message.chat),
            str(replied.message_id),
            message.text or message.caption or "",
        )
    except ActionRefused as refused:
        await reply(message, refused.text(_locale(message.from_user)))


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher, and tests build several)."""
    groups = Router(name="groups")
    groups.message.filter(in_group())
    groups.callback_query.filter(pressed_in_group())
    groups.callback_query.register(on_button, CaseButton.filter())
    groups.callback_query.register(on_malformed_button, Magic(F.data.startswith(f"{CaseButton.__prefix__}:")))
    groups.message.register(on_case, Command("case"), BoundGroup())
    groups.message.register(on_cases, Command("cases"), BoundGroup())
    groups.message.register(on_reply, Magic(F.reply_to_message), Magic(F.text | F.caption), BoundGroup())
    return groups
