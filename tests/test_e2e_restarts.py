"""Promises kept across restarts: the real `python -m bot` is stopped and started again, on its own clock,
at the moment something is due (tests/restarts.py), against the local Bot API server and a real database.
What came due while it was down is said once, in the words true when it is said."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import deadline_jobs
from bot.clock import Clock
from bot.core import Core
from bot.privacy import Privacy
from bot.rules import load_rules
from bot.settings import Settings
from bot.workdays import WorkCalendar
from simulator.botapi import FakeBotAPI
from storage.db import create_engine, session_factory
from storage.models import Case, DigestLine
from tests.conftest import SAMPLE_RULES
from tests.officer_kit import make_case
from tests.restarts import T, bind, running_at
from tests.secretariat_kit import next_review

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
GROUPS = {"noi-chinh": -100501, "thanh-tra": -100502}
REMINDER = "🔔 Nhắc lịch họp"


def reminders(server: FakeBotAPI, chat: int) -> list[str]:
    return [t.split("\n")[0] for t in server.texts(chat) if t.startswith(REMINDER)]


async def reminded(server: FakeBotAPI, count: int) -> None:
    """Until each group has had `count` meeting reminders (within a minute of the start)."""
    for chat in GROUPS.values():
        await server.wait_for("sendMessage", lambda r: r.params.get("text", "").startswith(REMINDER),
                              chat_id=chat, count=count, timeout=T)


async def test_meeting_reminders_due_at_a_restart_arrive_once_with_the_time_left(
    server: FakeBotAPI, tmp_path: Path, db_url: str
) -> None:
    key = Fernet.generate_key().decode()
    review = next_review(dt.datetime.now(dt.UTC))
    week_before, day_before = review - dt.timedelta(days=7), review - dt.timedelta(days=1)

    nine_days_before = review - dt.timedelta(days=9) + dt.timedelta(hours=2)  # 10:00: nothing is due yet
    async with running_at(nine_days_before, server, db_url, key, tmp_path):
        await bind(server, GROUPS)
    assert all(reminders(server, chat) == [] for chat in GROUPS.values())

    # started at 08:20 on the day the week-ahead reminder came due (08:00)
    async with running_at(week_before + dt.timedelta(minutes=20), server, db_url, key, tmp_path):
        await reminded(server, 1)
    # started at 08:20 the day before: the one-day reminder of 08:00 comes within a minute
    async with running_at(day_before + dt.timedelta(minutes=20), server, db_url, key, tmp_path):
        await reminded(server, 2)
    # started at 07:30 on the meeting's morning: the one-hour reminder of 07:00, before the meeting
    async with running_at(review - dt.timedelta(minutes=30), server, db_url, key, tmp_path):
        await reminded(server, 3)
        await asyncio.sleep(2.0)  # time for a wrong second reminder to show up

    for chat in GROUPS.values():
        assert reminders(server, chat) == [
            "🔔 Nhắc lịch họp (còn 7 ngày)",
            "🔔 Nhắc lịch họp (còn 1 ngày)",
            "🔔 Nhắc lịch họp (còn 30 phút)",
        ]


def late_week(after: dt.datetime, calendar: WorkCalendar) -> dt.date:
    """A Wednesday at least a week after `after` with working days from it to the Tuesday after."""
    day = (after + dt.timedelta(days=7)).astimezone(HANOI).date()
    while day.weekday() != 2 or not all(
        calendar.is_working_day(day + dt.timedelta(days=n)) for n in (0, 1, 2, 5, 6)
    ):
        day += dt.timedelta(days=1)
    return day


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second), HANOI)


def core_on(engine: AsyncEngine, key: str, now: dt.datetime) -> Core:
    """The bot's core on the process's database and key, with its own clock, to set a case up."""
    settings = Settings(_env_file=None, database_url=engine.url.render_as_string(hide_password=False))
    return Core(settings=settings, rules=load_rules(SAMPLE_RULES), sessions=session_factory(engine),
                privacy=Privacy(key.encode()), calendar=WorkCalendar(), clock=Clock(movable=True, start=now))


async def lines_written(core: Core) -> None:
    async def written() -> None:
        while True:
            async with core.sessions() as session:
                if await session.scalar(select(func.count()).select_from(DigestLine)):
                    return
            await asyncio.sleep(0.2)

    await asyncio.wait_for(written(), T)


def digests(server: FakeBotAPI, chat: int) -> list[str]:
    return [t for t in server.texts(chat) if t.startswith("🗓")]


async def test_a_digest_after_missed_mornings_states_each_case_once_as_it_stands(
    server: FakeBotAPI, tmp_path: Path, db_url: str
) -> None:
    """Stopped between the day-before reminder (08:00) and its digest (08:05), started again two working
    days after the due date: each group's digest names the case once, two working days late."""
    key = Fernet.generate_key().decode()
    wednesday = late_week(dt.datetime.now(dt.UTC), WorkCalendar())
    thursday, friday = wednesday + dt.timedelta(days=1), wednesday + dt.timedelta(days=2)
    tuesday = wednesday + dt.timedelta(days=6)
    async with running_at(at(wednesday, 10), server, db_url, key, tmp_path):
        await bind(server, GROUPS)
    engine = create_engine(db_url)
    core = core_on(engine, key, at(wednesday, 10, 5))
    try:
        case = await make_case(core, cooperating=(), stage="classify", due_on=friday)
        async with core.sessions() as session, session.begin():
            await deadline_jobs.replan(session, core, await session.get(Case, case.id))

        async with running_at(at(thursday, 8, 0, 30), server, db_url, key, tmp_path):
            await lines_written(core)  # the reminder's line; its digest would go at 08:05
        assert digests(server, GROUPS["thanh-tra"]) == []

        async with running_at(at(tuesday, 8, 10), server, db_url, key, tmp_path):
            for chat in GROUPS.values():
                await server.wait_for("sendMessage", lambda r: r.params.get("text", "").startswith("🗓"),
                                      chat_id=chat, timeout=T)
            await asyncio.sleep(3.0)  # time for a second digest to show up
    finally:
        await engine.dispose()

    [lead] = digests(server, GROUPS["thanh-tra"])
    assert lead.count(case.code) == 1 and "quá 2 ngày làm việc" in lead, lead
    assert "còn" not in lead and "hôm nay" not in lead, lead
    [supervisor] = digests(server, GROUPS["noi-chinh"])
    assert supervisor.count(case.code) == 1 and "đôn đốc" in supervisor, supervisor
    assert "quá 2 ngày làm việc" in supervisor and "quá 1 ngày" not in supervisor, supervisor
