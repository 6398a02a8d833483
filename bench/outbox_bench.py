"""Outbox sender throughput against the local fake Bot API, on SQLite and PostgreSQL.

    python bench/outbox_bench.py [--messages 2000] [--chats 200] [--postgres URL]

Enqueues N messages to M private chats, then runs the real Sender (claim, deliver over HTTP, record)
until the outbox is empty. "limits off" measures the pipeline itself; "limits on" uses Telegram's limits
(30/s overall, 1/s per chat) and a real clock, so it shows the sender keeping to them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select

from bot.delivery.ratelimit import Limits
from bot.delivery.sender import Sender
from bot.privacy import Privacy
from handlers.telegram.sender import TelegramTransport
from simulator.botapi import FakeBotAPI
from storage.db import create_engine, migrate, session_factory
from storage.models import OutboxMessage, utcnow

PRIVACY = Privacy(Fernet.generate_key())  # the bench's rows go to groups, which are not sealed

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def one_run(url: str, messages: int, chats: int, limits: Limits, label: str) -> tuple[str, float, int]:
    await migrate(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    now = utcnow()
    async with sessions() as session:
        await session.execute(insert(OutboxMessage), [
            {"channel": "telegram", "chat_id": str(1000 + n % chats), "kind": "text",
             "payload": {"text": f"message {n}"}, "idempotency_key": f"{label}-{n}", "not_before": now,
             "status": "pending", "attempts": 0, "created_at": now}
            for n in range(messages)
        ])
        await session.commit()
    async with FakeBotAPI() as server:
        bot = Bot("42:BENCH", session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
        sender = Sender(sessions, {"telegram": TelegramTransport(bot)}, "bench", privacy=PRIVACY,
                        limits=limits, batch=100)
        started = time.perf_counter()
        while True:
            stats = await sender.run_once()
            if stats.claimed == 0:
                async with sessions() as session:
                    left = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
                        OutboxMessage.status.in_(["pending", "sending"])))
                if not left:
                    break
                await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
        delivered = len(server.calls("sendMessage", ok=True))
        await bot.session.close()
    await engine.dispose()
    return label, elapsed, delivered


async def pg_database(base: str) -> tuple[str, str] | None:
    admin = base.replace("postgresql+asyncpg", "postgresql")
    try:
        conn = await asyncio.wait_for(asyncpg.connect(admin), 3)
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
        return None
    name = f"outbox_bench_{uuid.uuid4().hex[:8]}"
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return base.rsplit("/", 1)[0] + f"/{name}", name


async def drop(base: str, name: str) -> None:
    conn = await asyncpg.connect(base.replace("postgresql+asyncpg", "postgresql"))
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--limited-messages", type=int, default=300,
                        help="messages for the runs with Telegram's limits on (they take N/30 s)")
    parser.add_argument("--postgres", default=PG_URL)
    args = parser.parse_args()
    rows: list[tuple[str, str, int, float, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        backends: list[tuple[str, str, str | None]] = [("sqlite", sqlite_url, None)]
        made = await pg_database(args.postgres)
        if made:
            backends.append(("postgresql", made[0], made[1]))
        try:
            for backend, url, _ in backends:
                for limits, n, name in ((Limits.off(), args.messages, "off"),
                                        (Limits(), args.limited_messages, "on")):
                    print(f"{backend}, Telegram's limits {name}: delivering {n} messages"
                          f"{f' (about {n / 30:.0f} s at 30/s)' if name == 'on' else ''}...",
                          file=sys.stderr, flush=True)
                    _, elapsed, delivered = await one_run(url, n, args.chats, limits,
                                                              f"{backend}-{name}-{uuid.uuid4().hex[:6]}")
                    print(f"  {delivered} delivered in {elapsed:.1f} s", file=sys.stderr, flush=True)
                    rows.append((backend, name, n, elapsed, delivered))
        finally:
            if made:
                await drop(args.postgres, made[1])
    print(f"{'backend':<11} {'limits':<7} {'messages':>8} {'chats':>6} {'seconds':>8} {'msg/s':>8} "
          f"{'delivered':>9}")
    for backend, name, n, elapsed, delivered in rows:
        print(f"{backend:<11} {name:<7} {n:>8} {args.chats:>6} {elapsed:>8.2f} {delivered / elapsed:>8.1f} "
              f"{delivered:>9}")


if __name__ == "__main__":
    asyncio.run(main())
