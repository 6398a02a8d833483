"""An agency's scorecard for a period, counted in SQL from the cases and the audit log.

What counts where (dates are local; an action counts in the period of its audit event):
- received, by kind and field: cases received in the period, for the agency they were first routed to;
- accepted, transferred out, resolved, rejected (by reason), referred to investigators, merged as
  duplicates: audit events of that action by the agency; transferred in: transfers naming it the lead;
- resolved on time: resolved on or before the due date running at that moment (no due date: on time);
- first action: working days from receipt to the first officer action (accept, ask, transfer, refer,
  reject, resolve, merge) on cases received in the period; resolution: receipt to the resolution;
  awaiting first action: the age on `today`, in working days, of the period's cases nobody acted on yet;
- open, overdue, watched: the agency's open cases as they stand on `today` (paused cases are not overdue).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Date, and_, case, cast, func, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot import status as st
from bot.cards import REJECT_REASONS
from bot.figures.day_index import ensure_days
from bot.rules import Rules
from bot.workdays import WorkCalendar
from storage.models import AuditEvent, Case, WorkDay

OPEN_STATUSES = (st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING)
FIRST_ACTIONS = (
    "accepted", "info_requested", "transferred", "referred_to_investigators", "rejected", "resolved",
    "merged", "linked",
)
ALL_KINDS = literal(True)  # the kind filter that keeps every case
COUNTED = ("accepted", "transferred", "resolved", "rejected", "referred_to_investigators", "merged")


@dataclass(frozen=True)
class Durations:
    """A distribution of durations in working days, kept whole so agencies' figures can be added."""

    days: dict[int, int] = field(default_factory=dict)  # working days -> number of cases

    @property
    def count(self) -> int:
        return sum(self.days.values())

    def percentile(self, q: float) -> float | None:
        """The q-quantile (0..1), interpolated between neighbours as spreadsheets do; None when empty."""
        n = self.count
        if n == 0:
            return None
        pos = q * (n - 1)
        lower, upper = int(pos), min(int(pos) + 1, n - 1)
        lo_value = hi_value = None
        seen = 0
        for value in sorted(self.days):
            seen += self.days[value]
            if lo_value is None and seen > lower:
                lo_value = value
            if seen > upper:
                hi_value = value
                break
        assert lo_value is not None and hi_value is not None
        return lo_value + (hi_value - lo_value) * (pos - lower)

    @property
    def median(self) -> float | None:
        return self.percentile(0.5)

    @property
    def p90(self) -> float | None:
        return self.percentile(0.9)

    def __add__(self, other: Durations) -> Durations:
        return Durations(dict(Counter(self.days) + Counter(other.days)))


@dataclass
class Scorecard:
    """The figures of one agency (or "all" for the sum) over [start, end]."""

    agency_id: str
    start: dt.date
    end: dt.date
    received: int = 0
    received_by_kind: dict[str, int] = field(default_factory=dict)
    received_by_field: dict[str, int] = field(default_factory=dict)  # "" when no field was found
    accepted: int = 0
    transferred_in: int = 0
    transferred_out: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    referred: int = 0  # to investigators
    merged: int = 0  # duplicates merged into another case
    open_now: int = 0
    overdue_now: int = 0
    watched_now: int = 0
    first_action: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)
    awaiting_first_action: Durations = field(default_factory=Durations)  # age on `today`, no action yet

    @property
    def on_time_rate(self) -> float | None:
        """Percent of the cases resolved in the period that were resolved on time; None without any."""
        return 100 * self.resolved_on_time / self.resolved if self.resolved else None


_SUMMED = ("received", "accepted", "transferred_in", "transferred_out", "resolved", "resolved_on_time",
           "rejected", "referred", "merged", "open_now", "overdue_now", "watched_now")
_MAPS = ("received_by_kind", "received_by_field", "rejected_by_reason")


def total(cards: Iterable[Scorecard], agency_id: str = "all") -> Scorecard:
    """The sum of several scorecards of one period (for the secretariat's all-agencies line)."""
    cards = list(cards)
    start, end = (cards[0].start, cards[0].end) if cards else (dt.date.min, dt.date.min)
    out = Scorecard(agency_id, start, end)
    for card in cards:
        for name in _SUMMED:
            setattr(out, name, getattr(out, name) + getattr(card, name))
        for name in _MAPS:
            setattr(out, name, dict(Counter(getattr(out, name)) + Counter(getattr(card, name))))
        out.first_action = out.first_action + card.first_action
        out.resolution = out.resolution + card.resolution
        out.awaiting_first_action = out.awaiting_first_action + card.awaiting_first_action
    return out


# ---- SQL pieces -----------------------------------------------------------------------------------------


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name


