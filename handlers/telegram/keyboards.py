"""Inline keyboards for the citizen dialogue: the core's option rows as Telegram buttons."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.intake import Option


class IntakeCallback(CallbackData, prefix="in", sep="|"):
    """A button of the intake dialogue; `value` is the core's Option.value (it may contain ':')."""

    value: str


def option_data(value: str) -> str:
    """The callback data of an intake option (`in|value`); the core knows only the value."""
    return IntakeCallback(value=value).pack()


def inline_keyboard(rows: list[list[Option]]) -> InlineKeyboardMarkup | None:
    """One keyboard row per option row; None when there is nothing to press."""
    if not rows:
        return None
    builder = InlineKeyboardBuilder()
    for row in rows:
        builder.row(
            *(
                InlineKeyboardButton(text=o.label, callback_data=option_data(o.value))
                for o in row
            )
        )
    return builder.as_markup()
