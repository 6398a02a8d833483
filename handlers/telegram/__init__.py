"""Telegram adapter: aiogram routers turning updates into core calls, and the outbox transport.

`get_routers()` lists the routers in order of precedence; the fallback comes last and answers what
nothing else took. One error handler (`errors.py`) serves them all.
"""

from __future__ import annotations

from handlers.telegram import lazy_models  # noqa: F401  # isort: skip  (before any aiogram import)

from aiogram import Dispatcher, Router

from bot.channels import Capabilities, register
from bot.core import Core
from bot.delivery.filestore import FileStore

CHANNEL = "telegram"
MAX_TEXT = 4096  # in one message, as Telegram counts (UTF-16 code units); longer texts go in parts

register(CHANNEL, Capabilities(buttons=True, replies=True, max_text=MAX_TEXT))

from handlers.telegram import (  # noqa: E402  (the routers read CHANNEL)
    admin,
    citizen,
    errors,
    fallback,
    figures,
    groups,
    relay,
    secretariat,
)
from handlers.telegram.middlewares import InOrderPerUser  # noqa: E402


def get_routers() -> list[Router]:
    """Fresh routers, in order: the first whose filters take an update handles it."""
    return [
        admin.router(),
        secretariat.router(),  # before groups: a reply the secretariat asked for is not a comment
        groups.router(),
        figures.router(),
        relay.router(),  # before citizen: a reply to a relayed question is not a new report
        citizen.router(),
        fallback.router(),
    ]


def build_dispatcher(core: Core, store: FileStore | None = None) -> Dispatcher:
    """A Dispatcher with every router; handlers get `core` (and the file store that keeps citizens'
    files) as workflow data."""
    dp = Dispatcher(name="coordination-bot", disable_fsm=True)  # the dialogue's state is in the database
    dp["core"] = core
    dp["store"] = store
    errors.install(dp)
    dp.update.outer_middleware(InOrderPerUser())
    dp.include_routers(*get_routers())
    return dp
