"""Abuse limits: messages per minute per user, new cases per day per reporter.

The message limit is an in-process sliding window: cheap, and good enough because a flood comes through
one instance's long-polling or webhook connection; with several instances each allows the full rate.
The daily case limit is counted in the database by reporter key, so it holds across instances and restarts.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import deque

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Reporter


class SlidingWindow:
    """At most `limit` hits per `period` seconds per key, kept in memory."""

    def __init__(self, limit: int, period: float = 60.0) -> None:
        self.limit = limit
        self.period = period
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str, now: float | None = None) -> bool:
        """Count one hit; False when the key is over its limit (the hit is then not counted)."""
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.period:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        if len(self._hits) > 10_000:
            self._forget_idle(now)
        return True

    def wait(self, key: str, now: float | None = None) -> float:
        """Seconds until `key` may hit again (0 when it may now); counts nothing."""
        now = time.monotonic() if now is None else now
        live = [at for at in self._hits.get(key, ()) if at > now - self.period]
        if len(live) < self.limit:
            return 0.0
        return live[len(live) - self.limit] + self.period - now

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.period]:
            del self._hits[key]


async def cases_last_day(session: AsyncSession, reporter_key: str, now: dt.datetime | None = None) -> int:
    """How many cases this reporter filed in the last 24 hours."""
    since = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=1)
    query = (
        select(func.count())
        .select_from(Reporter)
        .where(Reporter.reporter_key == reporter_key, Reporter.created_at > since)
    )
    return int((await session.execute(query)).scalar_one())
