"""Targets (chỉ tiêu) of the rules file, achieved against the goal, per agency, for a period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.figures.scorecard import Scorecard, scorecards
from bot.rules import Rules, TargetSpec
from bot.workdays import WorkCalendar

PER_MONTHS = {"year": 12, "half": 6, "quarter": 3, "month": 1}
MONTH_DAYS = 365.25 / 12


@dataclass(frozen=True)
class TargetResult:
    """One agency against one target. For a share, `achieved` and `goal` are percent; for a count, they
    are cases (the goal scaled to the period). `ratio` is achieved / goal in percent either way."""

    target: TargetSpec
    agency_id: str
    done: int  # cases that meet the measure
    counted: int  # cases the measure looks at (a count target: the same as done)
    goal: float

    @property
    def achieved(self) -> float | None:
        if self.target.counts:
            return float(self.done)
        return 100 * self.done / self.counted if self.counted else None

    @property
    def ratio(self) -> float | None:
        """Achieved as a share of the goal; None when nothing is measured or the goal for so short a
        period rounds to nothing (a yearly count over one day)."""
        return None if self.achieved is None or self.goal <= 0 else 100 * self.achieved / self.goal

    @property
    def met(self) -> bool | None:
        return None if self.achieved is None else self.achieved >= self.goal - 1e-9


def in_force(target: TargetSpec, start: dt.date, end: dt.date) -> bool:
    """Whether the target applies to some day of [start, end]."""
    return (target.valid_from or dt.date.min) <= end and start <= (target.valid_to or dt.date.max)


def goal(target: TargetSpec, start: dt.date, end: dt.date) -> float:
    """The target's goal for [start, end]: its percent, or its count scaled from `per` to the period's
    length in months (a calendar year, half, quarter or month counts as exactly that)."""
    if not target.counts:
        assert target.percent is not None
        return target.percent
    assert target.count is not None
    months = ((end - start).days + 1) / MONTH_DAYS
    if abs(months - round(months)) < 0.1:
        months = round(months)
    return round(target.count * months / PER_MONTHS[target.per or "year"], 1)


def measure(target: TargetSpec, card: Scorecard) -> tuple[int, int]:
    """(cases meeting the measure, cases counted) from a scorecard limited to the target's kinds."""
    if target.counts:
        n = int(getattr(card, target.measure))
        return n, n
    if target.measure == "resolved_on_time":
        return card.resolved_on_time, card.resolved
    days = target.within_days or 0
    within = sum(n for d, n in card.first_action.days.items() if d <= days)
    late_without_action = sum(n for d, n in card.awaiting_first_action.days.items() if d > days)
    return within, card.first_action.count + late_without_action


async def evaluate(
    session: AsyncSession,
    rules: Rules,
    calendar: WorkCalendar,
    start: dt.date,
    end: dt.date,
    agency_ids: Sequence[str] | None = None,
    *,
    today: dt.date | None = None,
) -> list[TargetResult]:
    """Every target in force in the period, for each agency it names (or all), limited to `agency_ids`.

    Agencies with nothing to count for a share are left out, so the table lists real results only; a
    count target lists every agency it names, reached or not."""
    results: list[TargetResult] = []
    for target in rules.targets:
        if not in_force(target, start, end):
            continue
        ids = target.agencies or [a.id for a in rules.agencies]
        if agency_ids is not None:
            ids = [a for a in ids if a in agency_ids]
        if not ids:
            continue
        cards = await scorecards(session, rules, calendar, start, end, ids, kinds=target.kinds or None,
                                 today=today)
        wanted = goal(target, start, end)
        for card in cards:
            done, counted = measure(target, card)
            if counted or target.counts:  # none of a count reached is a result; a share of none is not
                results.append(TargetResult(target, card.agency_id, done, counted, wanted))
    return results
