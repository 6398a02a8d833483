"""The data behind the charts, counted in SQL: statuses by agency, on-time rate by month, intake by week.

Rows are grouped by day in the database (a year is at most 366 rows a series) and bucketed here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.figures.scorecard import _bounds, _json_day, _local_day
from bot.workdays import WorkCalendar
from storage.models import AuditEvent, Case


def _agency_filter(column: Any, agency_ids: Sequence[str] | None) -> Any:
    return column.in_(tuple(agency_ids)) if agency_ids else literal(True)


async def status_by_agency(session: AsyncSession, start: dt.date, end: dt.date,
                           agency_ids: Sequence[str] | None = None) -> dict[str, dict[str, int]]:
    """Cases received in the period: lead agency now -> status now -> count."""
    rows = await session.execute(
        select(Case.lead_agency_id, Case.status, func.count())
        .where(Case.received_on >= start, Case.received_on <= end,
               _agency_filter(Case.lead_agency_id, agency_ids))
        .group_by(Case.lead_agency_id, Case.status)
    )
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for agency, status, n in rows:
        out[agency][status] = n
    return dict(out)


async def on_time_by_month(session: AsyncSession, calendar: WorkCalendar, start: dt.date, end: dt.date,
                           agency_ids: Sequence[str] | None = None) -> dict[dt.date, tuple[int, int]]:
    """First day of each month of the period -> (resolved, of which on time)."""
    lo, hi = _bounds(calendar, start, end)
    day = _local_day(session, calendar, AuditEvent.at, start).label("day")
    due = _json_day(session, AuditEvent.before["due_on"].as_string())
    on_time = case((or_(due.is_(None), day <= due), 1), else_=0)
    rows = await session.execute(
        select(day, func.count(), func.sum(on_time))
        .where(AuditEvent.action == "resolved", and_(AuditEvent.at >= lo, AuditEvent.at < hi),
               _agency_filter(AuditEvent.agency_id, agency_ids))
        .group_by(day)
    )
    months: dict[dt.date, list[int]] = {}
    first = start.replace(day=1)
    while first <= end:
        months[first] = [0, 0]
        first = (first + dt.timedelta(days=32)).replace(day=1)
    for day_value, n, punctual in rows:
        when = day_value if isinstance(day_value, dt.date) else dt.date.fromisoformat(day_value)
        bucket = months[when.replace(day=1)]
        bucket[0] += n
        bucket[1] += int(punctual or 0)
    return {m: (v[0], v[1]) for m, v in months.items()}


async def intake_by_week(session: AsyncSession, start: dt.date, end: dt.date,
                         agency_ids: Sequence[str] | None = None) -> dict[dt.date, dict[str, int]]:
    """Monday of each week of the period -> kind -> cases received (by the agency first routed to)."""
    lead = func.coalesce(Case.routing["lead"].as_string(), Case.lead_agency_id)
    rows = await session.execute(
        select(Case.received_on, Case.kind, func.count())
        .where(Case.received_on >= start, Case.received_on <= end, _agency_filter(lead, agency_ids))
        .group_by(Case.received_on, Case.kind)
    )
    weeks: dict[dt.date, dict[str, int]] = {}
    monday = start - dt.timedelta(days=start.weekday())
    while monday <= end:
        weeks[monday] = {}
        monday += dt.timedelta(days=7)
    for day, kind, n in rows:
        week = weeks[day - dt.timedelta(days=day.weekday())]
        week[kind] = week.get(kind, 0) + n
    return weeks
