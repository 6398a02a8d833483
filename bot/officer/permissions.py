"""Who may do what to a case: the acting agency, its role, and the refusal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import cards
from bot import status as st
from bot.agencies import agency_of_chat
from bot.core import Core
from bot.i18n import t
from bot.refusals import Refused
from storage.models import Case

INVESTIGATORS = "cong-an"  # Cơ quan điều tra (BLTTHS 2015 Điều 145: receives and resolves crime reports)


PROSECUTORS = "vksnd"  # supervises how crime reports are resolved (BLTTHS 2015 Điều 145 khoản 4, Điều 159)


LEAD_ONLY = frozenset(
    {
        cards.ACCEPT,
        cards.ASK,
        cards.TRANSFER,
        cards.COOPERATE,
        cards.EXTEND,
        cards.REFER,
        cards.REJECT,
        cards.RESOLVE,
        cards.LINK,
        cards.MERGE,
        cards.DIFFERENT,
    }
)


class ActionRefused(Refused):
    """An officer's action that must not happen."""


@dataclass(frozen=True)
class Actor:
    """An officer acting from a chat: the chat decides the agency; the name is shown as the assignee."""

    channel: str
    chat_id: str
    user_id: str
    name: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What the adapter tells the officer at once (the real messages go through the outbox)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    case_code: str | None = None

    def text(self, locale: str = "vi") -> str:
        return t(self.key, locale, **self.params)


@dataclass
class _Ctx:
    session: AsyncSession
    core: Core
    actor: Actor
    case: Case
    agency_id: str
    role: str
    now: dt.datetime
    today: dt.date


_ALLOWED: dict[str, frozenset[str]] = {
    cards.ACCEPT: frozenset({st.NEW}),
    cards.ASK: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING}),
    cards.TRANSFER: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING}),
    cards.COOPERATE: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING}),
    cards.EXTEND: frozenset({st.ACCEPTED, st.INVESTIGATING}),
    cards.WATCH: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING}),
    cards.REFER: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO}),
    cards.REJECT: frozenset({st.NEW, st.WAITING_INFO}),
    cards.RESOLVE: frozenset({st.ACCEPTED, st.INVESTIGATING}),
    cards.COMMENT: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING}),
    cards.LINK: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING}),
    cards.MERGE: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING}),
    cards.DIFFERENT: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING}),
}


async def _acting_agency(session: AsyncSession, actor: Actor) -> str:
    agency_id = await agency_of_chat(session, actor.channel, actor.chat_id)
    if agency_id is None:
        raise ActionRefused("officer.refused.not_bound")
    return agency_id


def _role(case: Case, agency_id: str) -> str | None:
    return next((a.role for a in case.agencies if a.agency_id == agency_id), None)


async def _context(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    case_id: int,
    version: int | None,
    action: str,
    agency_id: str | None = None,
    now: dt.datetime | None = None,
) -> _Ctx:
    """Load the case and check that the actor's agency may do `action` on it at `version`."""
    agency_id = agency_id or await _acting_agency(session, actor)
    case = await session.get(Case, case_id)
    if case is None:
        raise ActionRefused("officer.refused.unknown_case")
    role = _role(case, agency_id)
    if role not in st.HOLDING:
        raise ActionRefused("officer.refused.not_holder")
    if not case.is_open:
        raise ActionRefused("officer.refused.closed", status=t(f"status.{case.status}"))
    if version is not None and version != case.version:
        raise ActionRefused("officer.refused.stale")
    if action in LEAD_ONLY and role != st.LEAD:
        raise ActionRefused("officer.refused.cooperating_only")
    if action == cards.WATCH and role != st.LEAD and not core.rules.agency(agency_id).secretariat:
        raise ActionRefused("officer.refused.cooperating_only")
    if case.status not in _ALLOWED[action]:
        raise ActionRefused("officer.refused.status", status=t(f"status.{case.status}"))
    now = now or core.clock.now()
    return _Ctx(session, core, actor, case, agency_id, role, now, core.calendar.today(now))
