"""Filters that run on the event loop.

aiogram runs a filter that is a plain callable, a bare magic filter (`F.chat.type == ...`) included, in a
worker thread (`asyncio.to_thread`): one thread hop for every router an update passes on its way, five
for a citizen's message. `Magic` makes a magic filter an awaitable `Filter`, which aiogram awaits in place.
"""

from __future__ import annotations

from aiogram import F
from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import TelegramObject
from aiogram.utils.magic_filter import MagicFilter

GROUPS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})  # Telegram's chat types of a group


class Magic(Filter):
    """A magic filter evaluated on the event loop."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self.magic.resolve(event))


def private() -> Magic:
    """Messages in a private chat."""
    return Magic(F.chat.type == ChatType.PRIVATE)


def in_group() -> Magic:
    """Messages in a group or supergroup."""
    return Magic(F.chat.type.in_(GROUPS))


def pressed_in_private() -> Magic:
    """Button presses on a message in a private chat."""
    return Magic(F.message.chat.type == ChatType.PRIVATE)


def pressed_in_group() -> Magic:
    """Button presses on a message in a group or supergroup."""
    return Magic(F.message.chat.type.in_(GROUPS))
