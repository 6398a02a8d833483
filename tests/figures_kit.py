"""A year of cases (2026) for the figures, written as intake and officers leave them, with the expected
figures worked out by hand below each case (working days counted on the Vietnamese calendar)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

from bot.core import Core
from storage.models import AuditEvent, Case, CaseAgency, Reporter

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
TODAY = dt.date(2026, 12, 31)
_codes = (f"F{n:03d}-TEST" for n in itertools.count(1))


def at(day: str, hour: int = 10) -> dt.datetime:
    """A local (Hanoi) moment as UTC."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), HANOI).astimezone(dt.UTC)


def _snap(status: str, lead: str, due: str | None, watched: bool = False) -> dict[str, Any]:
    return {"status": status, "lead": lead, "due_on": due, "stage": None, "watched": watched,
            "cooperating": []}


async def add_case(
    core: Core,
    *,
    kind: str,
    lead: str,
    received: str,
    field: str | None = "dat-dai",
    events: tuple[tuple[str, str, str, dict[str, Any], dict[str, Any], str | None], ...] = (),
    status: str = "new",
    now_lead: str | None = None,
    due: str | None = None,
    watched: bool = False,
    paused: bool = False,
    summary: str = "Cán bộ thu tiền trái phép",
) -> int:
    """A case and its audit trail; each event is (action, agency, local day, before, after, reason)."""
    async with core.sessions() as session, session.begin():
        case = Case(
            code=next(_codes), pin_hash="x", channel="telegram", kind=kind, field=field, summary=summary,
            lead_agency_id=now_lead or lead, received_on=dt.date.fromisoformat(received), status=status,
            due_on=dt.date.fromisoformat(due) if due else None, watched=watched,
            paused_at=at(received) if paused else None, routing={"lead": lead, "explanation": "test"},
            created_at=at(received, 8),
        )
        case.agencies.append(CaseAgency(agency_id=now_lead or lead, role="lead", reason="routing"))
        session.add(case)
        await session.flush()
        session.add(Reporter(case_id=case.id, reporter_key="k", channel="telegram", named=True,
                             identity=core.privacy.seal({"name": "Nguyễn Văn Tố", "phone": "0912345678"})))
        session.add(AuditEvent(case_id=case.id, at=at(received, 8), actor_type="citizen", action="submitted",
                               after={"kind": kind, "lead": lead}, public=True))
        for action, agency, day, before, after, reason in events:
            session.add(AuditEvent(case_id=case.id, at=at(day, 15), actor_type="officer", actor_id="501",
                                   agency_id=agency, action=action, before=before, after=after,
                                   reason=reason))
        return case.id


