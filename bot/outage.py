"""A background loop's failures logged once per outage, with growing pauses between retries.

A database restart used to make the job and outbox loops log a full traceback every half second (13,000
lines in 26 seconds), burying the one line that mattered. Now the first failure of an outage is logged
(one line when the database or network is unreachable, a traceback for anything else), retries back off
up to `cap` seconds, and the recovery is logged once with the outage's length.
"""

from __future__ import annotations

import logging
import random
import time

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

UNREACHABLE: tuple[type[BaseException], ...] = (OSError, TimeoutError, OperationalError, InterfaceError)


def is_unreachable(exc: BaseException) -> bool:
    """Whether the error says a server could not be reached (nothing to debug, only to wait out)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, UNREACHABLE) or "connect" in type(exc).__name__.lower()


def backoff(attempts: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before retry number `attempts` of one item (a message, a job): exponential from `base`,
    capped at `cap`, with jitter in [50%, 100%] so that items failing together do not retry together."""
    return min(cap, base * 2 ** max(0, attempts - 1)) * (0.5 + 0.5 * rng.random())


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}"


class OutageLog:
    """Tracks one loop's outage: `failed()` returns how long to wait, `recovered()` ends the outage."""

    def __init__(self, log: logging.Logger, what: str, *, first: float = 1.0, cap: float = 60.0) -> None:
        self.log, self.what, self.first, self.cap = log, what, first, cap
        self.since: float | None = None
        self.failures = 0
        self.delay = 0.0

    def failed(self, exc: BaseException) -> float:
        self.failures += 1
        if self.since is None:
            self.since = time.monotonic()
            if is_unreachable(exc):
                self.log.error("%s failed: %s; retrying with backoff, logged again when it recovers",
                               self.what, one_line(exc))
            else:
                self.log.exception("%s failed; retrying with backoff, logged again when it recovers",
                                   self.what)
        self.delay = min(self.cap, self.delay * 2 if self.delay else self.first)
        return self.delay

    def recovered(self) -> None:
        if self.since is not None:
            self.log.warning("%s recovered after %.0f s (%d failed attempts)", self.what,
                             time.monotonic() - self.since, self.failures)
        self.since, self.failures, self.delay = None, 0, 0.0
