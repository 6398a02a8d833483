"""PostgreSQL: a commit that queues messages in one process wakes the sender in another at once."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import text

from bot.delivery.outbox import enqueue
from storage.db import create_engine, session_factory
from storage.notify import OUTBOX, can_listen, listen
from tests.test_sender import Clock, make_sender

ON_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


async def queue(url: str, text_: str, *, commit: bool = True) -> None:
    """Queue a message through an engine of its own, as another instance would."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            await enqueue(session, channel="telegram", chat_id="7", kind="text", payload={"text": text_},
                          key=text_)
            await (session.commit() if commit else session.rollback())
    finally:
        await engine.dispose()


class Heard:
    def __init__(self) -> None:
        self.count = 0
        self.changed = asyncio.Event()

    def __call__(self) -> None:
        self.count += 1
        self.changed.set()

    async def reach(self, count: int) -> None:
        async def wait() -> None:
            while self.count < count:
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(wait(), 10)


@ON_POSTGRESQL
async def test_another_instances_commit_wakes_the_sender_at_once(db_url, engine, sessions, server) -> None:
    """The sender rests for a poll interval of a minute and watches no commits of its own: only the
    notification can bring the reply out within seconds."""
    assert can_listen(engine)
    bot = Bot("42:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
    sender = make_sender(sessions, bot, Clock(), poll_interval=60)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(sender.run_forever(stop)),
             asyncio.create_task(listen(engine, OUTBOX, sender.wake, stop))]
    try:
        await asyncio.sleep(0.5)  # listening, and the sender found nothing and rests
        await queue(db_url, "Đã nhận phản ánh")
        request = await server.wait_for("sendMessage", chat_id=7, timeout=5)
        assert request.params["text"] == "Đã nhận phản ánh"
    finally:
        stop.set()
        sender.wake()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        await bot.session.close()


@ON_POSTGRESQL
async def test_only_commits_notify_and_a_lost_connection_is_replaced(db_url, engine) -> None:
    heard = Heard()
    stop = asyncio.Event()
    listening = asyncio.create_task(listen(engine, OUTBOX, heard, stop))
    try:
        await heard.reach(1)  # listening starts with a call: what was queued meanwhile is looked at
        await queue(db_url, "rolled back", commit=False)
        await queue(db_url, "committed")
        await heard.reach(2)
        assert heard.count == 2, "a rolled-back insert notified"  # notifications arrive in commit order

        async with engine.connect() as conn:  # the server drops the listening connection
            killed = await conn.scalar(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"))
        assert killed == 1
        await heard.reach(3)  # listening again (after a pause of a second), and says so
        await queue(db_url, "after the reconnect")
        await heard.reach(4)
    finally:
        stop.set()
        await asyncio.wait_for(listening, 10)


def test_sqlite_has_no_notifications(tmp_path) -> None:
    assert not can_listen(create_engine(f"sqlite+aiosqlite:///{tmp_path}/bot.db"))
