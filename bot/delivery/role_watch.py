"""For an instance that sends nothing (OUTBOX_SENDER=false): say so in the log while no instance does.

Such an instance commits replies and cards that another one delivers. When that one is missing (never
started, or dead and not replaced), messages wait in the outbox without a sign; this watch turns the
silence into one warning per absence, and one line when a sender is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.sender import ROLE
from storage.leases import holder
from storage.models import utcnow

log = logging.getLogger(__name__)

MISSING = ("no instance is sending messages (the sender role has been free for %.0f s): replies and "
           "cards wait in the outbox; start one with OUTBOX_SENDER=true, such as a worker with "
           "RECEIVE_UPDATES=false")


async def watch_for_a_sender(sessions: async_sessionmaker[AsyncSession], stop: asyncio.Event, *,
                             clock: Callable[[], dt.datetime] = utcnow, every: float = 30.0,
                             grace: float = 60.0) -> None:
    """Look every `every` seconds; warn once no instance has held the sender role for `grace` seconds
    (a worker started a little later is not an absence)."""
    missing_since: dt.datetime | None = None
    warned = False
    while not stop.is_set():
        now = clock()
        try:
            async with sessions() as session:
                found = await holder(session, ROLE, now)
        except Exception as exc:  # the database is down: the loops that use it report that
            log.debug("sender role not checked: %s", exc)
        else:
            if found is not None:
                if warned:
                    log.info("messages are being sent again, by %s", found)
                missing_since, warned = None, False
            else:
                missing_since = missing_since or now
                if not warned and (now - missing_since).total_seconds() >= grace:
                    log.warning(MISSING, (now - missing_since).total_seconds())
                    warned = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
