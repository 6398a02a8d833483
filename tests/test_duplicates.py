"""Near-duplicate reports: same story, other words, no diacritics; narrowed by kind, area and time."""

from __future__ import annotations

import datetime as dt

from bot.duplicates import find_similar, similarity
from storage.models import Case, Reporter

STORY = "Chủ tịch xã Đầm Hà nhận hối lộ 200 triệu đồng để cấp giấy chứng nhận quyền sử dụng đất"


def test_same_story_without_diacritics_or_reordered_is_similar():
    assert (
        similarity(
            STORY, "chu tich xa dam ha nhan hoi lo 200 trieu dong de cap giay chung nhan quyen su dung dat"
        )
        >= 95
    )
    assert (
        similarity(
            STORY, "Để cấp giấy chứng nhận quyền sử dụng đất, chủ tịch xã Đầm Hà nhận hối lộ 200 triệu"
        )
        >= 80
    )


def test_different_stories_are_not_similar():
    assert similarity(STORY, "Đường liên thôn bị hỏng nặng, đề nghị sửa chữa sớm") < 60
    assert similarity("", STORY) == 0


async def _case(
    session,
    code: str,
    *,
    kind: str = "corruption_tip",
    area: str | None = "7000",
    status: str = "new",
    created: dt.datetime | None = None,
    key: str = "k1",
) -> Case:
    case = Case(
        code=code,
        pin_hash="x",
        channel="telegram",
        kind=kind,
        area=area,
        summary=STORY,
        status=status,
        lead_agency_id="noi-chinh",
        received_on=dt.date(2025, 1, 1),
        created_at=created or dt.datetime.now(dt.UTC),
    )
    session.add(case)
    await session.flush()
    session.add(Reporter(case_id=case.id, reporter_key=key, channel="telegram", identity="sealed"))
    return case


async def test_only_open_recent_cases_of_the_same_kind_and_area_match(core):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=200)
    async with core.sessions() as s, s.begin():
        match = await _case(s, "AAAA-AAAA")
        await _case(s, "BBBB-BBBB", kind="petition")
        await _case(s, "CCCC-CCCC", area="8000")
        await _case(s, "DDDD-DDDD", status="resolved")
        await _case(s, "EEEE-EEEE", created=old)
    async with core.sessions() as s:
        found = await find_similar(
            s, kind="corruption_tip", area="7000", text=STORY.lower(), reporter_key="k2"
        )
    assert [f.code for f in found] == ["AAAA-AAAA"] and found[0].case_id == match.id
    assert found[0].same_reporter is False


async def test_the_reporters_own_case_is_marked_as_theirs(core):
    async with core.sessions() as s, s.begin():
        await _case(s, "AAAA-AAAA", key="me")
    async with core.sessions() as s:
        [found] = await find_similar(s, kind="corruption_tip", area=None, text=STORY, reporter_key="me")
    assert found.same_reporter
