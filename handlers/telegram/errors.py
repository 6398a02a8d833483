"""One error handler for every router: whoever's update failed hears so, and the log stays readable.

A button press is answered exactly once (Telegram refuses a second answer to one press), so handlers
answer through `Press`, which `AnswerEveryPress` hands them and which answers the press itself after a
handler that did not. When a handler fails before answering, the apology is the press's answer (an
alert); after answering, it comes as a message in the chat. A citizen in a private chat is told their
draft is kept; an officer in a group that the action did not go through (only for a command or a reply
to the bot: an apology to every chat message of a group would be noise).

A handler fails for a bug or because the database (or the network) is down. A bug is logged with its
traceback; an outage once, when it starts, and once when an update that needs the database succeeds
again, instead of a traceback per update; meanwhile everyone is told the system is briefly unavailable.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import (
    CallbackQuery,
    Chat,
    ErrorEvent,
    Message,
    ReplyParameters,
    TelegramObject,
    Update,
    User,
)
from sqlalchemy import text as sql

from bot.core import Core
from bot.i18n import pick_locale, t
from bot.outage import OutageLog, is_unreachable, one_line

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
PRESS = "press"  # the workflow-data key handlers and the error handler find the press's answer under


class Press:
    """The answer to one button press, given at most once whoever asks for it.

    The answer only stops the button's spinner (or shows a short alert): when Telegram cannot take it (an
    outage, or a press too old to answer) that is logged and the press goes on, so the citizen's choice or
    the officer's action is not lost with it; its replies go through the outbox, which waits the outage out.
    """

    def __init__(self, query: CallbackQuery) -> None:
        self.query = query
        self.answered = False

    async def answer(self, text: str | None = None, *, show_alert: bool = False) -> None:
        if self.answered:
            return
        self.answered = True
        try:
            await self.query.answer(text, show_alert=show_alert)
        except TelegramAPIError as exc:
            log.warning("press %s could not be answered: %s", self.query.id, one_line(exc))


class AnswerEveryPress(BaseMiddleware):
    """An outer middleware of the dispatcher's updates: hands handlers `press`, answers it after a handler
    that did not (nobody is left with a spinning button), and leaves it to the error handler on failure.
    It also ends an outage in the log once an update succeeds with the database answering again."""

    def __init__(self, outage: OutageLog) -> None:
        self.outage = outage

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        query = event.callback_query if isinstance(event, Update) else None
        press = data[PRESS] = Press(query) if query is not None else None
        result = await handler(event, data)
        if press is not None:
            await press.answer()
        if self.outage.since is not None and await _database_answers(data.get("core")):
            self.outage.recovered()
        return result


async def _database_answers(core: Core | None) -> bool:
    """During an outage only: an update that did not need the database does not end it."""
    if core is None:
        return True
    try:
        async with core.sessions() as session:
            await session.execute(sql("SELECT 1"))
    except Exception:
        return False
    return True


def _locale(user: User | None) -> str:
    return pick_locale(user.language_code if user else None)


def apology(chat: Chat | None, locale: str, down: bool = False) -> str:
    """The system is briefly down; else a citizen in a private chat keeps their draft, and an officer's
    action in a group did not happen."""
    if down:
        return t("system.busy", locale)
    private = chat is None or chat.type == ChatType.PRIVATE
    return t("citizen.error" if private else "delivery.press_failed", locale)


def _asked_the_bot(message: Message, bot: Bot | None) -> bool:
    """A private message, or in a group a command or a reply to the bot."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    if message.text and message.text.startswith("/"):
        return True
    replied = message.reply_to_message
    return (bot is not None and replied is not None and replied.from_user is not None
            and replied.from_user.id == bot.id)


async def apologise(update: Update, press: Press | None, down: bool = False, bot: Bot | None = None) -> None:
    """Tell whoever caused `update` that it failed: the press's answer if still unanswered, else a message."""
    query = update.callback_query
    if query is not None:
        press = press or Press(query)
        locale = _locale(query.from_user)
        message = query.message if isinstance(query.message, Message) else None
        if not press.answered:
            text = t("system.busy", locale) if down else t("delivery.press_failed", locale)
            await press.answer(text, show_alert=True)
        elif message is not None:
            await message.answer(apology(message.chat, locale, down), parse_mode=None)
        return
    message = update.message
    if message is None or not _asked_the_bot(message, bot):
        return
    text = apology(message.chat, _locale(message.from_user), down)
    if message.chat.type == ChatType.PRIVATE:
        await message.answer(text, parse_mode=None)
    else:
        await message.answer(text, parse_mode=None, reply_parameters=ReplyParameters(
            message_id=message.message_id, allow_sending_without_reply=True))


class ErrorReplies:
    """The dispatcher's error handler, with the outage it is living through (if any)."""

    def __init__(self) -> None:
        self.outage = OutageLog(log, "handling updates", cap=0)

    async def on_error(self, event: ErrorEvent, press: Press | None = None, bot: Bot | None = None) -> bool:
        """Any handler failed: log it (an outage once), apologise to whoever caused the update, stop."""
        down = is_unreachable(event.exception)
        if down:
            self.outage.failed(event.exception)
        else:
            log.error("update %s failed", event.update.update_id, exc_info=event.exception)
        try:
            await apologise(event.update, press, down, bot)
        except Exception as exc:  # the same outage often stops the apology too; it is already logged
            log.debug("could not apologise for update %s: %s", event.update.update_id, exc)
        return True


def install(dp: Dispatcher) -> ErrorReplies:
    """Every update's presses answered once, and one error handler for the whole dispatcher."""
    replies = ErrorReplies()
    dp.update.outer_middleware(AnswerEveryPress(replies.outage))
    dp.errors.register(replies.on_error, ExceptionTypeFilter(Exception))
    return replies