async def seed_year(core: Core) -> None:
    """Ten cases; see the expected figures in EXPECTED."""
    tt, s = "thanh-tra", _snap
    # C1: complaint, accepted after 2 working days, resolved 20/3 (14 wd) before its due date: on time
    await add_case(core, kind="complaint", lead=tt, received="2026-03-02", status="resolved", events=(
        ("accepted", tt, "2026-03-04", s("new", tt, "2026-03-12"), s("accepted", tt, "2026-03-31"), None),
        ("resolved", tt, "2026-03-20", s("accepted", tt, "2026-03-31"), s("resolved", tt, "2026-03-31"),
         "Đã giải quyết"),
    ))
    # C2: denunciation, accepted the same day (0 wd), resolved 10/7 (29 wd) after its due date 3/7: late
    await add_case(core, kind="denunciation", lead=tt, received="2026-06-01", status="resolved", events=(
        ("accepted", tt, "2026-06-01", s("new", tt, "2026-06-10"), s("accepted", tt, "2026-07-03"), None),
        ("resolved", tt, "2026-07-10", s("accepted", tt, "2026-07-03"), s("resolved", tt, "2026-07-03"),
         "Kết luận tố cáo"),
    ))
    # C3: complaint without a field, rejected as not competent the next working day (1 wd)
    await add_case(core, kind="complaint", lead=tt, received="2026-03-09", field=None, status="rejected",
                   events=(("rejected", tt, "2026-03-10", s("new", tt, "2026-03-19"),
                            s("rejected", tt, "2026-03-19"), "not_competent: không thuộc thẩm quyền"),))
    # C4: corruption tip to Nội chính, transferred to UBKT after 2 wd; UBKT accepts, watch-listed, overdue
    await add_case(core, kind="corruption_tip", lead="noi-chinh", received="2026-09-07", field="xay-dung",
                   status="accepted", now_lead="ubkt", due="2026-10-01", watched=True, events=(
        ("transferred", "noi-chinh", "2026-09-09", s("new", "noi-chinh", "2026-09-21"),
         s("new", "ubkt", "2026-09-21"), "Thuộc thẩm quyền UBKT"),
        ("accepted", "ubkt", "2026-09-10", s("new", "ubkt", "2026-09-21"),
         s("accepted", "ubkt", "2026-10-01"), None),
        ("watched", "noi-chinh", "2026-09-11", s("accepted", "ubkt", "2026-10-01"),
         s("accepted", "ubkt", "2026-10-01", True), None),
    ))
    # C5: petition to MTTQ, nobody acted; overdue since 20/11
    await add_case(core, kind="petition", lead="mttq", received="2026-11-02", field=None, due="2026-11-20")
    # C6: denunciation, the reporter was asked after 2 wd; waiting (paused), so not overdue
    await add_case(core, kind="denunciation", lead=tt, received="2026-10-05", field="xay-dung",
                   status="waiting_info", due="2026-10-20", paused=True, events=(
        ("info_requested", tt, "2026-10-07", s("new", tt, "2026-10-20"), s("waiting_info", tt, "2026-10-20"),
         "Xin bổ sung"),
    ))
    # C7: corruption tip referred to investigators after 2 wd; Công an leads, overdue since 10/6
    await add_case(core, kind="corruption_tip", lead=tt, received="2026-05-11", field=None,
                   status="investigating", now_lead="cong-an", due="2026-06-10", events=(
        ("referred_to_investigators", tt, "2026-05-13", s("new", tt, "2026-05-20"),
         s("investigating", "cong-an", "2026-06-10"), "Có dấu hiệu tội phạm"),
    ))
    # C8: received in 2025, resolved 9/1/2026 (28 wd) before its due date 15/1: on time, counts in 2026
    await add_case(core, kind="complaint", lead=tt, received="2025-12-01", status="resolved", events=(
        ("accepted", tt, "2025-12-02", s("new", tt, "2025-12-10"), s("accepted", tt, "2026-01-15"), None),
        ("resolved", tt, "2026-01-09", s("accepted", tt, "2026-01-15"), s("resolved", tt, "2026-01-15"),
         "Đã giải quyết"),
    ))
    # C9: a duplicate denunciation merged into another case the next working day (1 wd)
    await add_case(core, kind="denunciation", lead=tt, received="2026-06-02", status="merged", events=(
        ("merged", tt, "2026-06-03", s("new", tt, "2026-06-11"), s("merged", tt, "2026-06-11"), "F002-TEST"),
    ))
    # C10: complaint resolved the next working day without any due date running: on time (1 wd)
    await add_case(core, kind="complaint", lead=tt, received="2026-03-02", status="resolved", events=(
        ("resolved", tt, "2026-03-03", s("new", tt, None), s("resolved", tt, None), "Đã trả lời"),
    ))


# Worked out by hand from the cases above, for 2026 with "today" 31/12/2026.
EXPECTED: dict[str, dict[str, Any]] = {
    "thanh-tra": {
        "received": 7,  # C1 C2 C3 C6 C7 C9 C10
        "received_by_kind": {"complaint": 3, "denunciation": 3, "corruption_tip": 1},
        "received_by_field": {"dat-dai": 4, "xay-dung": 1, "": 2},
        "accepted": 2, "transferred_in": 0, "transferred_out": 0,
        "resolved": 4, "resolved_on_time": 3,  # C1 C8 C10 on time, C2 late
        "rejected": 1, "rejected_by_reason": {"not_competent": 1},
        "referred": 1, "merged": 1, "open_now": 1, "overdue_now": 0, "watched_now": 0,
        "first_action": [0, 1, 1, 1, 2, 2, 2],  # C2 0; C3 C9 C10 1; C1 C6 C7 2
        "resolution": [1, 14, 28, 29],  # C10 C1 C8 C2
        "awaiting_first_action": [],
    },
    "noi-chinh": {"received": 1, "transferred_out": 1, "first_action": [2], "open_now": 0},
    "ubkt": {"received": 0, "transferred_in": 1, "accepted": 1, "open_now": 1, "overdue_now": 1,
             "watched_now": 1},
    "cong-an": {"received": 0, "open_now": 1, "overdue_now": 1},
    "mttq": {"received": 1, "open_now": 1, "overdue_now": 1, "first_action": [],
             "awaiting_first_action": [42]},  # C5: 2/11-31/12 is 43 weekdays less 24/11 (Culture Day)
}
