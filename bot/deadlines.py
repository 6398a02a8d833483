"""Legal deadlines of a case: which policy applies, when each stage is due, extensions and pauses.

The policies are data in the rules file (each with its legal basis and validity dates); this module only
counts. Plain "ngày" in the law is calendar days, "ngày làm việc" working days; a period starts the day
after the event (BLDS 2015 Điều 147) and one ending on a day off ends on the next working day (Điều 148).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from dateutil.relativedelta import relativedelta

from bot.kinds import KINDS
from bot.rules import DeadlinePolicy, Rules, Stage, Text
from bot.workdays import WorkCalendar

Unit = Literal["working_days", "calendar_days", "months"]

_UNIT_WORDS = {"working_days": "working days", "calendar_days": "calendar days", "months": "months"}


class DeadlineError(ValueError):
    """A deadline cannot be computed as asked; the message says why in terms an officer understands."""


class NoPolicyError(DeadlineError):
    """No deadline policy applies to a kind on a date."""


class ExtensionLimitError(DeadlineError):
    """The law's maximum number of extensions for a stage is used up."""


@dataclass(frozen=True)
class StageDue:
    """When one stage of a case is due, and from what date and rule that follows."""

    stage: str
    name: Text
    unit: Unit
    days: int
    start: str  # what the stage counts from: received | accepted | previous
    start_from: dt.date
    due: dt.date
    basis: str
    policy: str
    estimated: bool = False  # start_from is the latest the event may happen, not its real date
    raw_due: dt.date | None = None  # the end of the count before a day off moved it; None when not moved
    day_off: str | None = None  # why raw_due was not a working day

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "name": self.name.vi,
            "name_en": self.name.get("en"),
            "policy": self.policy,
            "start": self.start,
            "start_from": self.start_from.isoformat(),
            "due": self.due.isoformat(),
            "days": self.days,
            "unit": self.unit,
            "basis": self.basis,
            "estimated": self.estimated,
            "raw_due": (self.raw_due or self.due).isoformat(),
            "moved_because": self.day_off,
        }

    def describe(self) -> str:
        """One line for people with every step: the start, the count, where the count ends, and when that
        is a day off, the move to the next working day and why (BLDS 2015 Điều 148)."""
        source = self.start_from.isoformat()
        if self.estimated:
            source += " (the latest possible start: the acceptance date is not known yet)"
        count = f"{self.days} {_UNIT_WORDS[self.unit]} from {source}"
        if self.unit == "working_days":
            count += ", skipping weekends and holidays"
        if self.raw_due is not None and self.raw_due != self.due:
            count += (f" run to {self.raw_due.isoformat()}, a day off ({self.day_off}), so the deadline moves"
                      f" to the next working day (BLDS 2015 Điều 148)")
        return f"{self.stage:<10}  {self.due.isoformat()}  ({count}; {self.basis})"


def _covers(policy: DeadlinePolicy, on: dt.date) -> bool:
    return policy.valid_from <= on and (policy.valid_to is None or on <= policy.valid_to)


def _validity(policy: DeadlinePolicy) -> str:
    return f"{policy.id} ({policy.valid_from} to {policy.valid_to or 'now'})"


def _rule_policy(rules: Rules, rule_id: str, on: dt.date) -> DeadlinePolicy | None:
    """The policy a routing rule names, if it names one that is in force on the date."""
    rule = next((r for r in rules.routing if r.id == rule_id), None)
    if rule is None:
        raise DeadlineError(f"unknown routing rule {rule_id!r}")
    if rule.deadline_policy is None:
        return None
    policy = next((p for p in rules.deadlines if p.id == rule.deadline_policy), None)
    if policy is None:
        raise DeadlineError(
            f"routing rule {rule_id!r} names unknown deadline policy {rule.deadline_policy!r}")
    return policy if _covers(policy, on) else None


def policy_for(rules: Rules, kind: str, on: dt.date, rule_id: str | None = None) -> DeadlinePolicy:
    """The policy for a case received on `on`: the routing rule's own policy first, else the kind's.

    The policy in force on the date of receipt applies, so cases received before a law changed keep
    their old deadlines; should two overlap, the newer one wins.
    """
    if kind not in KINDS:
        raise NoPolicyError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if rule_id is not None and (policy := _rule_policy(rules, rule_id, on)) is not None:
        return policy
    of_kind = [p for p in rules.deadlines if kind in p.kinds]
    in_force = [p for p in of_kind if _covers(p, on)]
    if in_force:
        return max(in_force, key=lambda p: p.valid_from)
    known = "; ".join(_validity(p) for p in of_kind) or "none"
    raise NoPolicyError(f"no deadline policy for kind {kind!r} is in force on {on.isoformat()} "
                        f"(policies for this kind: {known})")


def _add(calendar: WorkCalendar, start: dt.date, n: int, unit: Unit) -> dt.date:
    if unit == "working_days":
        return calendar.add_working_days(start, n)
    if unit == "months":
        return calendar.add_months(start, n)
    return calendar.add_calendar_days(start, n)


