"""Working days inside SQL: a table of days with the running count of working days.

Durations "in working days" are then one subtraction in a query (ordinal of the end day minus ordinal of
the start day, which is `WorkCalendar.working_days_between`), so the figures never loop over cases in
Python. Rows are derived from the calendar and filled on demand; each calendar (timezone and provincial
exceptions) has its own rows, so changing the days off never reuses stale counts.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.workdays import WorkCalendar
from storage.models import WorkDay

ANCHOR = dt.date(2000, 1, 1)  # ordinals count working days from here; earlier days are not needed
_BATCH = 1000


def calendar_key(calendar: WorkCalendar) -> str:
    """A short name for the calendar's rules (timezone and exceptions)."""
    text = "|".join([
        str(calendar.timezone.key),
        ",".join(sorted(map(str, calendar.extra_days_off))),
        ",".join(sorted(map(str, calendar.extra_working_days))),
    ])
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def ordinals(calendar: WorkCalendar, first: dt.date, last: dt.date) -> list[tuple[dt.date, int]]:
    """(day, working days from ANCHOR through day) for every day of [first, last]."""
    count = sum(calendar.is_working_day(ANCHOR + dt.timedelta(days=i)) for i in range((first - ANCHOR).days))
    out: list[tuple[dt.date, int]] = []
    day = first
    while day <= last:
        count += calendar.is_working_day(day)
        out.append((day, count))
        day += dt.timedelta(days=1)
    return out


async def ensure_days(session: AsyncSession, calendar: WorkCalendar, first: dt.date, last: dt.date) -> str:
    """Make sure every day of [first, last] has its row; returns the calendar key to join on."""
    key = calendar_key(calendar)
    first = max(first, ANCHOR)
    if last < first:
        return key
    have = (
        await session.execute(
            select(func.count()).select_from(WorkDay).where(
                WorkDay.calendar == key, WorkDay.day >= first, WorkDay.day <= last
            )
        )
    ).scalar_one()
    if have == (last - first).days + 1:
        return key
    rows = [{"calendar": key, "day": d, "ordinal": n} for d, n in ordinals(calendar, first, last)]
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    for i in range(0, len(rows), _BATCH):
        stmt = insert(WorkDay).values(rows[i : i + _BATCH])
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["calendar", "day"]))
    return key
