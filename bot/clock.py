"""The bot's clock: one source of "now" for deadlines, reminders, digests and the outbox.

Production reads the system clock. The demo (and tests) may move it forward to show what happens in a
day or a month without waiting; moving is refused unless the clock was built movable, so a production
bot can never be time-shifted by a request.
"""

from __future__ import annotations

import datetime as dt


class ClockLocked(Exception):
    """The clock was asked to move, but it was not built movable (outside demo mode)."""


class Clock:
    """UTC time, optionally shifted by an offset that only moves forward."""

    def __init__(self, *, movable: bool = False, start: dt.datetime | None = None) -> None:
        """`start` (movable clocks only) is where the clock begins, in the past or the future; only the
        moves after it are forward-only, so a scripted story or a test can replay a fixed day."""
        self.movable = movable
        self._offset = dt.timedelta(0)
        if start is not None:
            if not movable:
                raise ClockLocked("the clock can only be moved in demo mode")
            if start.tzinfo is None:
                raise ValueError("start must be timezone-aware")
            self._offset = start - dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        """The current (possibly shifted) UTC time, timezone-aware."""
        return dt.datetime.now(dt.UTC) + self._offset

    __call__ = now

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move forward by `delta`; returns the new time."""
        if not self.movable:
            raise ClockLocked("the clock can only be moved in demo mode")
        if delta < dt.timedelta(0):
            raise ValueError("the clock only moves forward")
        self._offset += delta
        return self.now()

    def set(self, moment: dt.datetime) -> dt.datetime:
        """Move to `moment` (timezone-aware), which must not be in the clock's past."""
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        if not self.movable:
            raise ClockLocked("the clock can only be moved in demo mode")
        real = dt.datetime.now(dt.UTC)
        offset = moment - real
        if offset < self._offset - dt.timedelta(seconds=1):
            raise ValueError("the clock only moves forward")
        self._offset = offset
        return self.now()
