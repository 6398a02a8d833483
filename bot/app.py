"""The composition root: builds the core, the Telegram adapter, the sender and job loops, and runs them.

The only module of `bot/` that imports aiogram. `start()` returns a running App (used by tests to run the
whole bot in-process against a fake Bot API); `run()` is what `python -m bot run` calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import signal
import socket
import sys
import uuid
from dataclasses import dataclass, field
from functools import partial
from importlib import import_module
from pathlib import Path
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from aiogram.types import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from aiogram.utils.token import TokenValidationError, validate_token
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.agencies import sync_agencies
from bot.clock import Clock
from bot.core import Core
from bot.filestore import LocalFileStore
from bot.i18n import LOCALES, t
from bot.jobs import Handler, JobRunner
from bot.outage import one_line
from bot.privacy import KeyProblem, privacy_for, sealed_sample
from bot.redaction import configure_logging, redact
from bot.rules import RulesError, load_rules
from bot.sender import Sender, Transport
from bot.settings import Settings
from bot.unreachable import tell_unreachable
from bot.workdays import WorkCalendar
from handlers.telegram import build_dispatcher
from handlers.telegram.sender import TelegramTransport
from handlers.zalo import CHANNEL as ZALO
from handlers.zalo.channel import ZaloChannel, ZaloStartError
from storage.db import create_engine, migrate, session_factory

log = logging.getLogger(__name__)

# Modules exposing `job_handlers(core) -> dict[kind, handler]`; add a line for a new kind of job.
# Each has job_handlers(core) and on_start(core).
JOB_HANDLER_MODULES: list[str] = [
    "bot.dialog_expiry", "bot.deadline_jobs", "bot.secretariat", "bot.retention",
]
PRIVATE_COMMANDS = ("start", "new", "status", "mycases", "back", "cancel", "lang", "help")
GROUP_COMMANDS = ("cases", "case", "stats", "report", "meetings", "meeting", "bind", "unbind", "groups",
                  "myid")
REQUEST_TIMEOUT = 30  # seconds; below the sender's lease, so a hung request cannot outlive its claim


class StartupError(Exception):
    """The bot cannot start; the message says why in one line."""


@dataclass
class App:
    """A running bot: stop it with `await app.stop()`."""

    core: Core
    bot: Bot | None
    dispatcher: Dispatcher | None
    sender: Sender
    jobs: JobRunner
    engine: AsyncEngine
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    web_runner: web.AppRunner | None = None
    polling: asyncio.Task[None] | None = None
    zalo: ZaloChannel | None = None

    async def wait(self) -> None:
        """Until a stop is requested or polling ends by itself."""
        waiters: list[asyncio.Future[object]] = [asyncio.ensure_future(self.stopping.wait())]
        if self.polling is not None:
            waiters.append(self.polling)  # type: ignore[arg-type]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        waiters[0].cancel()

    def request_stop(self) -> None:
        self.stopping.set()

    async def stop(self) -> None:
        """Stop receiving updates, let the loops finish their round, close connections."""
        self.stopping.set()
        if self.polling is not None and self.dispatcher is not None:
            with contextlib.suppress(RuntimeError):
                await self.dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self.polling, 10)
        if self.web_runner is not None:
            await self.web_runner.cleanup()
        if self.zalo is not None:
            await self.zalo.stop()
        if self.tasks:
            _, pending = await asyncio.wait(self.tasks, timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self.bot is not None:
            await self.bot.session.close()
        await self.engine.dispose()


async def _unreachable(core: Core, session: AsyncSession, agency_id: str, key: str) -> None:
    await tell_unreachable(session, core, agency_id, why="removed", key=key)


def key_file(settings: Settings) -> Path:
    """Where a generated encryption key lives: beside the SQLite database, else in data/."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / "encryption.key"
    return Path("data/encryption.key")


def job_handlers(core: Core) -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    for name in JOB_HANDLER_MODULES:
        handlers.update(import_module(name).job_handlers(core))
    return handlers


def webhook_secret(settings: Settings) -> str:
    """WEBHOOK_SECRET, else one derived from the token so every instance agrees on it."""
    if settings.webhook_secret:
        return settings.webhook_secret
    return hashlib.sha256(f"webhook:{settings.bot_token}".encode()).hexdigest()[:48]


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


