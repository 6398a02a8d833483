"""Per-agency figures for a meeting's agenda, from the cases and their audit log over a period.

Only counts, codes and dates: nothing about who reported. "First action" is the first thing an officer
of the agency did on a case (accept, ask, transfer, comment...), the information exchange the
coordination reviews keep finding slow.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.status import CLOSED
from bot.workdays import WorkCalendar
from storage.models import AuditEvent, Case, CaseAgency

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
    calendar: WorkCalendar,
    agency_ids: list[str],
    start: dt.date,
    end: dt.date,
    today: dt.date,
) -> dict[str, AgencyFigures]:
    """Figures of each agency for cases and actions dated from `start` to `end` (local dates, inclusive);
    overdue, watched and oldest are as of `today`."""
    out = {a: AgencyFigures(a) for a in agency_ids}
    # Only what the period and the agencies' open cases need: the query grows with them, not the archive.
    since = dt.datetime.combine(start, dt.time(), calendar.timezone).astimezone(dt.UTC)
    cases = {c.id: c for c in (await session.execute(select(Case).where(or_(
        and_(Case.lead_agency_id.in_(agency_ids), Case.status.not_in(sorted(CLOSED))),
        Case.received_on.between(start, end),
    )))).scalars()}
    holders = (await session.execute(select(CaseAgency).join(Case).where(
        CaseAgency.agency_id.in_(agency_ids), Case.received_on.between(start, end),
    ))).scalars()
    events = (await session.execute(
        select(AuditEvent).where(AuditEvent.case_id.is_not(None), AuditEvent.at >= since)
        .order_by(AuditEvent.at, AuditEvent.id)
    )).scalars().all()

    def day(moment: dt.datetime) -> dt.date:
        return calendar.today(moment)

    transferred_to = {(e.case_id, (e.after or {}).get("lead")) for e in events if e.action == "transferred"}
    for holder in holders:
        case = cases.get(holder.case_id)
        if (
            case
            and holder.role in ("lead", "former")
            and start <= case.received_on <= end
            and (case.id, holder.agency_id) not in transferred_to
        ):
            out[holder.agency_id].received += 1
    first_action: dict[tuple[int, str], dt.date] = {}
    on_time: dict[str, list[bool]] = {a: [] for a in agency_ids}
    for e in events:
        if e.actor_type == "officer" and e.agency_id in out and e.case_id is not None:
            first_action.setdefault((e.case_id, e.agency_id), day(e.at))
        if not start <= day(e.at) <= end:
            continue
        acting = out.get(e.agency_id or "")
        if e.action == "transferred":
            target = out.get((e.after or {}).get("lead", ""))
            if target:
                target.transferred_in += 1
            if acting:
                acting.transferred_out += 1
        if acting is None:
            continue
        if e.action == "accepted":
            acting.accepted += 1
        elif e.action == "resolved":
            acting.resolved += 1
            due = (e.before or {}).get("due_on")
            on_time[acting.agency_id].append(due is None or day(e.at) <= dt.date.fromisoformat(due))
        elif e.action == "rejected":
            acting.rejected += 1
        elif e.action == "referred_to_investigators":
            acting.investigating += 1
    delays: dict[str, list[int]] = {a: [] for a in agency_ids}
    for (case_id, agency_id), first in first_action.items():
        case = cases.get(case_id)
        if case and start <= case.received_on <= end:
            delays[agency_id].append(calendar.working_days_between(case.received_on, first))
    for agency_id, figures in out.items():
        if on_time[agency_id]:
            figures.on_time_percent = round(100 * sum(on_time[agency_id]) / len(on_time[agency_id]), 1)
        if delays[agency_id]:
            figures.median_days_to_first_action = float(statistics.median(delays[agency_id]))
        open_cases = sorted(
            (c for c in cases.values() if c.lead_agency_id == agency_id and c.status not in CLOSED),
            key=lambda c: (c.received_on, c.id),
        )
        figures.overdue = sum(1 for c in open_cases if c.due_on and c.due_on < today and c.paused_at is None)
        figures.watched = sum(1 for c in open_cases if c.watched)
        figures.oldest_open = [(c.code, c.received_on) for c in open_cases[:OLDEST]]
    return out
