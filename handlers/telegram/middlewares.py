"""Middlewares of the citizen router: hand handlers the dialogue, and never leave a citizen in silence."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.i18n import pick_locale, t
from bot.intake import Intake

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class IntakeMiddleware(BaseMiddleware):
    """Injects `intake`: one Intake per Core, so its in-process message limiter sees every update."""

    def __init__(self) -> None:
        self._intakes: dict[int, Intake] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        core = data["core"]
        intake = self._intakes.get(id(core))
        if intake is None or intake.core is not core:
            intake = self._intakes[id(core)] = Intake(core, queue_changes=True)
        data["intake"] = intake
        return await handler(event, data)


class ApologyMiddleware(BaseMiddleware):
    """An unexpected failure is logged and the citizen told to try again, instead of getting no answer.

    A button press is answered here, once, before the handler runs (Telegram refuses a second answer to
    one press), so an apology after a failure comes as a message in the chat."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, CallbackQuery):
            try:
                await event.answer()
            except Exception:
                log.warning("could not answer a button press", exc_info=True)
        try:
            return await handler(event, data)
        except Exception:
            log.exception("citizen update failed")
            user = getattr(event, "from_user", None)
            text = t("citizen.error", pick_locale(user.language_code if user else None))
            try:
                if isinstance(event, Message):
                    await event.answer(text, parse_mode=None)
                elif isinstance(event, CallbackQuery) and event.message is not None:
                    await event.message.answer(text, parse_mode=None)
            except Exception:
                log.exception("could not tell the citizen about the failure")
            return None


class InOrderPerUser(BaseMiddleware):
    """Updates from one user in one chat are handled one at a time, in the order they arrived.

    Polling runs updates as concurrent tasks; without this, a name and a phone number typed in quick
    succession, or several messages forwarded at once, could reach the dialogue out of order. Different
    users still run concurrently. Within one process only: across instances the database row lock on the
    dialogue keeps each step consistent.
    """

    def __init__(self) -> None:
        self._locks: dict[tuple[int, int], tuple[asyncio.Lock, int]] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user, chat = data.get("event_from_user"), data.get("event_chat")
        if user is None or chat is None:
            return await handler(event, data)
        key = (chat.id, user.id)
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                return await handler(event, data)
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
