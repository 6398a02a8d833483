"""Per-agency figures for a meeting's agenda: the scorecards of `bot.figures` for the period, plus the
oldest open cases by code.

Only counts, codes and dates: nothing about who reported. "First action" is the first thing an officer
of the agency did on a case (accept, ask, transfer, refer...), the information exchange the coordination
reviews keep finding slow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.figures import scorecards
from bot.rules import Rules
from bot.status import CLOSED
from bot.workdays import WorkCalendar
from storage.models import Case

OLDEST = 3


@dataclass
class AgencyFigures:
    agency_id: str
    received: int = 0
    accepted: int = 0
    transferred_in: int = 0
    transferred_out: int = 0
    resolved: int = 0
    rejected: int = 0
    overdue: int = 0
    on_time_percent: float | None = None  # of the cases resolved in the period
    median_days_to_first_action: float | None = None  # working days
    watched: int = 0
    investigating: int = 0
    oldest_open: list[tuple[str, dt.date]] = field(default_factory=list)  # (code, received on)


async def compute(
    session: AsyncSession,
    rules: Rules,
    calendar: WorkCalendar,
    agency_ids: list[str],
    start: dt.date,
    end: dt.date,
    today: dt.date,
) -> dict[str, AgencyFigures]:
    """Figures of each agency for cases and actions dated from `start` to `end` (local dates, inclusive);
    overdue, watched and oldest are as of `today`. Call inside a transaction (scorecards may index days)."""
    out: dict[str, AgencyFigures] = {}
    for card in await scorecards(session, rules, calendar, start, end, agency_ids, today=today):
        out[card.agency_id] = AgencyFigures(
            card.agency_id,
            received=card.received,
            accepted=card.accepted,
            transferred_in=card.transferred_in,
            transferred_out=card.transferred_out,
            resolved=card.resolved,
            rejected=card.rejected,
            overdue=card.overdue_now,
            on_time_percent=None if card.on_time_rate is None else round(card.on_time_rate, 1),
            median_days_to_first_action=card.first_action.median,
            watched=card.watched_now,
            investigating=card.referred,
        )
    rows = await session.execute(
        select(Case.lead_agency_id, Case.code, Case.received_on)
        .where(Case.lead_agency_id.in_(agency_ids), Case.status.not_in(sorted(CLOSED)))
        .order_by(Case.received_on, Case.id)
    )
    for lead, code, received in rows:
        figures = out.get(lead)
        if figures is not None and len(figures.oldest_open) < OLDEST:
            figures.oldest_open.append((code, received))
    return out