async def start(settings: Settings, *, worker_id: str | None = None, demo: bool = False) -> App:
    """Build everything and start the loops and update delivery; raises RulesError or StartupError.

    `demo` is set only by `python -m bot demo`: the one mode in which MOVABLE_CLOCK is allowed.
    """
    check_settings(settings)
    if settings.movable_clock and not demo:
        raise StartupError("MOVABLE_CLOCK is only allowed in demo mode (python -m bot demo)")
    rules = load_rules(settings.rules_file)
    engine = create_engine(settings.database_url)
    try:
        await migrate(settings.database_url)
        sessions = session_factory(engine)
        await sync_agencies(sessions, rules)
        sample = await sealed_sample(sessions)
    except (OSError, TimeoutError, SQLAlchemyError) as exc:
        await engine.dispose()
        shown = make_url(settings.database_url).render_as_string(hide_password=True)
        raise StartupError(f"cannot use the database {shown}: {one_line(exc)}") from None
    try:
        privacy = privacy_for(settings.encryption_key, key_file(settings), sample)
    except KeyProblem as exc:
        await engine.dispose()
        raise StartupError(str(exc)) from None
    core = Core(settings=settings, rules=rules, sessions=sessions, privacy=privacy,
                calendar=WorkCalendar(settings.timezone), clock=Clock(movable=settings.movable_clock))
    store = LocalFileStore(settings.files_dir or key_file(settings).parent / "files", privacy)
    bot = None
    if settings.bot_token:
        bot = Bot(settings.bot_token, default=DefaultBotProperties(parse_mode=None),
                  session=AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url),
                                         timeout=REQUEST_TIMEOUT))
    zalo = ZaloChannel(core, settings) if settings.zalo_bot_token else None
    transports: dict[str, Transport] = {}
    if bot is not None:
        transports["telegram"] = TelegramTransport(bot, store)
    if zalo is not None:
        transports[ZALO] = zalo.transport
    worker = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    sender = Sender(sessions, transports, worker, admin_ids=settings.admin_ids,
                    send_timeout=REQUEST_TIMEOUT + 5, clock=core.clock.now, seal=privacy.seal,
                    agency_unreachable=partial(_unreachable, core),
                    secrets=[s or "" for s in (settings.bot_token, settings.zalo_bot_token)])
    jobs = JobRunner(sessions, job_handlers(core), worker, clock=core.clock.now)
    dp = build_dispatcher(core) if bot is not None else None
    app = App(core=core, bot=bot, dispatcher=dp, sender=sender, jobs=jobs, engine=engine, zalo=zalo)
    try:
        if bot is not None:
            try:
                me = await bot.get_me()
            except TelegramUnauthorizedError as exc:
                raise StartupError("BOT_TOKEN was rejected by the Bot API (Unauthorized)") from exc
            except TelegramNetworkError as exc:
                raise StartupError(redact(f"cannot reach the Bot API at {settings.telegram_api_url}: {exc}",
                                          [settings.bot_token or ""])) from None
            log.info("running as @%s (worker %s)", me.username, worker)
            await set_commands(bot)
        if zalo is not None:
            try:
                await zalo.start(store, app.stopping)
            except ZaloStartError as exc:
                raise StartupError(str(exc)) from None
        for name in JOB_HANDLER_MODULES:
            await import_module(name).on_start(core)
        app.tasks = [asyncio.create_task(jobs.run_forever(app.stopping), name="job-runner")]
        if settings.outbox_sender:
            app.tasks.append(asyncio.create_task(sender.run_forever(app.stopping), name="outbox-sender"))
        if bot is None or dp is None:
            pass
        elif settings.webhook_url:
            app.web_runner = await _serve_webhook(settings, bot, dp)
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            app.polling = asyncio.create_task(dp.start_polling(
                bot, handle_signals=False, close_bot_session=False,
                allowed_updates=dp.resolve_used_update_types()), name="polling")
    except BaseException:
        await app.stop()
        raise
    return app


def check_settings(settings: Settings) -> None:
    """The token and the Bot API URL are usable, before anything is touched; else one line saying why."""
    if not settings.bot_token and not settings.zalo_bot_token:
        raise StartupError("BOT_TOKEN is not set (nor ZALO_BOT_TOKEN): the bot has no chat platform")
    if not settings.bot_token:
        return
    try:
        validate_token(settings.bot_token)
    except TokenValidationError:
        raise StartupError("BOT_TOKEN is malformed: expected the form 123456789:AAE... that @BotFather "
                           "gives") from None
    url = settings.telegram_api_url
    try:
        parsed = urlparse(url)
        valid = parsed.scheme in ("http", "https") and bool(parsed.hostname) and parsed.port != 0
    except ValueError:
        valid = False
    if not valid:
        raise StartupError(f"TELEGRAM_API_URL is not an http(s) URL: {redact(url, [settings.bot_token])!r}")


async def _serve_webhook(settings: Settings, bot: Bot, dp: Dispatcher) -> web.AppRunner:
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


async def _main(settings: Settings) -> int:
    try:
        app = await start(settings)
    except RulesError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except StartupError as exc:
        print(f"error: {redact(str(exc), [settings.bot_token or ''])}", file=sys.stderr)
        return 1
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, app.request_stop)
    try:
        await app.wait()
    finally:
        await app.stop()
    return 0


def run(settings: Settings) -> int:
    """Run the bot until SIGINT/SIGTERM; 0 on a clean stop, 1 when it cannot start."""
    secrets = (settings.bot_token, settings.zalo_bot_token, settings.webhook_secret)
    configure_logging([s or "" for s in secrets])
    try:
        return asyncio.run(_main(settings))
    except KeyboardInterrupt:
        return 0
