"""End to end through runner.app.start and the local Bot API server: a reminder job due on a working morning
becomes one digest message in the lead agency's group, and none is sent before the morning."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import deadline_jobs
from runner.app import App, start
from runner.settings import AppSettings as Settings
from simulator.botapi import FakeBotAPI
from storage.models import Case, Job
from tests.conftest import SAMPLE_RULES
from tests.officer_kit import CHATS, bind_groups, make_case

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def local(y: int, m: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=HANOI).astimezone(dt.UTC)


@pytest.fixture
async def app(tmp_path: Path, server: FakeBotAPI, db_url: str) -> AsyncIterator[App]:
    settings = Settings(_env_file=None, bot_token="42:TEST", telegram_api_url=server.url, admin_ids=["1000"],
                        database_url=db_url, rules_file=str(SAMPLE_RULES))
    running = await start(settings)
    try:
        yield running
    finally:
        await running.stop()


async def until_done(core, kind: str) -> None:
    """Wait for the running bot's job runner (it polls every second) to have run a job of `kind`."""
    async def done() -> None:
        while True:
            async with core.sessions() as session:
                if await session.scalar(select(Job.id).where(Job.kind == kind, Job.status == "done")):
                    return
            await asyncio.sleep(0.2)

    await asyncio.wait_for(done(), 30)


def digests(server: FakeBotAPI, chat_id: str) -> list[str]:
    return [t for t in server.texts(chat_id) if t.startswith("🗓")]


def working_monday(core) -> dt.date:
    """A Monday at least a week ahead with working days to Wednesday: the running bot's clock only moves
    forward, so the test's days must lie ahead of whenever it runs."""
    def fits(day: dt.date) -> bool:
        working = all(core.calendar.is_working_day(day + dt.timedelta(days=n)) for n in range(3))
        return day.weekday() == 0 and working

    day = dt.date.today() + dt.timedelta(days=7)
    while not fits(day):
        day += dt.timedelta(days=1)
    return day


async def test_a_reminder_reaches_the_group_as_the_morning_digest(app: App, server: FakeBotAPI) -> None:
    core = app.core
    core.clock.movable = True  # as the demo builds it
    monday = working_monday(core)
    tuesday = monday + dt.timedelta(days=1)
    core.clock.set(local(monday.year, monday.month, monday.day, 10))
    await bind_groups(core)
    case = await make_case(core, cooperating=(), stage="classify", due_on=monday + dt.timedelta(days=2))
    async with core.sessions() as session, session.begin():
        row = await session.get(Case, case.id)
        assert row is not None
        await deadline_jobs.replan(session, core, row)

    # before the working morning: nothing
    core.clock.set(local(tuesday.year, tuesday.month, tuesday.day, 7, 59))
    await asyncio.sleep(2.5)
    assert digests(server, CHATS["thanh-tra"]) == []
    core.clock.set(local(tuesday.year, tuesday.month, tuesday.day, 8, 0))  # the reminder job writes its line
    await until_done(core, "deadline.remind")
    core.clock.set(local(tuesday.year, tuesday.month, tuesday.day, 8, 5))  # the daily digest sends it
    await server.wait_for("sendMessage", lambda r: r.params.get("text", "").startswith("🗓"), timeout=15)
    sent = digests(server, CHATS["thanh-tra"])
    assert len(sent) == 1
    assert "ABCD-EFGH" in sent[0] and "còn 1 ngày làm việc" in sent[0]
