"""Typed callback data of the officers' buttons (built and signed by bot.cards, parsed here to route)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class CaseAction(CallbackData, prefix="ca"):
    """`ca:<case id>:<action[.arg]>:<version>:<tag>`; the tag is checked by the core, not here."""

    case_id: int
    action: str
    version: int
    tag: str
