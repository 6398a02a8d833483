"""Telegram adapter: aiogram routers turning updates into core calls, and the outbox transport.

`ROUTER_MODULES` lists, in order of precedence, the modules whose `router` the dispatcher includes;
add a line for a new module. The fallback router comes last and answers what nothing else took:
unknown commands, /status in a group, buttons no router knows. `errors` answers whoever caused a failed
update, for every router.
"""

from __future__ import annotations

import logging
from importlib import import_module

from aiogram import Dispatcher, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.core import Core
from bot.filestore import FileStore
from bot.i18n import pick_locale, t
from handlers.telegram import errors
from handlers.telegram.middlewares import InOrderPerUser

ROUTER_MODULES: list[str] = [
    "handlers.telegram.admin",
    "handlers.telegram.secretariat",  # before groups: a reply the secretariat asked for is not a comment
    "handlers.telegram.groups",
    "handlers.telegram.figures",
    "handlers.telegram.relay",  # before citizen: a reply to a relayed question is not a new report
    "handlers.telegram.citizen",
]

fallback = Router(name="fallback")
log = logging.getLogger(__name__)


@fallback.message(F.chat.type == "private", F.text.startswith("/"))
async def unknown_command(message: Message) -> None:
    """Someone typed a command no router knows: say so instead of staying silent."""
    locale = pick_locale(message.from_user.language_code if message.from_user else None)
    await message.answer(t("system.unknown_command", locale))


@fallback.message(F.chat.type.in_({"group", "supergroup"}), Command("status"))
async def status_in_group(message: Message) -> None:
    """A case is looked up in a private chat with the bot: a code and PIN typed in a group are seen by
    everyone there."""
    locale = pick_locale(message.from_user.language_code if message.from_user else None)
    await message.reply(t("delivery.status_in_group", locale), parse_mode=None)


@fallback.callback_query()
async def unknown_button(query: CallbackQuery) -> None:
    """A button no router takes (an officer's button in a private chat, data that means nothing): answer
    it, so nobody is left with a spinning button."""
    locale = pick_locale(query.from_user.language_code if query.from_user else None)
    await query.answer(t("delivery.button_unknown", locale), show_alert=True)


def routers() -> list[Router]:
    """The routers of ROUTER_MODULES, then the fallback."""
    return [import_module(name).router for name in ROUTER_MODULES] + [fallback]


def build_dispatcher(core: Core, store: FileStore | None = None) -> Dispatcher:
    """A Dispatcher with every router; handlers get `core` (and the file store that keeps citizens'
    files) as workflow data."""
    dp = Dispatcher(name="coordination-bot")
    dp["core"] = core
    dp["store"] = store
    dp.update.outer_middleware(InOrderPerUser())
    errors.install(dp)
    for router in routers():
        _detach(router)
        dp.include_router(router)
    return dp


def _detach(router: Router) -> None:
    """Module-level routers stay attached to the last dispatcher; several apps in one process (tests)
    each need them, so take the router back from a previous dispatcher first."""
    parent = router.parent_router
    if parent is not None:
        parent.sub_routers.remove(router)
        router._parent_router = None
