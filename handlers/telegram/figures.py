"""/stats [period] in any bound group and /report [period] in the secretariat's group."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message, User

from bot.core import Core
from bot.figures import chat
from bot.i18n import pick_locale
from bot.officer import ActionRefused
from handlers.telegram.filters import in_group
from handlers.telegram.groups import BoundGroup, actor, reply


def _locale(user: User | None) -> str:
    return pick_locale(user.language_code if user else None)


async def on_stats(message: Message, command: CommandObject, core: Core) -> None:
    locale = _locale(message.from_user)
    try:
        text = await chat.stats(core, actor(message.from_user, message.chat), command.args, locale)
    except ActionRefused as refused:
        text = refused.text(locale)
    await reply(message, text)


async def on_report(message: Message, command: CommandObject, core: Core) -> None:
    locale = _locale(message.from_user)
    try:
        text = await chat.periodic_report(core, actor(message.from_user, message.chat), command.args, locale)
    except ActionRefused as refused:
        text = refused.text(locale)
    await reply(message, text)


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher, and tests build several)."""
    figures = Router(name="figures")
    figures.message.filter(in_group())
    figures.message.register(on_stats, Command("stats"), BoundGroup())
    figures.message.register(on_report, Command("report"), BoundGroup())
    return figures
