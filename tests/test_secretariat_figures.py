"""The agenda's figures per agency, counted from cases and their audit log over a period."""

from __future__ import annotations

import datetime as dt

from bot.secretariat.agency_figures import compute
from storage.models import AuditEvent, Case, CaseAgency
from tests.secretariat_kit import local

START, END, TODAY = dt.date(2026, 11, 1), dt.date(2026, 11, 30), dt.date(2026, 11, 30)


def _case(
    code: str,
    lead: str,
    received: dt.date,
    status: str = "accepted",
    due: dt.date | None = None,
    holders: tuple[tuple[str, str], ...] = (),
) -> Case:
    case = Case(
        code=code,
        pin_hash="x",
        channel="telegram",
        kind="denunciation",
        summary="...",
        lead_agency_id=lead,
        received_on=received,
        status=status,
        due_on=due,
    )
    case.agencies = [CaseAgency(agency_id=a, role=r) for a, r in holders or ((lead, "lead"),)]
    case.routing = {"lead": case.agencies[0].agency_id}  # the agency it was first routed to
    return case


def _event(case: Case, agency: str, action: str, at: dt.datetime, **extra) -> AuditEvent:
    return AuditEvent(case_id=case.id, actor_type="officer", agency_id=agency, action=action, at=at, **extra)


async def test_received_transfers_outcomes_timeliness_and_first_action(core):
    async with core.sessions() as session, session.begin():
        moved = _case(
            "MOVE-0001",
            "cong-an",
            dt.date(2026, 11, 2),
            "investigating",
            holders=(("thanh-tra", "former"), ("cong-an", "lead")),
        )
        rejected = _case("REJE-0001", "thanh-tra", dt.date(2026, 11, 3), "rejected")
        late = _case("LATE-0001", "thanh-tra", dt.date(2026, 11, 3), "resolved")
        on_time = _case("ONTI-0001", "thanh-tra", dt.date(2026, 11, 4), "resolved")
        overdue = _case("OVER-0001", "thanh-tra", dt.date(2026, 10, 1), "accepted", due=dt.date(2026, 11, 20))
        session.add_all([moved, rejected, late, on_time, overdue])
        await session.flush()
        session.add_all(
            [
                _event(moved, "thanh-tra", "transferred", local(2026, 11, 4, 9), after={"lead": "cong-an"}),
                _event(moved, "cong-an", "referred_to_investigators", local(2026, 11, 5, 9)),
                _event(rejected, "thanh-tra", "rejected", local(2026, 11, 10, 9)),
                _event(late, "thanh-tra", "accepted", local(2026, 11, 4, 15)),
                _event(
                    late, "thanh-tra", "resolved", local(2026, 11, 20, 9), before={"due_on": "2026-11-13"}
                ),
                _event(on_time, "thanh-tra", "accepted", local(2026, 11, 5, 9)),
                _event(
                    on_time, "thanh-tra", "resolved", local(2026, 11, 12, 9), before={"due_on": "2026-11-13"}
                ),
                _event(overdue, "thanh-tra", "accepted", local(2026, 10, 2, 9)),  # before the period
            ]
        )
    async with core.sessions() as session:
        figures = await compute(
            session, core.rules, core.calendar, ["thanh-tra", "cong-an", "ubkt"], START, END, TODAY
        )
    inspectorate, police, party = figures["thanh-tra"], figures["cong-an"], figures["ubkt"]
    assert (inspectorate.received, inspectorate.accepted, inspectorate.transferred_out) == (4, 2, 1)
    assert (inspectorate.resolved, inspectorate.rejected, inspectorate.overdue) == (2, 1, 1)
    assert inspectorate.on_time_percent == 50.0
    # first actions, in working days from receipt: moved 2, rejected 5, late 1, on time 1
    assert inspectorate.median_days_to_first_action == 1.5
    assert inspectorate.oldest_open == [("OVER-0001", dt.date(2026, 10, 1))]
    assert (police.received, police.transferred_in, police.investigating) == (0, 1, 1)
    assert police.median_days_to_first_action is None  # counted for the agency that received the case
    assert police.oldest_open == [("MOVE-0001", dt.date(2026, 11, 2))]
    assert (party.received, party.on_time_percent, party.median_days_to_first_action) == (0, None, None)
