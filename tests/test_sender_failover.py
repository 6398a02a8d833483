"""The sender role fails over by itself: one instance delivers, and when it dies another takes over."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.delivery.outbox import enqueue
from bot.delivery.ratelimit import Limits
from bot.delivery.sender import ROLE, Sender
from handlers.telegram.sender import TelegramTransport
from simulator.botapi import FakeBotAPI
from storage.db import create_engine, session_factory
from storage.leases import hold
from storage.models import Lease, OutboxMessage
from tests.conftest import ROOT, SAMPLE_RULES
from tests.test_sender import PRIVACY, Clock

T = 60.0  # generous: two interpreters start on a busy machine


async def put(sessions, chat_id: str, text: str) -> None:
    async with sessions() as session:
        await enqueue(session, channel="telegram", chat_id=chat_id, kind="text", payload={"text": text},
                      key=text)
        await session.commit()


async def test_one_holder_at_a_time_and_the_lease_passes_on_when_it_runs_out(sessions) -> None:
    now = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)
    async with sessions() as session:
        assert await hold(session, ROLE, "a", 15, now)
        assert not await hold(session, ROLE, "b", 15, now + dt.timedelta(seconds=5))
        assert await hold(session, ROLE, "a", 15, now + dt.timedelta(seconds=10)), "the holder renews"
        assert not await hold(session, ROLE, "b", 15, now + dt.timedelta(seconds=20)), "renewed until 25s"
        assert await hold(session, ROLE, "b", 15, now + dt.timedelta(seconds=26))
        assert not await hold(session, ROLE, "a", 15, now + dt.timedelta(seconds=27))
        lease = (await session.scalars(select(Lease))).one()
        assert (lease.holder, lease.since) == ("b", now + dt.timedelta(seconds=26))


async def test_standby_takes_over_when_the_sender_stops_renewing(sessions, server: FakeBotAPI) -> None:
    clock = Clock()
    bot = Bot("42:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
    try:
        a, b = (Sender(sessions, {"telegram": TelegramTransport(bot)}, name, privacy=PRIVACY, clock=clock,
                       limits=Limits.off(),
                       poll_interval=0.01) for name in ("a", "b"))
        stop_a, stop_b = asyncio.Event(), asyncio.Event()
        task_a = asyncio.create_task(a.run_forever(stop_a))
        await asyncio.sleep(0.2)
        task_b = asyncio.create_task(b.run_forever(stop_b))
        await put(sessions, "7", "one")
        await server.wait_for("sendMessage", chat_id=7)
        async def dead() -> None:
            return None

        a.release_role = dead  # type: ignore[method-assign]  # dies without giving the role up
        task_a.cancel()
        await asyncio.gather(task_a, return_exceptions=True)
        await put(sessions, "7", "two")
        await asyncio.sleep(0.5)
        assert server.texts(7) == ["one"], "the standby waits while the dead holder's lease runs"
        clock.advance(16)
        await server.wait_for("sendMessage", chat_id=7, count=2, timeout=10)
        assert server.texts(7) == ["one", "two"]
        stop_b.set()
        await task_b
    finally:
        await bot.session.close()


def bot_process(server: FakeBotAPI, tmp_path: Path, key: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BOT_TOKEN": "42:TEST", "TELEGRAM_API_URL": server.url,
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/data/bot.db", "RULES_FILE": str(SAMPLE_RULES),
           "ENCRYPTION_KEY": key, "WEBHOOK_URL": "", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "bot"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def _holder(sessions) -> str | None:
    async with sessions() as session:
        lease = await session.get(Lease, ROLE)
        return None if lease is None else lease.holder


async def _recorded(sessions) -> None:
    """Until the delivery is recorded (a kill before that commit would mean a second delivery)."""
    for _ in range(int(T / 0.1)):
        async with sessions() as session:
            if set((await session.scalars(select(OutboxMessage.status))).all()) == {"sent"}:
                return
        await asyncio.sleep(0.1)
    raise AssertionError("the delivery was never recorded")


async def test_killed_sending_instance_is_replaced_by_another(server: FakeBotAPI, tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    first = bot_process(server, tmp_path, key)
    await server.wait_for("getUpdates", timeout=T)
    second = bot_process(server, tmp_path, key)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/data/bot.db")
    sessions = session_factory(engine)
    procs = {first.pid: first, second.pid: second}
    try:
        await server.wait_for("deleteWebhook", count=2, timeout=T)  # both are up and polling
        await put(sessions, "7", "before")
        await server.wait_for("sendMessage", chat_id=7, timeout=T)
        await _recorded(sessions)
        holder = await _holder(sessions)
        assert holder is not None
        dead = next(pid for pid in procs if f":{pid}:" in holder)
        procs[dead].send_signal(signal.SIGKILL)
        procs[dead].wait(timeout=T)
        await put(sessions, "7", "after")
        survivor = next(proc for pid, proc in procs.items() if pid != dead)
        try:
            await server.wait_for("sendMessage", chat_id=7, count=2, timeout=T)
        except TimeoutError:
            survivor.send_signal(signal.SIGTERM)
            raise AssertionError(survivor.communicate(timeout=T)[1].decode()[-3000:]) from None
        new_holder = await _holder(sessions)
        assert new_holder is not None and f":{dead}:" not in new_holder
        await _recorded(sessions)
        assert server.texts(7) == ["before", "after"], "each message once"
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.communicate(timeout=T)
        await engine.dispose()
