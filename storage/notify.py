"""PostgreSQL's LISTEN/NOTIFY: hear commits made by other processes as they happen.

A trigger (migration 0004) notifies `outbox` when a transaction queues messages. The instance holding the
sender role listens, so a reply committed by another instance (a webhook instance, the polling process
beside a delivery worker) leaves at once instead of at the sender's next poll. Polling stays as the
fallback: while the listening connection is down nothing is lost, only later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

OUTBOX = "outbox"


def can_listen(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql" and engine.dialect.driver == "asyncpg"


async def listen(engine: AsyncEngine, channel: str, heard: Callable[[], None], stop: asyncio.Event,
                 *, retry_cap: float = 30.0) -> None:
    """Call `heard` on each notification on `channel` until `stop`, holding one pooled connection.

    A lost connection is replaced after a growing pause; `heard` is also called whenever listening
    (re)starts, because notifications sent meanwhile were missed."""
    pause = 1.0
    while not stop.is_set():
        try:
            await _listen_once(engine, channel, heard, stop)
            pause = 1.0
        except Exception as exc:  # the database is down or restarting: poll meanwhile, try again later
            log.warning("not listening for %r notifications (%s); retrying in %.0f s", channel,
                        exc.__class__.__name__, pause)
            await _first(stop.wait(), asyncio.sleep(pause))
            pause = min(pause * 2, retry_cap)


async def _listen_once(engine: AsyncEngine, channel: str, heard: Callable[[], None],
                       stop: asyncio.Event) -> None:
    """Listen on one connection until `stop` (returns) or the connection is lost (raises)."""
    lost = asyncio.Event()

    def on_notify(*_args: object) -> None:
        heard()

    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        driver.add_termination_listener(lambda _conn: lost.set())
        await driver.add_listener(channel, on_notify)
        log.info("listening for %r notifications", channel)
        heard()
        await _first(stop.wait(), lost.wait())
        if lost.is_set():
            await connection.invalidate()
            raise ConnectionError("the listening connection was closed")
        with contextlib.suppress(Exception):
            await driver.remove_listener(channel, on_notify)


async def _first(*waits: Any) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
