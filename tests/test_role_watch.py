"""An instance that sends nothing warns, once, while no instance sends; and says when one is back."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from bot.delivery.role_watch import watch_for_a_sender
from bot.delivery.sender import ROLE
from storage.leases import hold, release
from storage.models import utcnow


async def until(condition, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    async def wait() -> None:
        while not condition():  # noqa: ASYNC110  (a log record, not an event, is awaited)
            await asyncio.sleep(0.01)
    await asyncio.wait_for(wait(), timeout)


async def test_a_missing_sender_is_reported_once_and_its_return_too(sessions, caplog) -> None:
    caplog.set_level(logging.INFO, logger="bot.delivery.role_watch")
    now = [utcnow()]
    stop = asyncio.Event()
    watching = asyncio.create_task(
        watch_for_a_sender(sessions, stop, clock=lambda: now[0], every=0.01, grace=60))

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]

    try:
        await asyncio.sleep(0.1)
        assert warnings() == [], "no sender yet, but within the grace a worker may still be starting"
        now[0] += dt.timedelta(seconds=61)
        await until(lambda: warnings())
        await asyncio.sleep(0.1)  # many more looks, still one warning
        assert len(warnings()) == 1 and "OUTBOX_SENDER=true" in warnings()[0]

        async with sessions() as session:
            assert await hold(session, ROLE, "worker-1", 15, now[0])
        await until(lambda: any("sent again, by worker-1" in r.getMessage() for r in caplog.records))

        async with sessions() as session:  # the worker stops; after the grace, one new warning
            await release(session, ROLE, "worker-1")
        await asyncio.sleep(0.1)
        assert len(warnings()) == 1
        now[0] += dt.timedelta(seconds=61)
        await until(lambda: len(warnings()) == 2)
    finally:
        stop.set()
        await asyncio.wait_for(watching, 5)