def _local_day(session: AsyncSession, calendar: WorkCalendar, column: Any, near: dt.date) -> Any:
    """The local date of a UTC timestamp column, comparable with Date columns on each backend."""
    if _dialect(session) == "postgresql":
        return cast(func.timezone(calendar.timezone.key, column), Date)
    offset = calendar.timezone.utcoffset(dt.datetime.combine(near, dt.time(12)))
    minutes = int(offset.total_seconds() // 60) if offset else 0
    return func.date(column, f"{minutes:+d} minutes")


def _json_day(session: AsyncSession, value: Any) -> Any:
    """An ISO date held in JSON, comparable with `_local_day`."""
    return cast(value, Date) if _dialect(session) == "postgresql" else value


def _first_lead() -> Any:
    """The agency a case was first routed to (the routing decision), else its lead."""
    return func.coalesce(Case.routing["lead"].as_string(), Case.lead_agency_id)


def _of_kinds(query: Any, kind_filter: Any) -> Any:
    """Audit events of the chosen kinds of report only (no join at all when every kind counts)."""
    if kind_filter is ALL_KINDS:
        return query
    return query.join(Case, Case.id == AuditEvent.case_id).where(kind_filter)


def _bounds(calendar: WorkCalendar, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, the day after end 00:00) local, in UTC: index-friendly bounds for event times."""
    tz = calendar.timezone
    lo = dt.datetime.combine(start, dt.time(), tz).astimezone(dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)
    return lo, hi


async def scorecards(
    session: AsyncSession,
    rules: Rules,
    calendar: WorkCalendar,
    start: dt.date,
    end: dt.date,
    agency_ids: Sequence[str] | None = None,
    *,
    kinds: Sequence[str] | None = None,
    today: dt.date | None = None,
) -> list[Scorecard]:
    """One scorecard per agency (the rules' order; `agency_ids` to choose), over [start, end] inclusive.

    `kinds` limits every figure to those kinds of report; `today` is the day the "now" figures
    (open, overdue, watched) are taken on (default: the calendar's today).
    """
    if end < start:
        raise ValueError("the period ends before it starts")
    ids = list(agency_ids) if agency_ids is not None else [a.id for a in rules.agencies]
    today = today or calendar.today()
    cards = {a: Scorecard(a, start, end) for a in ids}
    if not ids:
        return []
    earliest = (await session.execute(select(func.min(Case.received_on)))).scalar_one()
    if earliest is None:
        return list(cards.values())
    # events are dated by the real clock, a moved (demo) clock or `today` may be ahead: cover a year more
    latest = max(end, today, calendar.today()) + dt.timedelta(days=400)
    key = await ensure_days(session, calendar, min(earliest, start), latest)
    kind_filter = Case.kind.in_(tuple(kinds)) if kinds else ALL_KINDS
    if _dialect(session) == "postgresql":  # the per-case aggregates fit in memory instead of spilling
        await session.execute(text("SET LOCAL work_mem = '64MB'"))
    await _received(session, cards, start, end, kind_filter)
    await _events(session, cards, calendar, start, end, kind_filter, key)
    await _now(session, cards, today, kind_filter)
    await _first_actions(session, cards, calendar, start, end, kind_filter, key, today)
    return list(cards.values())


async def _received(session: AsyncSession, cards: dict[str, Scorecard], start: dt.date, end: dt.date,
                    kind_filter: Any) -> None:
    lead = _first_lead().label("lead")
    rows = await session.execute(
        select(lead, Case.kind, Case.field, func.count())
        .where(Case.received_on >= start, Case.received_on <= end, kind_filter)
        .group_by(lead, Case.kind, Case.field)
    )
    for agency, kind, field_id, n in rows:
        card = cards.get(agency)
        if card is None:
            continue
        card.received += n
        card.received_by_kind[kind] = card.received_by_kind.get(kind, 0) + n
        card.received_by_field[field_id or ""] = card.received_by_field.get(field_id or "", 0) + n


async def _events(session: AsyncSession, cards: dict[str, Scorecard], calendar: WorkCalendar,
                  start: dt.date, end: dt.date, kind_filter: Any, key: str) -> None:
    lo, hi = _bounds(calendar, start, end)
    in_period = and_(AuditEvent.at >= lo, AuditEvent.at < hi)
    reason = case(
        *[(AuditEvent.reason.like(f"{code}:%"), literal(code)) for code in REJECT_REASONS],
        else_=literal(""),
    ).label("reason")
    rows = await session.execute(_of_kinds(
        select(AuditEvent.agency_id, AuditEvent.action, reason, func.count())
        .where(AuditEvent.action.in_(COUNTED), in_period)
        .group_by(AuditEvent.agency_id, AuditEvent.action, reason), kind_filter
    ))
    for agency, action, why, n in rows:
        card = cards.get(agency)
        if card is None or action == "resolved":
            continue
        if action == "accepted":
            card.accepted += n
        elif action == "transferred":
            card.transferred_out += n
        elif action == "rejected":
            card.rejected += n
            card.rejected_by_reason[why or "other"] = card.rejected_by_reason.get(why or "other", 0) + n
        elif action == "referred_to_investigators":
            card.referred += n
        elif action == "merged":
            card.merged += n
    target = AuditEvent.after["lead"].as_string().label("target")
    rows = await session.execute(_of_kinds(
        select(target, func.count())
        .where(AuditEvent.action == "transferred", in_period)
        .group_by(target), kind_filter
    ))
    for agency, n in rows:
        if agency in cards:
            cards[agency].transferred_in += n
    # resolutions: how many, how many on time, and the working days from receipt
    day = _local_day(session, calendar, AuditEvent.at, start)
    due = _json_day(session, AuditEvent.before["due_on"].as_string())
    on_time = case((or_(due.is_(None), day <= due), 1), else_=0).label("on_time")
    # grouped by (receipt day, resolution day) first, so the working-day index is read once a pair
    pairs = (
        select(AuditEvent.agency_id.label("agency"), on_time, Case.received_on.label("got_on"),
               day.label("done_on"), func.count().label("n"))
        .join(Case, Case.id == AuditEvent.case_id)
        .where(AuditEvent.action == "resolved", in_period, kind_filter)
        .group_by(AuditEvent.agency_id, on_time, Case.received_on, day)
        .subquery()
    )
    got, done = aliased(WorkDay), aliased(WorkDay)
    days = (done.ordinal - got.ordinal).label("days")
    rows = await session.execute(
        select(pairs.c.agency, pairs.c.on_time, days, func.sum(pairs.c.n))
        .join(got, and_(got.calendar == key, got.day == pairs.c.got_on))
        .join(done, and_(done.calendar == key, done.day == pairs.c.done_on))
        .group_by(pairs.c.agency, pairs.c.on_time, days)
    )
    hist: dict[str, Counter[int]] = {}
    for agency, punctual, n_days, total_n in rows:
        card, n = cards.get(agency), int(total_n)
        if card is None:
            continue
        card.resolved += n
        card.resolved_on_time += n if punctual else 0
        hist.setdefault(agency, Counter())[int(n_days)] += int(n)
    for agency, counter in hist.items():
        cards[agency].resolution = Durations(dict(counter))


async def _now(session: AsyncSession, cards: dict[str, Scorecard], today: dt.date, kind_filter: Any) -> None:
    overdue = case((and_(Case.due_on < today, Case.paused_at.is_(None)), 1), else_=0)
    watched = case((Case.watched.is_(True), 1), else_=0)
    rows = await session.execute(
        select(Case.lead_agency_id, func.count(), func.sum(overdue), func.sum(watched))
        .where(Case.status.in_(OPEN_STATUSES), kind_filter)
        .group_by(Case.lead_agency_id)
    )
    for agency, n, late, watch in rows:
        card = cards.get(agency)
        if card is not None:
            card.open_now, card.overdue_now, card.watched_now = n, int(late or 0), int(watch or 0)


async def _first_actions(session: AsyncSession, cards: dict[str, Scorecard], calendar: WorkCalendar,
                         start: dt.date, end: dt.date, kind_filter: Any, key: str, today: dt.date) -> None:
    # one pass over the period's cases and their officers' actions: the first action's time per case
    # (none yet: NULL), then grouped by (first lead, receipt day, action day), so that the working-day
    # index is read once a pair of days rather than once a case
    officers = and_(AuditEvent.case_id == Case.id, AuditEvent.action.in_(FIRST_ACTIONS),
                    AuditEvent.actor_type == "officer")
    lead = _first_lead().label("lead")
    first = (
        select(lead, Case.received_on.label("got_on"), func.min(AuditEvent.at).label("first_at"))
        .select_from(Case)
        .outerjoin(AuditEvent, officers)
        .where(Case.received_on >= start, Case.received_on <= end, kind_filter)
        .group_by(Case.id, lead, Case.received_on)
        .subquery()
    )
    acted_on = _local_day(session, calendar, first.c.first_at, start)
    pairs = (
        select(first.c.lead, first.c.got_on, acted_on.label("acted_on"), func.count().label("n"))
        .group_by(first.c.lead, first.c.got_on, acted_on)
        .subquery()
    )
    got, acted, now = aliased(WorkDay), aliased(WorkDay), aliased(WorkDay)
    waiting = pairs.c.acted_on.is_(None).label("waiting")
    days = (func.coalesce(acted.ordinal, now.ordinal) - got.ordinal).label("days")
    rows = await session.execute(
        select(pairs.c.lead, waiting, days, func.sum(pairs.c.n))
        .join(got, and_(got.calendar == key, got.day == pairs.c.got_on))
        .join(now, and_(now.calendar == key, now.day == today))
        .outerjoin(acted, and_(acted.calendar == key, acted.day == pairs.c.acted_on))
        .group_by(pairs.c.lead, waiting, days)
    )
    acting: dict[str, Counter[int]] = {}
    idle: dict[str, Counter[int]] = {}
    for agency, is_waiting, n_days, n in rows:
        if agency in cards:
            (idle if is_waiting else acting).setdefault(agency, Counter())[int(n_days)] += int(n)
    for agency, counter in acting.items():
        cards[agency].first_action = Durations(dict(counter))
    for agency, counter in idle.items():
        cards[agency].awaiting_first_action = Durations(dict(counter))
