"""The Telegram channel (`bot.channels.Channel`) as the composition root starts it: the aiogram Bot and
Dispatcher, the outbox transport, the command menus, and updates by long polling (WEBHOOK_URL unset) or by
webhook."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import replace
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramUnauthorizedError
from aiogram.types import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from aiogram.utils.token import TokenValidationError, validate_token
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.channels import Capabilities, ChannelError, capabilities
from bot.core import Core
from bot.delivery.filestore import FileStore
from bot.i18n import LOCALES, t
from bot.redaction import redact
from bot.settings import reveal
from handlers.telegram import CHANNEL, build_dispatcher
from handlers.telegram.files import download
from handlers.telegram.sender import LIMITS, TelegramTransport
from handlers.telegram.session import Session
from handlers.telegram.settings import TelegramSettings

log = logging.getLogger(__name__)

PRIVATE_COMMANDS = ("start", "new", "status", "mycases", "back", "cancel", "lang", "help")
GROUP_COMMANDS = ("cases", "case", "stats", "report", "meetings", "meeting", "bind", "unbind", "groups",
                  "myid")


def configured(settings: TelegramSettings) -> bool:
    return bool(reveal(settings.bot_token))


def check(settings: TelegramSettings) -> None:
    """BOT_TOKEN and TELEGRAM_API_URL are usable, before anything is touched; else one line saying why."""
    assert settings.bot_token
    try:
        validate_token(reveal(settings.bot_token))
    except TokenValidationError:
        raise ChannelError("BOT_TOKEN is malformed: expected the form 123456789:AAE... that "
                                 "@BotFather gives") from None
    url = settings.telegram_api_url
    try:
        parsed = urlparse(url)
        valid = parsed.scheme in ("http", "https") and bool(parsed.hostname) and parsed.port != 0
    except ValueError:
        valid = False
    if not valid:
        raise ChannelError(f"TELEGRAM_API_URL is not an http(s) URL: "
                                 f"{redact(url, [reveal(settings.bot_token)])!r}")


def webhook_secret(settings: TelegramSettings) -> str:
    """WEBHOOK_SECRET, else one derived from the token so every instance agrees on it."""
    if settings.webhook_secret:
        return reveal(settings.webhook_secret)
    return hashlib.sha256(f"webhook:{reveal(settings.bot_token)}".encode()).hexdigest()[:48]


async def set_commands(bot: Bot) -> None:
    """The command menus, citizens' in private chats and officers' in groups, in Vietnamese and English."""
    menus = (
        (PRIVATE_COMMANDS, BotCommandScopeAllPrivateChats()),
        (GROUP_COMMANDS, BotCommandScopeAllGroupChats()),
    )
    for names, scope in menus:
        for locale in LOCALES:
            commands = [BotCommand(command=c, description=t(f"system.commands.{c}", locale)) for c in names]
            for language in (None, "vi") if locale == "vi" else (locale,):
                await bot.set_my_commands(commands, scope=scope, language_code=language)


class TelegramChannel:
    """The bot on Telegram: built from settings, started once the core is ready, stopped with the app."""

    name = CHANNEL

    def __init__(
        self, core: Core, settings: TelegramSettings, store: FileStore, request_timeout: float
    ) -> None:
        assert settings.bot_token
        self.settings = settings
        self.capabilities: Capabilities = capabilities(CHANNEL)
        self.bot = Bot(reveal(settings.bot_token), default=DefaultBotProperties(parse_mode=None),
                       session=Session(api=TelegramAPIServer.from_base(settings.telegram_api_url),
                                       timeout=request_timeout))
        self.dispatcher: Dispatcher = build_dispatcher(core, store)
        self.transport = TelegramTransport(self.bot, store, replace(
            LIMITS, per_second=settings.telegram_messages_per_second))
        self.polling: asyncio.Task[None] | None = None
        self.menus: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None

    async def start(self, worker: str, stopping: asyncio.Event, *, receive: bool = True) -> None:
        """Check the token with the Bot API, then receive updates; the command menus are set meanwhile
        (six calls that the first citizen need not wait for). A delivery worker (`receive` false)
        leaves the updates, the webhook and the menus to the instance that receives."""
        try:
            me = await self.bot.get_me()
        except TelegramUnauthorizedError as exc:
            raise ChannelError("BOT_TOKEN was rejected by the Bot API (Unauthorized)") from exc
        except TelegramNetworkError as exc:
            raise ChannelError(redact(f"cannot reach the Bot API at {self.settings.telegram_api_url}: "
                                            f"{exc}", [reveal(self.settings.bot_token)])) from None
        log.info("running as @%s (worker %s)%s", me.username, worker, "" if receive else ", sending only")
        if not receive:
            return
        await self._receive()
        self.menus = asyncio.create_task(self._set_menus(), name="telegram-menus")

    async def _set_menus(self) -> None:
        try:
            await set_commands(self.bot)
        except (TelegramAPIError, TelegramNetworkError) as exc:
            log.warning("the command menus could not be set: %s",
                        redact(str(exc), [reveal(self.settings.bot_token)]))

    def ended(self) -> asyncio.Future[None] | None:
        return self.polling

    async def fetch(self, file_id: str) -> bytes:
        return await download(self.bot, file_id)

    async def _receive(self) -> None:
        """Start taking updates: a webhook when WEBHOOK_URL is set, else long polling."""
        dp = self.dispatcher
        if self.settings.webhook_url:
            self._runner = await self._serve_webhook()
            return
        await self.bot.delete_webhook(drop_pending_updates=False)
        self.polling = asyncio.create_task(dp.start_polling(
            self.bot, handle_signals=False, close_bot_session=False,
            allowed_updates=dp.resolve_used_update_types()), name="polling")

    async def stop(self) -> None:
        await self._stop_receiving()
        if self.menus is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self.menus, 5)
        await self.bot.session.close()

    async def _stop_receiving(self) -> None:
        if self.polling is not None:
            with contextlib.suppress(RuntimeError):
                await self.dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self.polling, 10)
        if self._runner is not None:
            await self._runner.cleanup()

    async def _serve_webhook(self) -> web.AppRunner:
        settings, bot, dp = self.settings, self.bot, self.dispatcher
        assert settings.webhook_url
        path = urlparse(settings.webhook_url).path or "/webhook"
        secret = webhook_secret(settings)
        web_app = web.Application()
        SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(web_app, path=path)
        setup_application(web_app, dp, bot=bot)
        runner = web.AppRunner(web_app, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
        await bot.set_webhook(settings.webhook_url, secret_token=secret,
                              allowed_updates=dp.resolve_used_update_types())
        log.info("webhook on %s:%s%s", settings.webhook_host, settings.webhook_port, path)
        return runner
