"""The periodic report's content: figures by agency and in total, targets, the oldest open cases, the
cases of the period and the three charts. The writers (bot/figures/writers.py) lay it out as documents.

Nothing here touches the reporters table: the report carries no reporter identity, and no free text
a citizen wrote (which may name them), only codes, kinds, places, statuses and dates.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.figures import charts, series
from bot.figures.scorecard import OPEN_STATUSES, Scorecard, scorecards, total
from bot.figures.targets import TargetResult, evaluate
from bot.figures.text import agency_name
from bot.rules import Rules
from bot.workdays import WorkCalendar
from storage.models import Case

OLDEST = 10


@dataclass(frozen=True)
class CaseRow:
    """A case as the report lists it: no reporter, no citizen's text."""

    code: str
    kind: str
    field: str | None
    place: str | None
    status: str
    lead: str
    received_on: dt.date
    due_on: dt.date | None
    closed_on: dt.date | None
    days_open: int | None = None  # working days since receipt, for open cases


@dataclass
class Report:
    start: dt.date
    end: dt.date
    made: dt.date
    cards: list[Scorecard]
    overall: Scorecard
    targets: list[TargetResult]
    oldest: list[CaseRow]
    cases: list[CaseRow]
    charts: dict[str, bytes] = field(default_factory=dict)  # name -> PNG


def _row(row: Any, calendar: WorkCalendar, today: dt.date | None = None) -> CaseRow:
    """A case row; `today` given: with its working days open."""
    return CaseRow(
        code=row.code, kind=row.kind, field=row.field, place=row.area_name, status=row.status,
        lead=row.lead_agency_id, received_on=row.received_on, due_on=row.due_on,
        closed_on=calendar.today(row.closed_at) if row.closed_at else None,
        days_open=calendar.working_days_between(row.received_on, today) if today else None,
    )


async def build(
    session: AsyncSession,
    rules: Rules,
    calendar: WorkCalendar,
    start: dt.date,
    end: dt.date,
    agency_ids: Sequence[str] | None = None,
    *,
    today: dt.date | None = None,
    locale: str = "vi",
    with_charts: bool = True,
    with_cases: bool = True,
) -> Report:
    """Everything the report shows for [start, end]; `today` is the day open and overdue are taken on."""
    today = today or calendar.today()
    cards = await scorecards(session, rules, calendar, start, end, agency_ids, today=today)
    targets = await evaluate(session, rules, calendar, start, end, agency_ids, today=today)
    columns = (Case.code, Case.kind, Case.field, Case.area_name, Case.status, Case.lead_agency_id,
               Case.received_on, Case.due_on, Case.closed_at)
    mine = Case.lead_agency_id.in_(tuple(agency_ids)) if agency_ids else Case.id.isnot(None)
    open_query = (select(*columns).where(Case.status.in_(OPEN_STATUSES), mine)
                  .order_by(Case.received_on, Case.id).limit(OLDEST))
    oldest = [_row(r, calendar, today) for r in await session.execute(open_query)]
    cases: list[CaseRow] = []
    if with_cases:
        query = (select(*columns).where(Case.received_on >= start, Case.received_on <= end, mine)
                 .order_by(Case.received_on, Case.id))
        cases = [_row(r, calendar) for r in await session.execute(query)]
    report = Report(start, end, today, cards, total(cards), targets, oldest, cases)
    if with_charts:
        names = {a.id: agency_name(rules, a.id, locale) for a in rules.agencies}
        goal = next((tg.percent for tg in rules.targets if tg.measure == "resolved_on_time"), None)
        statuses = await series.status_by_agency(session, start, end, agency_ids)
        months = await series.on_time_by_month(session, calendar, start, end, agency_ids)
        weeks = await series.intake_by_week(session, start, end, agency_ids)
        report.charts = await asyncio.to_thread(_draw, statuses, months, weeks, names, locale, goal)
    return report


def _draw(statuses: dict[str, dict[str, int]], months: dict[dt.date, tuple[int, int]],
          weeks: dict[dt.date, dict[str, int]], names: dict[str, str], locale: str,
          goal: float | None) -> dict[str, bytes]:
    """The three charts (drawing takes a moment of CPU: callers run it in a worker thread)."""
    return {
        "status": charts.status_chart(statuses, names, locale),
        "on_time": charts.on_time_chart(months, locale, goal),
        "intake": charts.intake_chart(weeks, locale),
    }
