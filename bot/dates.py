"""Dates as people type them, on the command line and in the chat: 2026-01-01 and 01/01/2026 alike.

A day is year-month-day (ISO) or day/month/year (as Vietnamese readers write it; `.` and `-` also
separate), optionally followed by a time of day, "14:00", "14h30" or "14g".
"""

from __future__ import annotations

import datetime as dt
import re

_ISO = r"(?P<y1>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2})"
_DMY = r"(?P<d2>\d{1,2})[/.-](?P<m2>\d{1,2})[/.-](?P<y2>\d{4})"
_MOMENT = re.compile(rf"^\s*(?:{_ISO}|{_DMY})(?:\s+(?P<hour>\d{{1,2}})[:hg](?P<minute>\d{{2}})?)?\s*$")


class DateError(ValueError):
    """Not a date; `shape` tells a typing error (False: the day does not exist, as 30/02/2026)."""

    def __init__(self, text: str, shape: bool) -> None:
        super().__init__(text)
        self.shape = shape


def parse_moment(text: str) -> tuple[dt.date, dt.time | None]:
    """A day and, when one follows it, a time of day."""
    match = _MOMENT.match(text)
    if not match:
        raise DateError(text, shape=True)
    parts = match.groupdict()
    year, month, day = (parts["y1"], parts["m1"], parts["d1"]) if parts["y1"] else (
        parts["y2"], parts["m2"], parts["d2"])
    try:
        when = dt.date(int(year), int(month), int(day))
        hour = None if parts["hour"] is None else dt.time(int(parts["hour"]), int(parts["minute"] or 0))
    except ValueError:
        raise DateError(text, shape=False) from None
    return when, hour


def parse_day(text: str) -> dt.date:
    """A day alone: 2026-01-01 or 01/01/2026."""
    day, hour = parse_moment(text)
    if hour is not None:
        raise DateError(text, shape=True)
    return day
