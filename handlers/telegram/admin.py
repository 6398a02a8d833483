"""Admin commands: /bind <agency-id>, /unbind, /groups, and /myid for anyone who needs their user id to
become an admin. Answered in any chat, with the reason when refused. When the bot is added to a group it
says how to bind it."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import IS_MEMBER, IS_NOT_MEMBER, ChatMemberUpdatedFilter, Command, CommandObject
from aiogram.types import ChatMemberUpdated, Message

from bot import agencies
from bot.agencies import BindingRefused
from bot.cards import agency_name
from bot.core import Core
from bot.i18n import pick_locale, t
from handlers.telegram import CHANNEL
from handlers.telegram.filters import GROUPS, Magic, in_group
from handlers.telegram.groups import reply


def _locale(message: Message) -> str:
    return pick_locale(message.from_user.language_code if message.from_user else None)


def _user(message: Message) -> str:
    return str(message.from_user.id) if message.from_user else ""


async def on_bind(message: Message, command: CommandObject, core: Core) -> None:
    locale = _locale(message)
    try:
        bound = await agencies.bind(
            core,
            channel=CHANNEL,
            chat_id=str(message.chat.id),
            is_group=message.chat.type in GROUPS,
            user_id=_user(message),
            agency_id=command.args,
            title=message.chat.title,
        )
    except BindingRefused as refused:
        await reply(message, refused.text(locale))
        return
    text = t("officer.bind.done", locale, agency=agency_name(core, bound.agency_id, locale),
             agency_id=bound.agency_id)
    if bound.redelivered:
        text += "\n" + back_text(core, bound.agency_id, list(bound.redelivered), locale)
    await reply(message, text)


def back_text(core: Core, agency_id: str, codes: list[str], locale: str) -> str:
    name = agency_name(core, agency_id, locale)
    if not codes:
        return t("delivery.back_none", locale, agency=name)
    return t("delivery.back", locale, agency=name, count=len(codes), cases=", ".join(codes))


async def on_myid(message: Message) -> None:
    """ADMIN_IDS needs Telegram user ids, which no Telegram app shows: tell the asker theirs."""
    await reply(message, t("officer.bind.myid", _locale(message), user_id=_user(message),
                           chat_id=message.chat.id))


async def on_unbind(message: Message, core: Core) -> None:
    locale = _locale(message)
    try:
        agency_id = await agencies.unbind(
            core,
            channel=CHANNEL,
            chat_id=str(message.chat.id),
            is_group=message.chat.type in GROUPS,
            user_id=_user(message),
        )
    except BindingRefused as refused:
        await reply(message, refused.text(locale))
        return
    await reply(
        message,
        t("officer.bind.unbound", locale, agency=agency_name(core, agency_id, locale), agency_id=agency_id),
    )


async def on_groups(message: Message, core: Core) -> None:
    locale = _locale(message)
    try:
        rows = await agencies.bindings(core, user_id=_user(message))
    except BindingRefused as refused:
        await reply(message, refused.text(locale))
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


async def on_added_to_group(event: ChatMemberUpdated, core: Core) -> None:
    """Whoever adds the bot to a group learns how to bind it to an agency; a bound group the bot is
    back in gets every card it missed."""
    locale = pick_locale(event.from_user.language_code if event.from_user else None)
    back = await agencies.back_in_group(core, channel=CHANNEL, chat_id=str(event.chat.id))
    if back is not None:
        await event.answer(back_text(core, back[0], back[1], locale), parse_mode=None)
        return
    ids = "\n".join(f"• {a.id} — {agency_name(core, a.id, locale)}" for a in core.rules.agencies)
    await event.answer(t("officer.bind.welcome", locale, agencies=ids), parse_mode=None)


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher, and tests build several)."""
    admin = Router(name="admin")
    admin.message.filter(Magic(F.text.startswith("/")))  # one check instead of four commands' parsing
    admin.message.register(on_bind, Command("bind"))
    admin.message.register(on_myid, Command("myid"))
    admin.message.register(on_unbind, Command("unbind"))
    admin.message.register(on_groups, Command("groups"))
    admin.my_chat_member.register(on_added_to_group, ChatMemberUpdatedFilter(IS_NOT_MEMBER >> IS_MEMBER),
                                  in_group())
    return admin
