"""The last router: answers what no other router took, so nobody waits in silence: unknown commands in a
private chat, /status in a group (a PIN typed there is seen by everyone), buttons nothing knows."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.i18n import pick_locale, t
from handlers.telegram.errors import Press
from handlers.telegram.filters import Magic, in_group, private


async def unknown_command(message: Message) -> None:
    """Someone typed a command no router knows: say so instead of staying silent."""
    locale = pick_locale(message.from_user.language_code if message.from_user else None)
    await message.answer(t("system.unknown_command", locale))


async def status_in_group(message: Message) -> None:
    """A case is looked up in a private chat with the bot: a code and PIN typed in a group are seen by
    everyone there."""
    locale = pick_locale(message.from_user.language_code if message.from_user else None)
    await message.reply(t("delivery.status_in_group", locale), parse_mode=None)


async def unknown_button(query: CallbackQuery, press: Press) -> None:
    """A button no router takes (an officer's button in a private chat, data that means nothing)."""
    locale = pick_locale(query.from_user.language_code if query.from_user else None)
    await press.answer(t("delivery.button_unknown", locale), show_alert=True)


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher, and tests build several)."""
    fallback = Router(name="fallback")
    fallback.message.register(unknown_command, private(), Magic(F.text.startswith("/")))
    fallback.message.register(status_in_group, in_group(), Command("status"))
    fallback.callback_query.register(unknown_button)
    return fallback
