"""Meetings from the rules' schedules and their reminders: created once, at working local times, fired
once by several runners, moved or cancelled with the meeting."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select

from bot.officer import Actor
from bot.secretariat import decisions, meetings, schedules
from storage.models import AuditEvent, Meeting
from tests.secretariat_kit import (
    NOI_CHINH,
    START,
    THANH_TRA,
    bind,
    jobs_of,
    local,
    meeting_of,
    movable,
    outbox,
    run_jobs_until,
    runner,
    texts,
)

SECRETARY = Actor(channel="telegram", chat_id=NOI_CHINH, user_id="501", name="Chánh Văn phòng")


async def _count(core, model) -> int:
    async with core.sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_occurrences_are_created_once_however_often_and_wherever_it_runs(core):
    movable(core)
    await bind(core)
    assert await schedules.materialise(core, START) == 3  # Dec 2026 and Jun 2027 reviews, Jan 2027 briefing
    assert await schedules.materialise(core, START) == 0
    await asyncio.gather(schedules.materialise(core, START), schedules.materialise(core, START))
    assert await _count(core, Meeting) == 3
    review = await meeting_of(core)
    assert review.starts_at == local(2026, 12, 17)
    assert review.period_from == dt.date(2026, 6, 18)  # the agenda's figures run since the June review
    keys = [j.dedupe_key for j in await jobs_of(core, f"meeting:{review.id}:")]
    assert len(keys) == len(set(keys)) == 4


async def test_reminders_fall_at_the_offsets_in_working_hours(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    review = await meeting_of(core)
    jobs = {j.payload.get("offset", "nudge"): j.run_at for j in await jobs_of(core, f"meeting:{review.id}:")}
    assert jobs == {
        "7d": local(2026, 12, 10),  # Thursday a week before, 08:00 local
        "1d": local(2026, 12, 16),
        "nudge": local(2026, 12, 16, 10),
        "1h": local(2026, 12, 17, 7),  # the meeting's own morning, before it starts
    }
    briefing = await meeting_of(core, "giao-ban-hang-nam")
    offsets = {j.payload.get("offset"): j.run_at for j in await jobs_of(core, f"meeting:{briefing.id}:")}
    assert offsets["14d"] == local(2026, 12, 29)
    assert offsets["7d"] == local(2027, 1, 5)
    assert offsets["1d"] == local(2027, 1, 11)


async def test_a_reminder_on_a_day_off_waits_for_the_working_morning_but_not_past_the_meeting(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    review = await meeting_of(core)
    async with core.sessions() as session, session.begin():
        meeting = await session.get(Meeting, review.id)
        # Monday 14:00: the day before is a Sunday, so its reminder waits for Monday 08:00
        await meetings.reschedule(
            session,
            core,
            SECRETARY,
            "noi-chinh",
            meeting,
            local(2026, 12, 21, 14),
            "trùng lịch công tác",
            START,
        )
    jobs = {j.payload.get("offset", "nudge"): j for j in await jobs_of(core, f"meeting:{review.id}:v1:")}
    assert jobs["1d"].run_at == local(2026, 12, 21, 8)
    assert jobs["7d"].run_at == local(2026, 12, 14, 14)
    async with core.sessions() as session, session.begin():
        meeting = await session.get(Meeting, review.id)
        # Monday 08:00: waiting for Monday morning would be too late, so it goes on Friday morning
        await meetings.reschedule(
            session, core, SECRETARY, "noi-chinh", meeting, local(2026, 12, 28, 8), "lùi một tuần", START
        )
    jobs = {j.payload.get("offset", "nudge"): j for j in await jobs_of(core, f"meeting:{review.id}:v2:")}
    assert jobs["1d"].run_at == local(2026, 12, 25, 8)
    assert jobs["1h"].run_at == local(2026, 12, 28, 7)
    assert all(j.status == "cancelled" for j in await jobs_of(core, f"meeting:{review.id}:v0:"))
    assert all(j.status == "cancelled" for j in await jobs_of(core, f"meeting:{review.id}:v1:"))


async def test_the_waiting_time_is_configurable(core):
    movable(core)
    core.settings.digest_time = dt.time(7, 30)
    await bind(core)
    await schedules.materialise(core, START)
    review = await meeting_of(core)
    async with core.sessions() as session, session.begin():
        meeting = await session.get(Meeting, review.id)
        await meetings.reschedule(
            session, core, SECRETARY, "noi-chinh", meeting, local(2026, 12, 21, 14), "trùng lịch", START
        )
    jobs = {j.payload.get("offset", "nudge"): j for j in await jobs_of(core, f"meeting:{review.id}:v1:")}
    assert jobs["1d"].run_at == local(2026, 12, 21, 7, 30)


async def test_each_reminder_fires_once_with_two_instances(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    one, two = runner(core, "instance-1"), runner(core, "instance-2")
    core.clock.set(local(2026, 12, 10, 9))
    for _ in range(3):
        await asyncio.gather(one.run_once(), two.run_once())
    for chat in (NOI_CHINH, THANH_TRA):
        reminders = [t for t in await texts(core, chat) if "Nhắc lịch họp (còn 7 ngày)" in t]
        assert len(reminders) == 1
        agendas = [t for t in await texts(core, chat) if t.startswith("📋 Chương trình họp")]
        assert len(agendas) == 1
        assert len(await outbox(core, chat, "file")) == 3  # the agenda, the invitation and the .ics, once
    reminders = [m for m in await outbox(core, THANH_TRA, "text") if "còn 7 ngày" in m.payload["text"]]
    labels = [b["text"] for row in reminders[0].payload["buttons"] for b in row]
    assert labels == ["✅ Chúng tôi dự họp", "🚫 Chúng tôi không dự được"]
    async with core.sessions() as session:
        reminded = (
            await session.execute(select(func.count()).where(AuditEvent.action == "meeting_reminded"))
        ).scalar_one()
    assert reminded == 1


async def test_cancelling_voids_the_reminders_and_tells_every_group(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    review = await meeting_of(core)
    async with core.sessions() as session, session.begin():
        meeting = await session.get(Meeting, review.id)
        await meetings.cancel(
            session, core, SECRETARY, "noi-chinh", meeting, "đoàn kiểm tra Trung ương", START
        )
    assert all(j.status == "cancelled" for j in await jobs_of(core, f"meeting:{review.id}:"))
    for chat in (NOI_CHINH, THANH_TRA):
        assert any("Hủy cuộc họp" in t and "đoàn kiểm tra Trung ương" in t for t in await texts(core, chat))
    await run_jobs_until(core, local(2026, 12, 17, 9))
    assert not [t for t in await texts(core, THANH_TRA) if "Nhắc lịch họp" in t]


async def test_a_schedule_removed_from_the_rules_cancels_future_occurrences_and_keeps_past_ones(core):
    movable(core)
    await bind(core)
    async with core.sessions() as session, session.begin():
        session.add(
            Meeting(
                schedule_id="noi-chinh-thanh-tra-6-thang",
                title="Họp 6 tháng đầu năm",
                scheduled_for=dt.date(2026, 6, 18),
                starts_at=local(2026, 6, 18),
                agencies=["noi-chinh", "thanh-tra"],
                chair="noi-chinh",
                items=[],
                remind_days_before=[7, 1],
                version=0,
            )
        )
    await schedules.materialise(core, START)
    core.rules = core.rules.model_copy(
        update={"meetings": [m for m in core.rules.meetings if m.id != "noi-chinh-thanh-tra-6-thang"]}
    )
    await schedules.materialise(core, START)
    async with core.sessions() as session:
        rows = (
            (
                await session.execute(
                    select(Meeting)
                    .where(Meeting.schedule_id == "noi-chinh-thanh-tra-6-thang")
                    .order_by(Meeting.starts_at)
                )
            )
            .scalars()
            .all()
        )
    assert [(m.scheduled_for.isoformat(), m.status) for m in rows] == [
        ("2026-06-18", "planned"),
        ("2026-12-17", "cancelled"),
        ("2027-06-17", "cancelled"),
    ]
    assert any("Hủy cuộc họp" in t and "quy chế" in t for t in await texts(core, THANH_TRA))
    assert all(j.status == "cancelled" for j in await jobs_of(core, f"meeting:{rows[1].id}:"))


async def test_an_edited_schedule_changes_future_occurrences_without_duplicating(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    edited = [
        m.model_copy(update={"agencies": ["noi-chinh", "thanh-tra", "ubkt"]})
        if m.id == "noi-chinh-thanh-tra-6-thang"
        else m
        for m in core.rules.meetings
    ]
    core.rules = core.rules.model_copy(update={"meetings": edited})
    assert await schedules.materialise(core, START) == 0
    review = await meeting_of(core)
    assert review.agencies == ["noi-chinh", "thanh-tra", "ubkt"]
    assert await _count(core, Meeting) == 3


async def test_an_agency_without_a_group_is_named_to_the_secretariat_when_scheduled(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    notices = [t for t in await texts(core, NOI_CHINH) if "chưa có nhóm Telegram" in t]
    assert len(notices) == 1  # the yearly briefing: seven agencies have no group here
    assert "Công an tỉnh" in notices[0] and "NHNN khu vực" in notices[0]
    assert "Thanh tra" not in notices[0]


async def test_a_bot_down_past_the_meeting_does_not_remind_of_it_afterwards(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    await run_jobs_until(core, local(2026, 12, 17, 9))  # every reminder of the review came due meanwhile
    assert not [t for t in await texts(core, THANH_TRA) if "Nhắc lịch họp" in t or "chưa xác nhận" in t]
    assert not await outbox(core, THANH_TRA, "file")


# ---- restarts and late reminders ----------------------------------------------------------------------


def _reminders(found: list[str]) -> list[str]:
    return [t.split("\n")[0] for t in found if t.startswith("🔔 Nhắc lịch họp")]


async def _restart_at(core, moment) -> None:
    """A bot started at `moment`: the start-up work (the meetings re-planned), then every job due."""
    core.clock.set(moment)
    await schedules.on_start(core)
    await _run_due(core)


async def _run_due(core) -> None:
    """Every job due now, the clock left where it is."""
    started = runner(core)
    while await started.run_once():
        pass


async def test_a_reminder_due_at_a_restart_is_sent_once(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    await run_jobs_until(core, local(2026, 12, 10, 9))  # the week-ahead reminder, on time
    await _restart_at(core, local(2026, 12, 16, 8, 20))  # the one-day reminder came due at 08:00
    await _restart_at(core, local(2026, 12, 16, 9))  # and once more: nothing new
    for chat in (NOI_CHINH, THANH_TRA):
        assert _reminders(await texts(core, chat)) == [
            "🔔 Nhắc lịch họp (còn 7 ngày)", "🔔 Nhắc lịch họp (còn 1 ngày)"
        ]


async def test_a_bot_down_past_several_reminders_sends_the_latest_alone_with_its_agenda(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    await _restart_at(core, local(2026, 12, 16, 8, 20))  # down since the 1st: 7d and 1d both came due
    for chat in (NOI_CHINH, THANH_TRA):
        assert _reminders(await texts(core, chat)) == ["🔔 Nhắc lịch họp (còn 1 ngày)"]
        assert len([t for t in await texts(core, chat) if t.startswith("📋 Chương trình họp")]) == 1
    review = await meeting_of(core)
    done = {j.payload["offset"]: j.status for j in await jobs_of(core, f"meeting:{review.id}:v0:remind")}
    assert done == {"7d": "cancelled", "1d": "done", "1h": "pending"}  # folded into the latest, not sent


async def test_reminders_that_came_due_together_in_a_running_bot_say_it_once(core):
    """A running bot whose clock was moved on (the demo): the jobs run late, and the older one gives way."""
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    await run_jobs_until(core, local(2026, 12, 16, 9))  # the demo's clock moved from the 1st to the 16th
    for chat in (NOI_CHINH, THANH_TRA):
        assert _reminders(await texts(core, chat)) == ["🔔 Nhắc lịch họp (còn 1 ngày)"]


async def test_a_late_reminder_says_the_time_actually_left(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    await run_jobs_until(core, local(2026, 12, 11, 9))  # the week-ahead reminder, a day late
    await run_jobs_until(core, local(2026, 12, 17, 7, 40))  # the one-day one superseded, the hour one late
    for chat in (NOI_CHINH, THANH_TRA):
        assert _reminders(await texts(core, chat)) == [
            "🔔 Nhắc lịch họp (còn 6 ngày)", "🔔 Nhắc lịch họp (còn 20 phút)"
        ]


async def test_the_hour_reminder_of_an_8am_meeting_comes_before_it_after_a_restart(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    await run_jobs_until(core, local(2026, 12, 10, 9))
    await run_jobs_until(core, local(2026, 12, 16, 11))
    await _restart_at(core, local(2026, 12, 17, 7, 30))  # down over 07:00
    for chat in (NOI_CHINH, THANH_TRA):
        assert _reminders(await texts(core, chat))[-1] == "🔔 Nhắc lịch họp (còn 30 phút)"
    await run_jobs_until(core, local(2026, 12, 17, 9))
    for chat in (NOI_CHINH, THANH_TRA):
        assert len(_reminders(await texts(core, chat))) == 3


async def test_a_nudge_due_while_the_bot_was_down_comes_late_with_the_time_left(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    await run_jobs_until(core, local(2026, 12, 16, 9))
    await _restart_at(core, local(2026, 12, 16, 11))  # the nudge was due at 10:00
    nudges = [t for t in await texts(core, THANH_TRA) if t.startswith("⏰ Cơ quan chưa xác nhận")]
    assert [n.split("\n")[0] for n in nudges] == ["⏰ Cơ quan chưa xác nhận dự họp (còn 1 ngày):"]
    assert any("các cơ quan chưa xác nhận" in t for t in await texts(core, NOI_CHINH))


async def test_a_nudge_overtaken_by_the_hour_reminder_is_dropped(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    await run_jobs_until(core, local(2026, 12, 16, 9))
    await _restart_at(core, local(2026, 12, 17, 7, 30))  # the nudge and the hour reminder came due
    assert not [t for t in await texts(core, THANH_TRA) if "chưa xác nhận dự họp" in t]
    assert _reminders(await texts(core, THANH_TRA))[-1] == "🔔 Nhắc lịch họp (còn 30 phút)"


async def test_reminder_days_edited_while_the_bot_was_down_are_followed_at_the_restart(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    await run_jobs_until(core, local(2026, 12, 10, 9))
    edited = [
        m.model_copy(update={"remind_days_before": [7, 3]}) if m.id == "noi-chinh-thanh-tra-6-thang" else m
        for m in core.rules.meetings
    ]
    core.rules = core.rules.model_copy(update={"meetings": edited})
    await _restart_at(core, local(2026, 12, 14, 8, 20))  # Monday: three days before came due at 08:00
    await run_jobs_until(core, local(2026, 12, 17, 7, 1))
    for chat in (NOI_CHINH, THANH_TRA):
        assert _reminders(await texts(core, chat)) == [
            "🔔 Nhắc lịch họp (còn 7 ngày)", "🔔 Nhắc lịch họp (còn 3 ngày)", "🔔 Nhắc lịch họp (còn 1 giờ)"
        ]
    review = await meeting_of(core)
    assert [j.status for j in await jobs_of(core, f"meeting:{review.id}:v0:remind:1d")] == ["cancelled"]


async def test_a_meeting_moved_to_short_notice_is_announced_once_with_the_hours_left(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    async with core.sessions() as session, session.begin():
        meeting = await session.get(Meeting, (await meeting_of(core)).id)
        await meetings.reschedule(  # Tuesday 10:00: the review is brought forward to 11:30 today
            session, core, SECRETARY, "noi-chinh", meeting, local(2026, 12, 1, 11, 30), "việc gấp", START
        )
    await _run_due(core)
    await run_jobs_until(core, local(2026, 12, 1, 10, 30))
    for chat in (NOI_CHINH, THANH_TRA):
        assert _reminders(await texts(core, chat)) == [
            "🔔 Nhắc lịch họp (còn 1 giờ 30 phút)", "🔔 Nhắc lịch họp (còn 1 giờ)"
        ]


async def test_an_adhoc_meetings_late_reminder_waits_for_the_morning_after_a_night_restart(core):
    movable(core)
    await bind(core)
    title = "Họp chuyên đề đất đai"
    draft = {"title": title, "starts_at": local(2026, 12, 15, 14).isoformat(),
             "agencies": ["thanh-tra", "ubkt"], "chair": "noi-chinh", "items": []}
    async with core.sessions() as session, session.begin():
        await meetings.create(session, core, SECRETARY, "noi-chinh", draft, START)
    await _restart_at(core, local(2026, 12, 14, 20))  # down since the 1st; back at night

    async def said() -> list[str]:
        return _reminders([t for t in await texts(core, THANH_TRA) if title in t])

    assert await said() == [], "nothing at night"
    await run_jobs_until(core, local(2026, 12, 15, 8, 1))
    await run_jobs_until(core, local(2026, 12, 15, 13))
    assert await said() == ["🔔 Nhắc lịch họp (còn 6 giờ)", "🔔 Nhắc lịch họp (còn 1 giờ)"]


async def test_a_meetings_first_reminder_before_the_previous_meeting_of_its_agencies_is_sent(core):
    """The review (17/12) is still to come when a meeting of the same agencies on the 18th has its
    week-ahead reminder: the agenda's figures cannot run from the 17th, and the reminder must still go."""
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    draft = {"title": "Họp chuyên đề đất đai", "starts_at": local(2026, 12, 18, 14).isoformat(),
             "agencies": ["noi-chinh", "thanh-tra"], "chair": "noi-chinh", "items": []}
    async with core.sessions() as session, session.begin():
        await meetings.create(session, core, SECRETARY, "noi-chinh", draft, START)
    await run_jobs_until(core, local(2026, 12, 10, 9))
    await run_jobs_until(core, local(2026, 12, 11, 15))
    found = [t for t in await texts(core, THANH_TRA) if "Họp chuyên đề đất đai" in t]
    assert _reminders(found) == ["🔔 Nhắc lịch họp (còn 7 ngày)"]
    [agenda] = [t for t in found if t.startswith("📋 Chương trình họp")]
    assert "Số liệu từ 19/06/2026 đến 11/12/2026" in agenda  # about six months: no meeting held before


async def test_a_decision_reminder_that_came_due_before_a_downtime_past_the_due_date_is_dropped(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    review = await meeting_of(core)
    core.clock.set(local(2026, 12, 17, 11))
    async with core.sessions() as session, session.begin():
        meeting = await session.get(Meeting, review.id)
        await decisions.record(session, core, SECRETARY, "noi-chinh", meeting, "Rà soát vụ việc tồn đọng",
                               "thanh-tra", dt.date(2026, 12, 24), core.clock.now())
    await _restart_at(core, local(2026, 12, 28, 8, 1))  # down from the 17th: past the reminder and the date
    notices = ("⏰ Kết luận", "❗ Kết luận")
    said = [t.split(":")[0] for t in await texts(core, THANH_TRA) if t.startswith(notices)]
    assert said == ["❗ Kết luận đã quá hạn 2 ngày làm việc (hạn 24/12/2026)"]
