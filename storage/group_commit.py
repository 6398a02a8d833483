"""Group commit: units of work that arrive together share one transaction, and each waits for its commit.

A citizen's dialogue step is a few statements and a commit, and much of its cost is around them: a
session, a connection, BEGIN, the flush of its new rows, COMMIT (on SQLite, a sync of the write-ahead log).
When a burst of updates arrives at once, steps that queue while a transaction is being written run together
in the next one, and their new rows are written together at its commit (one INSERT per table).
Each caller still gets its answer only after the transaction holding its work has committed, so nothing
is answered that is not stored. A lone step runs at once, in a transaction of its own.

When a shared transaction fails (a unique key taken by another instance, a row changed under it, any
error), it is rolled back and each of its units is run again alone, so one unit's failure reaches only its
own caller. A unit must therefore be safe to run again: it may touch only the session it is given (what it
changes outside the database would be done twice).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[Any]]


class GroupCommit:
    """Runs units of work in shared transactions, `lanes` transactions at a time (one for SQLite, which
    writes one transaction at a time anyway), at most `max_batch` units in each."""

    def __init__(
        self,
        sessions: Callable[[], AsyncSession],
        *,
        lanes: int = 1,
        max_batch: int = 32,
        alone: Callable[[Work], Awaitable[Any]] | None = None,
        prepare: Callable[[AsyncSession, list[Any]], Awaitable[None]] | None = None,
    ) -> None:
        """`sessions` makes a session (an `async_sessionmaker`); `alone` runs one unit in a transaction of
        its own (with the caller's retries), by default a plain one; `prepare` runs first in a shared
        transaction with the units' keys (given to `run`), to read for all of them at once what each
        would read alone."""
        self.sessions = sessions
        self.lanes = lanes
        self.max_batch = max_batch
        self._alone = alone or self._transaction
        self._prepare = prepare
        self._waiting: deque[tuple[Work, asyncio.Future[Any], Any]] = deque()
        self._busy = 0  # lanes draining the queue
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]], key: Any = None) -> T:
        """Run `work(session)` in a transaction, maybe shared; return its result once that has committed.
        `key` is what `prepare` is told about this unit."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        self._waiting.append((work, done, key))
        if self._busy < self.lanes:
            self._busy += 1  # counted here, not when the task ends: a finished lane is free at once
            task = loop.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await done

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = []
                while self._waiting and len(batch) < self.max_batch:
                    unit = self._waiting.popleft()
                    if not unit[1].done():  # a caller that gave up (cancelled) is skipped
                        batch.append(unit)
                if len(batch) == 1:
                    await self._one(*batch[0][:2])
                elif batch:
                    await self._together(batch)
        finally:  # no await between the empty queue and here: a unit queued meanwhile found the lane busy
            self._busy -= 1
            if self._waiting and self._busy == 0:  # stopped (cancelled at shutdown): nobody waits forever
                _fail([done for _, done, _ in self._waiting])
                self._waiting.clear()

    async def _transaction(self, work: Work) -> Any:
        async with self.sessions() as session, session.begin():
            return await work(session)

    async def _one(self, work: Work, done: asyncio.Future[Any]) -> None:
        try:
            result = await self._alone(work)
        except Exception as exc:
            if not done.done():
                done.set_exception(exc)
        except BaseException:
            _fail([done])
            raise
        else:
            if not done.done():
                done.set_result(result)

    async def _together(self, batch: list[tuple[Work, asyncio.Future[Any], Any]]) -> None:
        try:
            async with self.sessions() as session, session.begin():
                if self._prepare is not None:
                    await self._prepare(session, [key for *_, key in batch if key is not None])
                results = [await work(session) for work, *_ in batch]
        except Exception as exc:
            log.debug("a shared transaction of %d failed (%s); each runs alone", len(batch), exc)
            for index, (work, done, _) in enumerate(batch):
                try:
                    await self._one(work, done)
                except BaseException:
                    _fail([later for _, later, _ in batch[index + 1:]])
                    raise
            return
        except BaseException:
            _fail([done for _, done, _ in batch])
            raise
        for (_, done, _), result in zip(batch, results, strict=True):
            if not done.done():
                done.set_result(result)


def _fail(waiting: list[asyncio.Future[Any]]) -> None:
    for done in waiting:
        if not done.done():
            done.set_exception(RuntimeError("interrupted before its transaction committed"))
