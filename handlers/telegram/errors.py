"""One error handler for every router: whoever caused a failed update hears of it, and the log stays readable.

A handler can fail for a bug or because the database (or the network) is down. Either way the person is
answered: a citizen in their chat, an officer whose command or reply failed, and a button press once
(Telegram refuses a second answer to one press, so presses already answered get a message instead). An
outage is logged once, when it starts, and once when an update is handled again, instead of a traceback
per update; a bug is logged with its traceback.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.enums import ChatType
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import ErrorEvent, Message, TelegramObject, User
from sqlalchemy import text as sql

from bot.core import Core
from bot.i18n import pick_locale, t
from bot.outage import OutageLog, is_unreachable

log = logging.getLogger(__name__)


class AnsweredPresses(BaseRequestMiddleware):
    """Remembers which button presses this process has answered (the last `keep` of them)."""

    def __init__(self, keep: int = 4096) -> None:
        self.keep = keep
        self._ids: OrderedDict[str, None] = OrderedDict()

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        response = await make_request(bot, method)
        if isinstance(method, AnswerCallbackQuery):
            self._ids[method.callback_query_id] = None
            while len(self._ids) > self.keep:
                self._ids.popitem(last=False)
        return response

    def __contains__(self, query_id: object) -> bool:
        return query_id in self._ids


class Watch(BaseMiddleware):
    """Counts the bot's answered presses, and ends an outage in the log when an update succeeds again."""

    def __init__(self, outage: OutageLog, answered: AnsweredPresses) -> None:
        self.outage, self.answered = outage, answered
        self._sessions: set[int] = set()

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        bot = data.get("bot")
        if isinstance(bot, Bot) and id(bot.session) not in self._sessions:
            self._sessions.add(id(bot.session))
            bot.session.middleware(self.answered)
        result = await handler(event, data)
        if self.outage.since is not None and await _database_answers(data.get("core")):
            self.outage.recovered()
        return result


class ErrorReplies:
    """The dispatcher's error handler (`dp.errors`)."""

    def __init__(self, answered: AnsweredPresses) -> None:
        self.answered = answered
        self.outage = OutageLog(log, "handling updates", cap=0)

    async def handle(self, event: ErrorEvent, bot: Bot) -> bool:
        exc, update = event.exception, event.update
        down = is_unreachable(exc)
        if down:
            self.outage.failed(exc)
        else:
            log.error("update %s failed", update.update_id, exc_info=exc)
        key = "system.busy" if down else "delivery.press_failed"
        try:
            if update.callback_query is not None:
                await self._press(bot, update.callback_query.id, update.callback_query.from_user,
                                  update.callback_query.message, key)
            elif update.message is not None and _asked_the_bot(update.message, bot):
                await self._message(bot, update.message, key)
        except Exception as failed:  # Telegram may be down too: nothing more to do than say so once
            log.warning("could not tell the user about a failed update: %s", failed)
        return True

    async def _press(self, bot: Bot, query_id: str, user: User, message: Any, key: str) -> None:
        text = t(key, pick_locale(user.language_code))
        if query_id not in self.answered:
            await bot.answer_callback_query(query_id, text, show_alert=True)
        elif message is not None and getattr(message, "chat", None) is not None:
            await bot.send_message(message.chat.id, text, parse_mode=None)

    async def _message(self, bot: Bot, message: Message, key: str) -> None:
        user = message.from_user
        locale = pick_locale(user.language_code if user else None)
        if key == "delivery.press_failed" and message.chat.type == ChatType.PRIVATE:
            key = "citizen.error"  # what the citizen typed is kept: they are asked to send it again
        await message.reply(t(key, locale), parse_mode=None)


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


def _asked_the_bot(message: Message, bot: Bot) -> bool:
    """A private message, or in a group a command or a reply to the bot: an apology in a group to every
    ordinary chat message during an outage would be noise."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    if message.text and message.text.startswith("/"):
        return True
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == bot.id


def install(dp: Dispatcher) -> ErrorReplies:
    """Register the error handler on `dp`, with the watch that feeds it."""
    replies = ErrorReplies(AnsweredPresses())
    dp.errors.register(replies.handle)
    dp.update.outer_middleware(Watch(replies.outage, replies.answered))
    return replies
