"""The composition root: builds the core, the enabled chat channels, the sender and job loops, and runs them.

`start()` returns a running App (used by tests to run the whole bot in-process against a fake Bot API);
`run()` is what `python -m bot run` calls. The core (`bot/`) knows none of the platforms assembled here.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from handlers.telegram import lazy_models  # noqa: F401  # isort: skip  (before any aiogram import)

from aiogram import Bot, Dispatcher
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import deadline_jobs, dialog_expiry, duplicate_model, duplicates, retention, routing, secretariat
from bot.agencies import sync_agencies
from bot.channels import Channel, ChannelError
from bot.clock import Clock
from bot.core import Core
from bot.delivery.filestore import FileStore, LocalFileStore
from bot.delivery.role_watch import watch_for_a_sender
from bot.delivery.sender import Sender
from bot.delivery.transport import Transport
from bot.delivery.unreachable import tell_unreachable
from bot.jobs import Handler, JobRunner
from bot.outage import one_line
from bot.privacy import KeyProblem, Privacy, key_file_for, privacy_for, read_key_file, sealed_sample
from bot.redaction import configure_logging, redact
from bot.rules import Rules, RulesError, load_rules
from bot.settings import read, reveal
from bot.workdays import WorkCalendar
from handlers.telegram import channel as telegram
from handlers.zalo import channel as zalo
from runner.settings import AppSettings
from storage.db import create_engine, migrate, session_factory, setup_lock
from storage.notify import OUTBOX, can_listen, listen

log = logging.getLogger(__name__)

# The kinds of timed work: each module has job_handlers(core) and on_start(core); add a line for a new one.
JOB_MODULES = (dialog_expiry, deadline_jobs, secretariat, retention)
REQUEST_TIMEOUT = 30  # seconds; below the sender's lease, so a hung request cannot outlive its claim


@dataclass(frozen=True)
class Platform:
    """A chat platform the bot can run on: whether its settings are given, a check of them before anything
    starts, and how to build its `Channel`. A new platform is one adapter package and one line below."""

    configured: Callable[[AppSettings], bool]
    check: Callable[[AppSettings], None]
    build: Callable[[Core, AppSettings, FileStore], Channel]


PLATFORMS = (
    Platform(telegram.configured, telegram.check,
             lambda core, s, store: telegram.TelegramChannel(core, s, store, REQUEST_TIMEOUT)),
    Platform(zalo.configured, zalo.check, zalo.ZaloChannel),
)


class StartupError(Exception):
    """The bot cannot start; the message says why in one line."""


@dataclass
class App:
    """A running bot: stop it with `await app.stop()`."""

    core: Core
    sender: Sender
    jobs: JobRunner
    engine: AsyncEngine
    channels: dict[str, Channel] = field(default_factory=dict)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def telegram(self) -> telegram.TelegramChannel | None:
        found = self.channels.get(telegram.CHANNEL)
        return found if isinstance(found, telegram.TelegramChannel) else None

    @property
    def bot(self) -> Bot | None:
        return self.telegram.bot if self.telegram is not None else None

    @property
    def dispatcher(self) -> Dispatcher | None:
        return self.telegram.dispatcher if self.telegram is not None else None

    @property
    def polling(self) -> asyncio.Task[None] | None:
        return self.telegram.polling if self.telegram is not None else None

    async def wait(self) -> None:
        """Until a stop is requested or a channel stops receiving by itself."""
        waiters: list[asyncio.Future[object]] = [asyncio.ensure_future(self.stopping.wait())]
        for channel in self.channels.values():
            ended = channel.ended()
            if ended is not None:
                waiters.append(ended)  # type: ignore[arg-type]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        waiters[0].cancel()

    def request_stop(self) -> None:
        self.stopping.set()

    async def stop(self) -> None:
        """Let the loops finish their round (the sender still needs the channels' connections), then stop
        receiving updates and close the channels, then the database."""
        self.stopping.set()
        if self.tasks:
            _, pending = await asyncio.wait(self.tasks, timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for channel in self.channels.values():
            await channel.stop()
        await self.engine.dispose()


async def _unreachable(core: Core, session: AsyncSession, agency_id: str, key: str) -> None:
    await tell_unreachable(session, core, agency_id, why="removed", key=key)


def key_file(settings: AppSettings) -> Path:
    """Where a generated encryption key lives: beside the SQLite database, else in data/."""
    return key_file_for(settings.database_url)


def database_problem(settings: AppSettings, exc: BaseException) -> StartupError:
    """Why the database cannot be used, in one line, without its password."""
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    reason = one_line(exc)
    if "readonly database" in reason:
        reason += " (the database file, or its -wal or -shm file beside it, may not be written by the bot)"
    return StartupError(f"cannot use the database {shown}: {reason}")


def check_key_file(settings: AppSettings) -> None:
    """A key file that cannot be used (unreadable, a folder, open to others and not ours to close) stops
    the start before any database is made; StartupError."""
    try:
        read_key_file(key_file(settings))
    except KeyProblem as exc:
        raise StartupError(str(exc)) from None


Database = tuple[AsyncEngine, async_sessionmaker[AsyncSession], Privacy]


async def open_database(settings: AppSettings, rules: Rules, configured_key: str | None) -> Database:
    """The engine and sessions of the migrated database, its agencies those of `rules`, and its key (settled
    before migrating: migrations seal what the database holds with it); StartupError when the database or
    the key cannot be used."""
    try:
        engine = create_engine(settings.database_url)
    except OSError as exc:  # the SQLite file's folder cannot be made, or the file cannot be created there
        raise database_problem(settings, exc) from None
    try:
        sessions = session_factory(engine)
        async with setup_lock(engine):
            privacy = privacy_for(configured_key, key_file(settings), await sealed_sample(sessions))
            await migrate(settings.database_url, engine, keys=privacy)
            await sync_agencies(sessions, rules)
            indexed = await duplicates.backfill(sessions)
        if indexed:
            log.info("duplicate index: %d open cases filed before it was built are now indexed", indexed)
        return engine, sessions, privacy
    except KeyProblem as exc:
        await engine.dispose()
        raise StartupError(str(exc)) from None
    except (OSError, TimeoutError, SQLAlchemyError) as exc:
        await engine.dispose()
        raise database_problem(settings, exc) from None


def job_handlers(core: Core) -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    for module in JOB_MODULES:
        handlers.update(module.job_handlers(core))
    return handlers


def check_settings(settings: AppSettings) -> list[Platform]:
    """The platforms whose settings are given, once each has checked them; else one line saying why."""
    enabled = [platform for platform in PLATFORMS if platform.configured(settings)]
    if not enabled:
        raise StartupError("BOT_TOKEN is not set (nor ZALO_BOT_TOKEN): the bot has no chat platform; put it "
                           "in .env or the environment (see .env.example), or try `python -m bot demo`")
    for platform in enabled:
        try:
            platform.check(settings)
        except ChannelError as exc:
            raise StartupError(str(exc)) from None
    return enabled


def _prepare_models(rules: Rules) -> None:
    """The routing phrases and both learned models, built before the first report needs them."""
    routing.prepare(rules)
    duplicate_model.for_corpus(rules.corpus)


async def start(settings: AppSettings, *, worker_id: str | None = None, demo: bool = False) -> App:
    """Build everything and start the loops and update delivery; raises RulesError or StartupError.

    `demo` is set only by `python -m bot demo`: the one mode in which MOVABLE_CLOCK is allowed.
    """
    platforms = check_settings(settings)
    if settings.movable_clock and not demo:
        raise StartupError("MOVABLE_CLOCK is only allowed in demo mode (python -m bot demo)")
    rules = load_rules(settings.rules_file, without_examples=log.warning)
    configured_key = reveal(settings.encryption_key) or None
    if configured_key is None:
        check_key_file(settings)
    # compiled while the database is checked, not when the first report arrives
    compiling = asyncio.create_task(asyncio.to_thread(_prepare_models, rules), name="routing-prepare")
    engine, sessions, privacy = await open_database(settings, rules, configured_key)
    core = Core(settings=settings, rules=rules, sessions=sessions, privacy=privacy,
                calendar=WorkCalendar(settings.timezone), clock=Clock(movable=settings.movable_clock))
    store = LocalFileStore(settings.files_dir or key_file(settings).parent / "files", privacy)
    channels = {channel.name: channel for channel in (p.build(core, settings, store) for p in platforms)}
    transports: dict[str, Transport] = {name: channel.transport for name, channel in channels.items()}
    worker = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    # ADMIN_IDS are Telegram user ids: delivery alerts go there when Telegram runs
    admin_channel = telegram.CHANNEL if telegram.CHANNEL in channels else None
    sender = Sender(sessions, transports, worker, privacy=privacy, admin_ids=settings.admin_ids,
                    admin_channel=admin_channel, send_timeout=REQUEST_TIMEOUT + 5, clock=core.clock.now,
                    agency_unreachable=partial(_unreachable, core),
                    secrets=settings.secrets())
    if settings.outbox_sender:
        sender.watch(sessions)  # this instance's commits wake its sender
    jobs = JobRunner(sessions, job_handlers(core), worker, clock=core.clock.now)
    app = App(core=core, sender=sender, jobs=jobs, engine=engine)
    try:
        try:  # the first writes of a start: a database that takes none (read-only) is refused here
            for module in JOB_MODULES:
                await module.on_start(core)
        except (OSError, SQLAlchemyError) as exc:
            raise database_problem(settings, exc) from None
        app.tasks = [asyncio.create_task(jobs.run_forever(app.stopping), name="job-runner")]
        if settings.outbox_sender:
            app.tasks.append(asyncio.create_task(sender.run_forever(app.stopping), name="outbox-sender"))
            if can_listen(engine):  # other instances' commits wake this sender too
                app.tasks.append(asyncio.create_task(
                    listen(engine, OUTBOX, sender.wake, app.stopping), name="outbox-listener"))
        await compiling
        if not settings.outbox_sender:
            app.tasks.append(asyncio.create_task(
                watch_for_a_sender(sessions, app.stopping, clock=core.clock.now), name="sender-watch"))
            log.info("OUTBOX_SENDER=false: none is sent from here; another instance with OUTBOX_SENDER=true "
                     "(such as a delivery worker, RECEIVE_UPDATES=false) sends the messages")
        if not settings.receive_updates:
            log.info("RECEIVE_UPDATES=false: a delivery worker; updates go to another instance")
        for name, channel in channels.items():
            app.channels[name] = channel  # stopped with the app even if it fails to start
            try:
                await channel.start(worker, app.stopping, receive=settings.receive_updates)
            except ChannelError as exc:
                raise StartupError(str(exc)) from None
    except BaseException:
        await app.stop()
        raise
    return app


async def _main(settings: AppSettings) -> int:
    try:
        app = await start(settings)
    except RulesError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except StartupError as exc:
        print(f"error: {redact(str(exc), [reveal(settings.bot_token)])}", file=sys.stderr)
        return 1
    settle_memory()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, app.request_stop)
    try:
        await app.wait()
    finally:
        await app.stop()
    return 0


def settle_memory() -> None:
    """What start-up built (modules, aiogram's ~300 models, the rules and their index) lives as long as the
    process: after one collection of start-up's garbage it is frozen out of the collector's sight, so a
    full pass during a burst of updates scans what the updates made, not everything (~0.1 s a pass)."""
    gc.collect()
    gc.freeze()
    gc.enable()


def run(settings: AppSettings | None = None) -> int:
    """Run the bot until SIGINT/SIGTERM; 0 on a clean stop, 1 when it cannot start."""
    settings = settings or read(AppSettings)
    if settings is None:
        return 1
    level = logging.getLevelNamesMapping()[settings.log_level]
    configure_logging(settings.secrets(), max(level, logging.INFO))
    if level < logging.INFO:  # the bot's own details and aiogram's; the database drivers' debug lines
        for name in ("bot", "handlers", "runner", "storage", "aiogram"):  # carry every statement's values
            logging.getLogger(name).setLevel(level)
    else:  # aiogram's line for every update handled (at INFO) is noise, and a write on the hot path
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    try:
        return asyncio.run(_main(settings))
    except KeyboardInterrupt:
        return 0
