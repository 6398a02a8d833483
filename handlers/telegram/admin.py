"""Admin commands: /bind <agency-id>, /unbind, /groups. Answered in any chat, with the reason when refused."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot import agencies
from bot.agencies import BindingRefused
from bot.cards import agency_name
from bot.core import Core
from bot.i18n import pick_locale, t
from handlers.telegram.groups import reply

CHANNEL = "telegram"

router = Router(name="admin")


def _locale(message: Message) -> str:
    return pick_locale(message.from_user.language_code if message.from_user else None)


def _user(message: Message) -> str:
    return str(message.from_user.id) if message.from_user else ""


@router.message(Command("bind"))
async def on_bind(message: Message, command: CommandObject, core: Core) -> None:
    locale = _locale(message)
    try:
        bound = await agencies.bind(
            core,
            channel=CHANNEL,
            chat_id=str(message.chat.id),
            chat_type=message.chat.type,
            user_id=_user(message),
            agency_id=command.args,
            title=message.chat.title,
        )
    except BindingRefused as refused:
        await reply(message, t(refused.reason_key, locale, **refused.params))
        return
    await reply(
        message,
        t(
            "officer.bind.done",
            locale,
            agency=agency_name(core, bound.agency_id, locale),
            agency_id=bound.agency_id,
        ),
    )


@router.message(Command("unbind"))
async def on_unbind(message: Message, core: Core) -> None:
    locale = _locale(message)
    try:
        agency_id = await agencies.unbind(
            core,
            channel=CHANNEL,
            chat_id=str(message.chat.id),
            chat_type=message.chat.type,
            user_id=_user(message),
        )
    except BindingRefused as refused:
        await reply(message, t(refused.reason_key, locale, **refused.params))
        return
    await reply(
        message,
        t("officer.bind.unbound", locale, agency=agency_name(core, agency_id, locale), agency_id=agency_id),
    )


@router.message(Command("groups"))
async def on_groups(message: Message, core: Core) -> None:
    locale = _locale(message)
    try:
        rows = await agencies.bindings(core, user_id=_user(message))
    except BindingRefused as refused:
        await reply(message, t(refused.reason_key, locale, **refused.params))
        return
    lines = [t("officer.bind.list_title", locale)]
    for agency_id, binding in rows:
        chat = (
            f"{binding.title or ''} ({binding.channel} {binding.chat_id}, {binding.source})".strip()
            if binding
            else t("officer.bind.list_unbound", locale)
        )
        lines.append(
            t(
                "officer.bind.list_line",
                locale,
                agency_id=agency_id,
                agency=agency_name(core, agency_id, locale),
                chat=chat,
            )
        )
    await reply(message, "\n".join(lines))
