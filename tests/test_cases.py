"""Filing, looking up and adding to cases as services, without the dialogue."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot import cases, pin_guard
from bot.cases import Citizen, Draft, Evidence
from storage.models import AgencyChat, AuditEvent, Case, CaseAgency, LookupFailure, OutboxMessage, Reporter

ME = Citizen("telegram", "10", "10")
DRAFT = Draft(
    kind="crime_report",
    summary="Có nhóm người tổ chức đánh bạc và cho vay nặng lãi ở chợ",
    area="6688",
    area_name="Phường Hạ Long",
    files=(Evidence("video", "vid-1", "u1", 1000, "video/mp4"),),
    named=True,
    name="Đỗ Văn Giang",
    phone="0911111111",
    address="Hạ Long",
)


async def file(core, draft: Draft = DRAFT, sender: Citizen = ME) -> cases.Filed:
    async with core.sessions() as s, s.begin():
        return await cases.submit(s, core, sender, draft)


async def test_submit_stores_routes_seals_and_queues_in_one_transaction(core):
    async with core.sessions() as s, s.begin():
        s.add(AgencyChat(agency_id="cong-an", channel="telegram", chat_id="-1"))
        s.add(AgencyChat(agency_id="vksnd", channel="telegram", chat_id="-2"))
    filed = await file(core)
    async with core.sessions() as s:
        case = await s.get(Case, filed.case.id)
        holders = {(a.agency_id, a.role) for a in (await s.execute(select(CaseAgency))).scalars()}
        reporter = (await s.execute(select(Reporter))).scalar_one()
        keys = sorted(r.idempotency_key for r in (await s.execute(select(OutboxMessage))).scalars())
    assert holders == {("cong-an", "lead"), ("vksnd", "cooperating")}
    assert keys == sorted(
        [
            f"card:{case.id}:cong-an",
            f"card:{case.id}:vksnd",
            f"media:{case.id}:cong-an",
            f"media:{case.id}:vksnd",
        ]
    )
    assert core.privacy.open(reporter.identity)["name"] == "Đỗ Văn Giang" and reporter.named
    assert reporter.reporter_key == core.privacy.key_for("telegram", "10")
    assert case.due_on and case.stage and filed.delivered_to == ["cong-an", "vksnd"] and filed.unbound == []
    assert len(filed.pin) == 6 and case.pin_hash != filed.pin


async def test_a_failure_while_filing_stores_nothing(core, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("card broke")

    async with core.sessions() as s, s.begin():
        s.add(AgencyChat(agency_id="cong-an", channel="telegram", chat_id="-1"))
    monkeypatch.setattr(cases, "card_payload", broken)
    with pytest.raises(RuntimeError):
        await file(core)
    async with core.sessions() as s:
        for model in (Case, Reporter, AuditEvent, OutboxMessage):
            assert (await s.execute(select(func.count()).select_from(model))).scalar_one() == 0


async def test_unknown_code_runs_the_pin_check_too(core, monkeypatch):
    filed = await file(core)
    checked: list[str] = []
    real = pin_guard.check_pin
    monkeypatch.setattr(pin_guard, "check_pin",
                        lambda pin, stored: checked.append(stored) or real(pin, stored))
    async with core.sessions() as s, s.begin():
        unknown = await cases.lookup(s, core, Citizen("telegram", "3", "3"), "WXYZ-WXYZ", "123456")
        malformed = await cases.lookup(s, core, Citizen("telegram", "3", "3"), "nonsense", "123456")
        right = await cases.lookup(s, core, Citizen("telegram", "3", "3"), filed.case.code, filed.pin)
    assert unknown.case is None and malformed.case is None and right.case.id == filed.case.id
    assert len(checked) == 3 and all(h.startswith("scrypt$") for h in checked)
    assert [e.action for e in right.timeline] == ["submitted"]
    async with core.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(LookupFailure))).scalar_one() == 2


async def test_my_cases_are_only_mine(core):
    await file(core)
    await file(core, sender=Citizen("telegram", "11", "11"))
    async with core.sessions() as s:
        mine = await cases.cases_of(s, core, ME)
        assert len(mine) == 1 and await cases.owns(s, core, ME, mine[0].id)
        assert not await cases.owns(s, core, Citizen("telegram", "11", "11"), mine[0].id)


async def test_adding_information_reaches_bound_groups_and_the_public_timeline(core):
    filed = await file(core)
    async with core.sessions() as s, s.begin():
        s.add(AgencyChat(agency_id="cong-an", channel="telegram", chat_id="-1"))
    async with core.sessions() as s, s.begin():
        case = await s.get(Case, filed.case.id)
        reached = await cases.add_information(
            s,
            core,
            ME,
            case,
            "Thêm biển số xe 14A-12345",
            (Evidence("photo", "p2"),),
            heading="Bổ sung:",
        )
    assert reached == ["cong-an"]
    async with core.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.chat_id == "-1"))).scalars().all()
        case = await s.get(Case, filed.case.id)
        timeline = await cases.public_timeline(s, case.id)
    assert {r.kind for r in rows} == {"text", "media"} and len(case.attachments) == 2
    assert [e.action for e in timeline] == ["submitted", "citizen_added_info"]
