"""Cases linked as one incident: a follower moves with its primary, and each citizen keeps their own code.

An officer links a case to an earlier one of the same incident (or merges it in). From then on the
follower takes the primary's status, deadline and holding agencies whenever the primary changes, and its
reporter gets the same notifications under their own receipt code. A merged case is closed into the
primary but its reporter is still told the outcome.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import status as st
from storage.models import Case, CaseAgency

MAX_DEPTH = 20


async def followers(session: AsyncSession, case: Case) -> list[Case]:
    """The cases linked or merged into `case`."""
    if case.id is None:
        return []
    rows = await session.execute(select(Case).where(Case.duplicate_of_id == case.id).order_by(Case.id))
    return list(rows.scalars())


async def root(session: AsyncSession, case: Case) -> Case:
    """The primary at the top of a chain of links (a case links to its primary's primary)."""
    seen = {case.id}
    while case.duplicate_of_id is not None and len(seen) < MAX_DEPTH:
        parent = await session.get(Case, case.duplicate_of_id)
        if parent is None or parent.id in seen:
            break
        seen.add(parent.id)
        case = parent
    return case


def mirror(primary: Case, follower: Case) -> tuple[str, ...]:
    """Give an open follower the primary's state and holders; the agencies newly holding it."""
    if follower.status == st.MERGED:
        return ()
    for name in ("status", "accepted_on", "stage", "due_on", "extensions", "paused_at", "assignee", "result",
                 "closed_at", "watched", "lead_agency_id"):
        setattr(follower, name, getattr(primary, name))
    wanted = {a.agency_id: a for a in primary.agencies if a.role in st.HOLDING}
    held = {a.agency_id: a for a in follower.agencies}
    new: list[str] = []
    for agency_id, row in wanted.items():
        mine = held.get(agency_id)
        if mine is None:
            follower.agencies.append(CaseAgency(agency_id=agency_id, role=row.role, reason=row.reason))
            new.append(agency_id)
        else:
            if mine.role == st.FORMER:
                new.append(agency_id)
            mine.role = row.role
    for agency_id, mine in held.items():
        if agency_id not in wanted and mine.role != st.FORMER:
            mine.role = st.FORMER
    return tuple(new)
