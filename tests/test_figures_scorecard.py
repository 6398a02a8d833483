"""Scorecards: a year of cases checked against hand-worked figures, and against the audit log itself."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter

import pytest
from sqlalchemy import select

from bot.figures import Durations, scorecards, total
from bot.workdays import WorkCalendar
from storage.models import AuditEvent, Case
from tests import officer_acts as acts
from tests import officer_kit as kit
from tests.figures_kit import EXPECTED, TODAY, YEAR, seed_year


async def _cards(core, start=YEAR[0], end=YEAR[1], **kw):
    async with core.sessions() as session, session.begin():
        return {c.agency_id: c for c in await scorecards(session, core.rules, core.calendar, start, end,
                                                          today=TODAY, **kw)}


async def test_year_scorecards_match_the_hand_worked_figures(core) -> None:
    await seed_year(core)
    cards = await _cards(core)
    assert list(cards) == [a.id for a in core.rules.agencies]
    for agency, expected in EXPECTED.items():
        card = cards[agency]
        for name, value in expected.items():
            if name in ("first_action", "resolution", "awaiting_first_action"):
                assert getattr(card, name).days == dict(Counter(value)), (agency, name)
            else:
                assert getattr(card, name) == value, (agency, name)
    tt = cards["thanh-tra"]
    assert tt.on_time_rate == 75.0
    assert (tt.first_action.median, tt.first_action.p90) == (1, 2)
    assert tt.resolution.median == 21.0 and tt.resolution.p90 == pytest.approx(28.7)
    everyone = total(cards.values())
    assert everyone.received == 9 and everyone.overdue_now == 3 and everyone.resolved == 4
    assert everyone.first_action.count == 8


async def test_period_bounds_and_kinds_filter(core) -> None:
    await seed_year(core)
    march = await _cards(core, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    tt = march["thanh-tra"]
    assert (tt.received, tt.accepted, tt.resolved, tt.rejected) == (3, 1, 2, 1)
    assert tt.received_by_kind == {"complaint": 3}
    denunciations = await _cards(core, kinds=["denunciation"])
    tt = denunciations["thanh-tra"]
    assert (tt.received, tt.resolved, tt.resolved_on_time, tt.merged, tt.open_now) == (3, 1, 0, 1, 1)
    assert tt.on_time_rate == 0.0
    only = await _cards(core, agency_ids=["mttq"])
    assert list(only) == ["mttq"]


async def test_bad_and_empty_input(core) -> None:
    with pytest.raises(ValueError):
        await _cards(core, dt.date(2026, 2, 1), dt.date(2026, 1, 1))
    empty = await _cards(core)
    assert all(c.received == 0 and c.on_time_rate is None and c.first_action.median is None
               for c in empty.values())


def test_percentiles_interpolate_like_a_spreadsheet() -> None:
    values = [3, 1, 4, 1, 5, 9, 2, 6]
    d = Durations(dict(Counter(values)))
    assert d.median == statistics.median(values)
    assert d.p90 == pytest.approx(statistics.quantiles(values, n=10, method="inclusive")[-1])
    assert Durations().p90 is None
    assert (d + Durations({1: 1})).count == 9


# ---- agreement with the audit log -----------------------------------------------------------------------


def _day(moment: dt.datetime, calendar: WorkCalendar) -> dt.date:
    return moment.astimezone(calendar.timezone).date()


async def _from_events(core, start: dt.date, end: dt.date, today: dt.date) -> dict[str, dict]:
    """The figures recomputed in Python from the audit events alone (and the receipt dates)."""
    cal = core.calendar
    async with core.sessions() as session:
        events = list((await session.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars())
        received = dict((await session.execute(select(Case.id, Case.received_on))).all())
    out: dict[str, dict] = {a.id: Counter() for a in core.rules.agencies}
    first: dict[int, dt.datetime] = {}
    lead_at_receipt: dict[int, str] = {}
    last: dict[int, dict] = {}
    for e in events:
        if e.action == "submitted" and "lead" in e.after:
            lead_at_receipt[e.case_id] = e.after["lead"]
        elif e.actor_type == "officer" and e.action not in ("commented", "watched", "unwatched"):
            first.setdefault(e.case_id, e.at)
        if e.after.get("status"):
            last[e.case_id] = e.after
        if not start <= _day(e.at, cal) <= end or e.agency_id not in out:
            continue
        c = out[e.agency_id]
        c[e.action] += 1
        if e.action == "transferred":
            out[e.after["lead"]]["transferred_in"] += 1
        if e.action == "resolved":
            due = e.before.get("due_on")
            c["on_time"] += due is None or _day(e.at, cal).isoformat() <= due
            c.setdefault("resolution", [])
            c["resolution"].append(cal.working_days_between(received[e.case_id], _day(e.at, cal)))
    for case_id, lead in lead_at_receipt.items():
        if start <= received[case_id] <= end:
            out[lead]["received"] += 1
            if case_id in first:
                out[lead].setdefault("first", [])
                days = cal.working_days_between(received[case_id], _day(first[case_id], cal))
                out[lead]["first"].append(days)
    for snap in last.values():
        if snap["status"] in ("new", "accepted", "investigating"):
            out[snap["lead"]]["open"] += 1
            out[snap["lead"]]["overdue"] += bool(snap["due_on"] and snap["due_on"] < today.isoformat())
    return out


async def test_scorecards_agree_with_the_audit_log_after_real_actions(core) -> None:
    await kit.bind_groups(core)
    now = kit.NOW  # Monday 2/3/2026 10:00 in Hanoi
    a = await kit.make_case(core, code="AAAA-AAAA", kind="complaint")
    b = await kit.make_case(core, code="BBBB-BBBB")
    c = await kit.make_case(core, code="CCCC-CCCC")
    d = await kit.make_case(core, code="DDDD-DDDD", lead="noi-chinh", cooperating=())
    async with core.sessions() as session, session.begin():  # the routing decision, as intake records it
        for case in (a, b, c, d):
            row = await session.get(Case, case.id)
            row.routing = {**row.routing, "lead": case.lead_agency_id}
            session.add(AuditEvent(case_id=case.id, at=now, actor_type="citizen", action="submitted",
                                   after={"lead": case.lead_agency_id}))
    tt = kit.officer("thanh-tra")
    await acts.accept(core, tt, a.id, None, now=now + dt.timedelta(days=2))
    case = await kit.load(core, a.id)
    await acts.resolve(core, tt, a.id, case.version, "Đã giải quyết", now=now + dt.timedelta(days=9))
    await acts.reject(core, tt, b.id, None, "insufficient", "thiếu thông tin",
                              now=now + dt.timedelta(days=1))
    await acts.transfer(core, kit.officer("noi-chinh"), d.id, None, "ubkt", "thẩm quyền UBKT",
                                now=now + dt.timedelta(days=3))
    await acts.refer_to_investigators(core, tt, c.id, None, "dấu hiệu tội phạm",
                                              now=now + dt.timedelta(days=4))
    # the audit log dates events by the real clock: count from the cases' receipt up to today
    start, today = dt.date(2026, 3, 1), core.calendar.today()
    end = today
    async with core.sessions() as session:
        cards = {x.agency_id: x for x in await scorecards(session, core.rules, core.calendar, start, end,
                                                           today=today)}
    expected = await _from_events(core, start, end, today)
    for agency, card in cards.items():
        e = expected[agency]
        assert card.received == e["received"], agency
        assert card.accepted == e["accepted"], agency
        assert card.resolved == e["resolved"] and card.resolved_on_time == e["on_time"], agency
        assert card.rejected == e["rejected"] and card.referred == e["referred_to_investigators"], agency
        assert (card.transferred_out, card.transferred_in) == (e["transferred"], e["transferred_in"]), agency
        assert card.open_now == e["open"] and card.overdue_now == e["overdue"], agency
        assert card.first_action.days == dict(Counter(e.get("first", []))), agency
        assert card.resolution.days == dict(Counter(e.get("resolution", []))), agency
    assert cards["thanh-tra"].received == 3 and cards["thanh-tra"].resolved == 1
    assert cards["ubkt"].transferred_in == 1 and cards["cong-an"].open_now == 1
