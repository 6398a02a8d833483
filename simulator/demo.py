"""`python -m bot demo`: the real bot against the local Bot API server, with a citizen and agency groups.

Nothing leaves the machine: no token, no network. The database is an embedded SQLite file in a fresh
temporary folder (or `--data DIR` to keep it). The clock is movable, so deadlines can be seen to run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.redaction import configure_logging
from bot.rules import RulesError
from runner.app import App, StartupError, start
from runner.settings import AppSettings as Settings
from simulator.botapi import FakeBotAPI
from storage.models import OutboxMessage

DEMO_TOKEN = "42:DEMO"
ADMIN_ID = 9000
CITIZEN_ID = 7001
GROUP_BASE = -1001000  # the agencies' groups: -1001001, -1001002, ... in the order of the rules file
OFFICER_BASE = 5000

SAMPLE_RULES = Path(__file__).resolve().parent.parent / "rules" / "quang-ninh.yaml"

Progress = Callable[[str], None]


def person(user_id: int, name: str) -> dict[str, Any]:
    """A Telegram user object for someone in the demo."""
    return {"id": user_id, "is_bot": False, "first_name": name, "language_code": "vi"}


@dataclass
class Group:
    agency_id: str
    chat_id: int
    title: str
    officer: dict[str, Any]


@dataclass
class Demo:
    """A running demo: the server, the bot, the citizen and one group (with one officer) per agency."""

    server: FakeBotAPI
    app: App
    groups: list[Group]
    citizen: dict[str, Any] = field(default_factory=lambda: person(CITIZEN_ID, "Nguyễn Văn An"))
    admin: dict[str, Any] = field(default_factory=lambda: person(ADMIN_ID, "Quản trị viên"))
    in_flight: int = 0  # updates the dispatcher is handling right now
    fault: str = "off"  # what the local Bot API server answers the bot's sends: off, 429 or 502

    def __post_init__(self) -> None:
        self.app.dispatcher.update.outer_middleware(self._count)

    async def _count(self, handler: Callable[[Any, dict[str, Any]], Awaitable[Any]], event: Any,
                     data: dict[str, Any]) -> Any:
        self.in_flight += 1
        try:
            return await handler(event, data)
        finally:
            self.in_flight -= 1

    def group(self, agency_id: str) -> Group:
        return next(g for g in self.groups if g.agency_id == agency_id)

    def sender_in(self, chat_id: int) -> dict[str, Any]:
        """Who types in a chat: the citizen in private, the group's officer in a group."""
        if chat_id == self.citizen["id"]:
            return self.citizen
        for group in self.groups:
            if group.chat_id == chat_id:
                return group.officer
        raise KeyError(f"no chat {chat_id} in the demo")

    async def settle(self, timeout: float = 15.0, quiet: float = 0.3) -> None:  # noqa: ASYNC109
        """Until the bot has handled what it was sent: no update waiting, the outbox empty, a quiet moment."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen, since = -1, loop.time()
        while loop.time() < deadline:
            busy = self.server.pending_updates() or self.in_flight or await self.outbox_backlog()
            count = sum(1 for r in self.server.requests if r.method != "getUpdates")
            if busy or count != seen:
                seen, since = count, loop.time()
            elif loop.time() - since >= quiet:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"the bot did not settle within {timeout}s")

    async def outbox_backlog(self) -> int:
        async with self.app.core.sessions() as session:
            return (await session.execute(
                select(func.count()).select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))
            )).scalar_one()

    async def stop(self) -> None:
        await self.app.stop()
        await self.server.stop()


def demo_settings(data_dir: Path, server: FakeBotAPI, rules_file: str | None = None,
                  database_url: str | None = None) -> Settings:
    """The demo's own settings: nothing read from `.env`, so a production configuration is never touched."""
    rules_file = rules_file or (str(SAMPLE_RULES) if SAMPLE_RULES.exists() else None)
    kwargs: dict[str, Any] = {"rules_file": rules_file} if rules_file else {}
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=DEMO_TOKEN, telegram_api_url=server.url,
        database_url=database_url or f"sqlite+aiosqlite:///{data_dir / 'demo.db'}",
        admin_ids=[str(ADMIN_ID)], movable_clock=True, **kwargs,
    )


async def start_demo(data_dir: Path, *, rules_file: str | None = None, database_url: str | None = None,
                     progress: Progress = lambda _: None) -> Demo:
    """Start the server and the bot, and bind one group per agency the way an admin does (`/bind`)."""
    began = time.monotonic()
    progress("starting the local Bot API server")
    server = await FakeBotAPI(username="kenh_tin_bao_demo_bot", first_name="Kênh tin báo (demo)").start()
    settings = demo_settings(data_dir, server, rules_file, database_url)
    progress(f"starting the bot (database {settings.database_url.split('///')[-1]}, migrations, rules)")
    try:
        app = await start(settings, worker_id="demo", demo=True)
    except BaseException:
        await server.stop()
        raise
    groups = []
    for number, agency in enumerate(app.core.rules.agencies, start=1):
        chat_id = GROUP_BASE - number
        title = agency.name.vi
        server.set_chat(chat_id, type="supergroup", title=title)
        officer = person(OFFICER_BASE + number, f"Cán bộ {agency.short.vi if agency.short else agency.id}")
        groups.append(Group(agency.id, chat_id, title, officer))
    demo = Demo(server, app, groups)
    server.set_chat(CITIZEN_ID, type="private", first_name=demo.citizen["first_name"])
    progress(f"binding {len(groups)} agency groups")
    for group in groups:
        server.user_message(group.chat_id, demo.admin, f"/bind {group.agency_id}")
    try:
        await demo.settle()
    except BaseException:
        await demo.stop()
        raise
    progress(f"ready in {time.monotonic() - began:.1f} s")
    return demo


async def serve(args: argparse.Namespace) -> int:
    from simulator.web import serve_page

    data_dir = data_folder(args.data)
    demo = await start_demo(data_dir, rules_file=args.rules, progress=_progress)
    runner = await serve_page(demo, args.host, args.port)
    print(f"demo: open http://{args.host}:{args.port} (Ctrl+C stops)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await demo.stop()
    return 0


def data_folder(path: str | None) -> Path:
    """The folder for the demo's database: the one given (created if missing), else a new temporary one."""
    if path is None:
        return Path(tempfile.mkdtemp(prefix="kenh-tin-bao-demo-"))
    Path(path).mkdir(parents=True, exist_ok=True)
    return Path(path)


def _progress(line: str) -> None:
    print(f"demo: {line}", flush=True)


def main(argv: list[str]) -> int:
    """The `demo` subcommand: the web simulator, or `--story` in the terminal."""
    parser = argparse.ArgumentParser(prog="python -m bot demo",
                                     description="Try the bot without Telegram: no token, no network.")
    parser.add_argument("--story", action="store_true", help="play a scripted story in the terminal and exit")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="the web simulator's port (default 8080)")
    parser.add_argument("--data", help="keep the demo's database in this folder (default: a new temp folder)")
    parser.add_argument("--rules", help="a rules file (default: the sample rules)")
    args = parser.parse_args(argv)
    configure_logging([DEMO_TOKEN], logging.WARNING)
    try:
        if args.story:
            from simulator.story import play

            return asyncio.run(play(args.rules, _progress))
        return asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0
    except RulesError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except (StartupError, OSError, TimeoutError) as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 1