def _raw_end(start: dt.date, n: int, unit: Unit) -> dt.date:
    """Where a count ends before any move off a day off (a working-day count never ends on one)."""
    if unit == "months":
        return start + relativedelta(months=n)
    if unit == "calendar_days":
        return start + dt.timedelta(days=n)
    return start


def _day_off(calendar: WorkCalendar, day: dt.date) -> str | None:
    """Why a day is off, in words: a weekday name at the weekend, else the holiday's name."""
    name = calendar.day_off_name(day)
    if name is None:
        return None
    return day.strftime("%A") if day.weekday() >= 5 and name == "Nghỉ cuối tuần" else name


def _limit(stage: Stage, complex: bool) -> tuple[int, Unit]:
    """The stage's time limit as (amount, unit); complex cases get the longer limit where the law has one."""
    if complex and stage.complex_days is not None:
        return stage.complex_days, stage.complex_unit or stage.unit
    return stage.days, stage.unit


def stage_due(stage: Stage, start: dt.date, calendar: WorkCalendar, complex: bool = False) -> dt.date:
    """When a stage that starts on `start` is due."""
    amount, unit = _limit(stage, complex)
    return _add(calendar, start, amount, unit)


def extend(due: dt.date, stage: Stage, calendar: WorkCalendar, times_already: int) -> dt.date:
    """The due date after one more extension (gia hạn), counted from the current due date."""
    if times_already < 0:
        raise ValueError("times_already must not be negative")
    if stage.max_extensions == 0 or stage.extension_days is None:
        raise ExtensionLimitError(f"stage {stage.id!r} cannot be extended: the law allows no extension")
    if times_already >= stage.max_extensions:
        raise ExtensionLimitError(
            f"stage {stage.id!r} was already extended {times_already} time(s); "
            f"the law allows at most {stage.max_extensions}")
    return _add(calendar, due, stage.extension_days, stage.extension_unit or stage.unit)


def resume(due: dt.date, paused_from: dt.date, resumed_on: dt.date, unit: Unit,
           calendar: WorkCalendar) -> dt.date:
    """The due date after the clock stood still while the agency waited for the citizen.

    A working-day stage loses the working days paused, other stages the calendar days paused; the
    days counted are those after `paused_from` up to and including `resumed_on`.
    """
    if resumed_on < paused_from:
        raise ValueError(f"resumed on {resumed_on} before the pause began on {paused_from}")
    if unit == "working_days":
        return calendar.add_working_days(due, calendar.working_days_between(paused_from, resumed_on))
    return calendar.add_calendar_days(due, (resumed_on - paused_from).days)


def schedule(rules: Rules, kind: str, start: dt.date, calendar: WorkCalendar, *,
             rule_id: str | None = None, accepted_on: dt.date | None = None,
             complex: bool = False) -> list[StageDue]:
    """The due date of every stage of a case of `kind` received on `start`.

    A stage that counts from acceptance (thụ lý) uses `accepted_on` when known; otherwise it counts
    from the previous stage's due date, the latest acceptance the law allows, and says it is estimated.
    """
    if accepted_on is not None and accepted_on < start:
        raise DeadlineError(f"accepted on {accepted_on} before it was received on {start}")
    policy = policy_for(rules, kind, start, rule_id)
    result: list[StageDue] = []
    for stage in policy.stages:
        base, estimated = _stage_start(stage, start, accepted_on, result[-1] if result else None)
        amount, unit = _limit(stage, complex)
        due = _add(calendar, base, amount, unit)
        raw = _raw_end(base, amount, unit) if unit != "working_days" else due
        result.append(StageDue(
            stage=stage.id, name=stage.name, unit=unit, days=amount, start=stage.start,
            start_from=base, due=due, basis=stage.basis or policy.basis,
            policy=policy.id, estimated=estimated, raw_due=raw if raw != due else None,
            day_off=_day_off(calendar, raw) if raw != due else None))
    return result


def _stage_start(stage: Stage, received: dt.date, accepted_on: dt.date | None,
                 previous: StageDue | None) -> tuple[dt.date, bool]:
    """The date a stage counts from, and whether that date is an estimate."""
    if stage.start == "received":
        return received, False
    if stage.start == "accepted" and accepted_on is not None:
        return accepted_on, False
    if previous is None:
        return received, stage.start == "accepted"
    return previous.due, stage.start == "accepted" or previous.estimated


def stage_of(rules: Rules, kind: str, received_on: dt.date, rule_id: str | None,
             stage_id: str | None) -> tuple[Stage, DeadlinePolicy] | None:
    """A case's stage and its policy: looked up in the policy the case runs under (stage ids such as
    `classify` recur across policies with other names and bases), else in any policy."""
    try:
        own = [policy_for(rules, kind, received_on, rule_id)]
    except DeadlineError:
        own = []
    for policy in [*own, *rules.deadlines]:
        for stage in policy.stages:
            if stage.id == stage_id:
                return stage, policy
    return None
