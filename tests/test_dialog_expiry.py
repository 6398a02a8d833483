"""A report left half-written expires on time with a notice, once, even if the citizen never writes again."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select

from bot.dialog_expiry import KIND, expire_stale, job_handlers, on_start, schedule_sweep
from bot.i18n import t
from bot.intake import Intake, Text
from bot.jobs import JobRunner
from storage.models import ChatUser, DialogState, Job, OutboxMessage, utcnow
from tests.sealed import all_rows, chat_key


async def _dialog(core, user_id: str, state: str, age: dt.timedelta, locale: str = "vi") -> None:
    async with core.sessions() as session, session.begin():
        session.add(ChatUser(channel="telegram", user_key=chat_key(core, user_id), locale=locale))
        session.add(DialogState(channel="telegram", user_key=chat_key(core, user_id), state=state,
                                data={"kind": "complaint"}, sealed_chat=core.privacy.seal_value(user_id),
                                updated_at=utcnow() - age))


async def _notices(core) -> list[OutboxMessage]:
    return sorted(await all_rows(core), key=lambda row: row.chat_id)


async def test_stale_dialogues_are_dropped_with_a_notice_in_the_citizens_language(core) -> None:
    ttl = core.settings.dialogue_ttl_hours
    await _dialog(core, "11", "story", dt.timedelta(hours=ttl + 1))
    await _dialog(core, "22", "evidence", dt.timedelta(hours=ttl + 5), locale="en")
    await _dialog(core, "33", "story", dt.timedelta(hours=ttl - 1))  # still fresh
    async with core.sessions() as session, session.begin():
        assert await expire_stale(session, core, utcnow()) == 2
    notices = await _notices(core)
    assert [(n.chat_id, n.kind) for n in notices] == [("11", "text"), ("22", "text")]
    assert f"{ttl} giờ" in notices[0].payload["text"]
    assert f"{ttl} hours" in notices[1].payload["text"]
    async with core.sessions() as session:
        left = (await session.execute(select(DialogState.user_key))).scalars().all()
    assert left == [chat_key(core, "33")]


async def test_a_second_sweep_sends_nothing_more(core) -> None:
    await _dialog(core, "11", "story", dt.timedelta(days=30))
    for _ in range(2):
        async with core.sessions() as session, session.begin():
            await expire_stale(session, core, utcnow())
    assert len(await _notices(core)) == 1


async def test_the_sweep_job_runs_and_schedules_the_next_one_once(core) -> None:
    await _dialog(core, "11", "story", dt.timedelta(days=3))
    await on_start(core)
    await on_start(core)  # a second instance starting in the same slot adds nothing
    async with core.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Job))).scalar_one() == 1
    runner = JobRunner(core.sessions, job_handlers(core), "w1")
    assert await runner.run_once() == 1
    assert len(await _notices(core)) == 1
    async with core.sessions() as session:
        jobs = (await session.execute(select(Job).order_by(Job.run_at))).scalars().all()
    assert [j.status for j in jobs] == ["done", "pending"]
    assert jobs[1].kind == KIND and jobs[1].run_at > utcnow() + dt.timedelta(minutes=10)
    async with core.sessions() as session, session.begin():
        again = await schedule_sweep(session, jobs[1].run_at)
    assert again.id == jobs[1].id


async def test_the_citizen_returning_after_the_sweep_starts_fresh(core) -> None:
    await _dialog(core, "11", "story", dt.timedelta(days=3))
    async with core.sessions() as session, session.begin():
        await expire_stale(session, core, utcnow())
    replies = await Intake(core).handle("telegram", "11", "11", Text("xin chào"))
    assert replies[0].text == t("citizen.idle.short", "vi")  # the main menu, not the old step
    expired = t("citizen.expired", "vi", hours=core.settings.dialogue_ttl_hours)
    assert expired not in [r.text for r in replies]  # told once, by the sweep


async def test_the_notice_goes_to_the_chat_the_dialogue_happened_in(core) -> None:
    """A platform whose private chats are not numbered like its users (a web form's session, say) gets
    the notice in the chat the citizen wrote from."""
    await Intake(core).handle("web", "user-5", "session-77", Text("Cán bộ xã nhận tiền để cấp sổ đỏ sai"))
    async with core.sessions() as session, session.begin():
        row = (await session.execute(select(DialogState))).scalar_one()
        assert core.privacy.open_value(row.sealed_chat) == "session-77"
        row.updated_at = utcnow() - dt.timedelta(hours=core.settings.dialogue_ttl_hours + 1)
    async with core.sessions() as session, session.begin():
        await session.execute(delete(OutboxMessage))
        assert await expire_stale(session, core, utcnow()) == 1
    [notice] = await _notices(core)
    assert (notice.channel, notice.chat_id) == ("web", "session-77")
