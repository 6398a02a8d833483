"""The bot's clock moves only when built movable, only forward; working hours wait for the next morning."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.clock import Clock, ClockLocked
from bot.workdays import WorkCalendar

HANOI = dt.timezone(dt.timedelta(hours=7))


def test_production_clock_refuses_to_move() -> None:
    clock = Clock()
    with pytest.raises(ClockLocked):
        clock.advance(dt.timedelta(days=1))
    with pytest.raises(ClockLocked):
        clock.set(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))


def test_movable_clock_moves_forward_only() -> None:
    clock = Clock(movable=True)
    before = clock.now()
    after = clock.advance(dt.timedelta(days=3))
    assert dt.timedelta(days=3) <= after - before < dt.timedelta(days=3, seconds=5)
    target = dt.datetime(2031, 5, 4, 9, 0, tzinfo=dt.UTC)
    assert abs(clock.set(target) - target) < dt.timedelta(seconds=1)
    with pytest.raises(ValueError):
        clock.set(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    with pytest.raises(ValueError):
        clock.advance(dt.timedelta(seconds=-1))


def test_a_movable_clock_may_start_in_the_past_and_then_only_moves_forward() -> None:
    """A story or a test replays a fixed day, which the calendar has long left behind."""
    start = dt.datetime(2020, 3, 2, 3, 0, tzinfo=dt.UTC)
    clock = Clock(movable=True, start=start)
    assert dt.timedelta(0) <= clock.now() - start < dt.timedelta(seconds=5)
    assert clock.advance(dt.timedelta(hours=1)) - start >= dt.timedelta(hours=1)
    with pytest.raises(ValueError):
        clock.set(start)
    with pytest.raises(ClockLocked):
        Clock(start=start)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (dt.datetime(2026, 11, 26, 10, 30, tzinfo=HANOI), dt.datetime(2026, 11, 26, 10, 30, tzinfo=HANOI)),
        # at night: the next morning at 08:00
        (dt.datetime(2026, 11, 25, 22, 0, tzinfo=HANOI), dt.datetime(2026, 11, 26, 8, 0, tzinfo=HANOI)),
        # before opening on a working day: that morning
        (dt.datetime(2026, 11, 25, 5, 0, tzinfo=HANOI), dt.datetime(2026, 11, 25, 8, 0, tzinfo=HANOI)),
        # Saturday: Monday morning
        (dt.datetime(2026, 11, 28, 10, 0, tzinfo=HANOI), dt.datetime(2026, 11, 30, 8, 0, tzinfo=HANOI)),
        # Tết 2027 (6-10 Feb are days off): the first working day after
        (dt.datetime(2027, 2, 6, 9, 0, tzinfo=HANOI), dt.datetime(2027, 2, 11, 8, 0, tzinfo=HANOI)),
    ],
)
def test_working_time_waits_for_a_working_morning(local: dt.datetime, expected: dt.datetime) -> None:
    calendar = WorkCalendar()
    assert calendar.working_time(local) == expected.astimezone(dt.UTC)


async def test_a_moved_clock_dates_actions_and_so_the_figures(core) -> None:
    """In the demo the clock moves: an officer's action is dated by it, and the figures, counted from the
    audit log, follow (they used to stay on the real day)."""
    from sqlalchemy import select

    from bot.core import Core
    from bot.figures import scorecards
    from storage.models import AuditEvent
    from tests import officer_acts as acts
    from tests.officer_kit import bind_groups, make_case, officer

    demo = Core(settings=core.settings, rules=core.rules, sessions=core.sessions, privacy=core.privacy,
                calendar=core.calendar, clock=Clock(movable=True))
    moved = demo.clock.set(dt.datetime(2031, 5, 12, 3, 0, tzinfo=dt.UTC))
    await bind_groups(demo)
    case = await make_case(demo)
    await acts.accept(demo, officer("thanh-tra"), case.id, case.version)
    async with demo.sessions() as session:
        accepted = (await session.execute(
            select(AuditEvent.at).where(AuditEvent.case_id == case.id, AuditEvent.action == "accepted")
        )).scalar_one()
    assert abs((accepted.replace(tzinfo=dt.UTC) if accepted.tzinfo is None else accepted) - moved) < \
        dt.timedelta(minutes=1)
    async with demo.sessions() as session, session.begin():
        may = (dt.date(2031, 5, 1), dt.date(2031, 5, 31))
        [then] = await scorecards(session, demo.rules, demo.calendar, *may, ["thanh-tra"])
        [today] = await scorecards(session, demo.rules, demo.calendar, *(2 * [dt.date.today()]),
                                   ["thanh-tra"])
    assert (then.accepted, today.accepted) == (1, 0)
