"""Middlewares: the citizen router's dialogue for handlers, and one user's updates handled in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from bot.intake import Intake

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
