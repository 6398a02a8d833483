"""Middlewares of the citizen router: hand handlers the dialogue, and never leave a citizen in silence."""

from __future__ import annotations

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
            intake = self._intakes[id(core)] = Intake(core)
        data["intake"] = intake
        return await handler(event, data)


class ApologyMiddleware(BaseMiddleware):
    """An unexpected failure is logged and the citizen told to try again, instead of getting no answer."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        except Exception:
            log.exception("citizen update failed")
            user = getattr(event, "from_user", None)
            text = t("citizen.error", pick_locale(user.language_code if user else None))
            try:
                if isinstance(event, Message):
                    await event.answer(text, parse_mode=None)
                elif isinstance(event, CallbackQuery):
                    await event.answer(text, show_alert=True)
            except Exception:
                log.exception("could not tell the citizen about the failure")
            return None
