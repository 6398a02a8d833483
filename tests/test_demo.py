"""The demo: the real bot against the local Bot API server, driven through the web simulator's API and
the scripted story; its clock moves only in demo mode."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot import deadline_jobs
from bot.i18n import t
from runner.app import StartupError, start
from runner.settings import AppSettings as Settings
from simulator.demo import CITIZEN_ID, Demo, start_demo
from simulator.story import PNG, Story
from simulator.web import serve_page
from storage.models import AgencyChat, Case, Job
from tests.conftest import SAMPLE_RULES
from tests.officer_kit import make_case
from tests.secretariat_kit import REVIEW_TITLE, next_review

T = 15.0


@pytest.fixture
async def demo(tmp_path: Path, db_url: str) -> AsyncIterator[Demo]:
    running = await start_demo(tmp_path, database_url=db_url)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def page(demo: Demo) -> AsyncIterator[aiohttp.ClientSession]:
    runner = await serve_page(demo, "127.0.0.1", 0)
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as client:
        yield client
    await runner.cleanup()


async def state(client: aiohttp.ClientSession) -> dict[str, Any]:
    async with client.get("/api/state") as response:
        assert response.status == 200
        return await response.json()


def chat(snapshot: dict[str, Any], chat_id: int) -> dict[str, Any]:
    return next(c for c in snapshot["chats"] if c["id"] == chat_id)


async def shown(client: aiohttp.ClientSession, chat_id: int, contains: str) -> dict[str, Any]:
    """Wait until the page shows a message containing `contains` in a chat; return that message."""
    for _ in range(int(T / 0.1)):
        for message in chat(await state(client), chat_id)["messages"]:
            if contains in message["text"]:
                return message
        await asyncio.sleep(0.1)
    raise AssertionError(f"{contains!r} never shown in chat {chat_id}")


async def test_demo_binds_a_group_for_every_agency(demo: Demo) -> None:
    async with demo.app.core.sessions() as session:
        bound = (await session.execute(select(func.count()).select_from(AgencyChat))).scalar_one()
    assert bound == len(demo.app.core.rules.agencies) == len(demo.groups)
    for group in demo.groups:
        texts = [m.get("text", "") for (c, _), m in demo.server.messages.items() if c == str(group.chat_id)]
        assert any(f"({group.agency_id})" in text and "✅" in text for text in texts), texts


async def test_page_lets_the_citizen_type_and_press_buttons(page: aiohttp.ClientSession) -> None:
    async with page.get("/") as response:
        assert response.status == 200 and "Kênh tin báo" in await response.text()
    async with page.post("/api/send", json={"chat_id": CITIZEN_ID, "text": "/start"}) as response:
        assert response.status == 200
    menu = await shown(page, CITIZEN_ID, "Ông/Bà muốn làm gì?")
    new = next(b for row in menu["buttons"] for b in row if b["text"] == t("citizen.btn.new"))
    async with page.post("/api/press", json={"chat_id": CITIZEN_ID, "message_id": menu["id"],
                                             "data": new["data"]}) as response:
        assert response.status == 200
    kinds = await shown(page, CITIZEN_ID, "loại đơn nào")
    assert t("kind.denunciation") in [b["text"] for row in kinds["buttons"] for b in row]


async def test_page_uploads_a_photo_the_other_side_can_open(page: aiohttp.ClientSession) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(CITIZEN_ID))
    form.add_field("file", PNG, filename="anh.png", content_type="image/png")
    async with page.post("/api/upload", data=form) as response:
        assert response.status == 200
        file_id = (await response.json())["file_id"]
    mine = [m for m in chat(await state(page), CITIZEN_ID)["messages"] if m.get("photo") == file_id]
    assert mine and not mine[0]["from_bot"]
    async with page.get(f"/api/files/{file_id}") as response:
        assert response.status == 200 and await response.read() == PNG
    async with page.get("/api/files/nothing-here") as response:
        assert response.status == 404


async def test_page_refuses_bad_input(page: aiohttp.ClientSession) -> None:
    async with page.post("/api/send", json={"chat_id": 123, "text": "hi"}) as response:
        assert response.status == 400  # not a chat of the demo
    async with page.post("/api/send", json={"chat_id": CITIZEN_ID, "text": "  "}) as response:
        assert response.status == 400
    async with page.post("/api/press", json={"chat_id": CITIZEN_ID, "message_id": 999, "data": "x"}) as r:
        assert r.status == 400
    async with page.post("/api/clock", json={"date": "2001-01-01"}) as response:
        assert response.status == 400  # the clock only moves forward
    async with page.post("/api/clock", json={"hours": "soon"}) as response:
        assert response.status == 400


async def test_the_fault_switch_holds_the_bots_messages_back_until_telegram_is_back(
        demo: Demo, page: aiohttp.ClientSession) -> None:
    for mode, step in (("429", "/new"), ("502", "/cancel")):  # steps that change the dialogue: their
        # replies wait in the outbox (a reply that changes nothing is sent at once, or not at all)
        async with page.post("/api/fault", json={"mode": mode}) as response:
            assert response.status == 200
        assert (await state(page))["fault"] == mode
        async with page.post("/api/send", json={"chat_id": CITIZEN_ID, "text": step}) as response:
            assert response.status == 200
        await asyncio.sleep(2)
        refused = demo.server.calls("sendMessage", chat_id=CITIZEN_ID, ok=False)
        assert refused and refused[-1].status == int(mode), "the bot tried and Telegram refused"
        assert demo.server.calls("getUpdates"), "the bot still receives"
        async with page.post("/api/fault", json={"mode": "off"}) as response:
            assert response.status == 200
        before = len(demo.server.calls("sendMessage", chat_id=CITIZEN_ID, ok=True))
        for _ in range(int(3 * T / 0.1)):  # delivered once the outbox retries
            if len(demo.server.calls("sendMessage", chat_id=CITIZEN_ID, ok=True)) > before:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"nothing delivered after the {mode} fault ended")
    async with page.post("/api/fault", json={"mode": "500 please"}) as response:
        assert response.status == 400


async def test_moving_the_clock_lets_a_stale_report_expire(demo: Demo, page: aiohttp.ClientSession) -> None:
    before = demo.app.core.clock.now()
    async with page.post("/api/send", json={"chat_id": CITIZEN_ID, "text": "/new"}) as response:
        assert response.status == 200
    await shown(page, CITIZEN_ID, "loại đơn nào")
    async with page.post("/api/clock", json={"days": 3}) as response:
        assert response.status == 200
    assert demo.app.core.clock.now() - before >= dt.timedelta(days=3)
    expired = t("citizen.expired", hours=demo.app.core.settings.dialogue_ttl_hours)
    await shown(page, CITIZEN_ID, expired[:40])


async def test_a_moved_clock_is_refused_outside_demo_mode(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, bot_token="42:TEST", movable_clock=True, rules_file=str(SAMPLE_RULES),
                        database_url=f"sqlite+aiosqlite:///{tmp_path}/bot.db")
    with pytest.raises(StartupError, match="demo mode"):
        await start(settings)


async def test_the_story_runs_to_its_end(demo: Demo, capsys: pytest.CaptureFixture[str]) -> None:
    await Story(demo, lambda _: None).play()
    out = capsys.readouterr().out
    assert "=== 5." in out
    citizen = [m.get("text", "") for (c, _), m in demo.server.messages.items() if c == str(CITIZEN_ID)]
    assert any("Mã tra cứu" in text for text in citizen)
    assert any("giải quyết xong" in text for text in citizen)
    officers = [g.officer["first_name"] for g in demo.groups]
    assert not any(name in text for name in officers for text in citizen)  # nor who asked


def test_python_m_bot_demo_story_exits_0(tmp_path: Path) -> None:
    env = {**os.environ, "BOT_TOKEN": "", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/unused.db"}
    done = subprocess.run([sys.executable, "-m", "bot", "demo", "--story"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "demo: ready in" in done.stdout and "the story ran to its end" in done.stdout
    assert not (tmp_path / "unused.db").exists()  # the demo never touches the configured database


def test_the_demos_logs_never_show_its_token(monkeypatch: pytest.MonkeyPatch,
                                            caplog: pytest.LogCaptureFixture) -> None:
    """`python -m bot demo` logs behind the bot's redaction: a network error's URL loses the token."""
    from simulator import demo as demo_module

    def failing_run(coroutine: Any) -> int:
        coroutine.close()
        logging.getLogger("aiogram.dispatcher").warning(
            "Failed to fetch updates - TelegramNetworkError: HTTP Client says - Request timeout error "
            "(http://127.0.0.1:8081/bot%s/getUpdates)", demo_module.DEMO_TOKEN)
        return 0

    monkeypatch.setattr(demo_module.asyncio, "run", failing_run)
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        assert demo_module.main(["--story"]) == 0
    finally:
        for handler in root.handlers[len(handlers):]:
            root.removeHandler(handler)
        for handler in handlers:
            handler.filters = [f for f in handler.filters if f.__class__.__name__ != "RedactingFilter"]
    assert "getUpdates" in caplog.text and demo_module.DEMO_TOKEN not in caplog.text


async def test_a_week_of_moved_clock_gives_one_digest_a_morning_and_every_meeting_reminder_once(
    demo: Demo, page: aiohttp.ClientSession
) -> None:
    """Moved as the demo's header moves it, past the review meeting and a week of deadlines: each group
    gets one digest per working morning it sees, naming each case once as it stands that morning, and
    each of the meeting's reminders once, with the time left when it arrives."""
    core = demo.app.core
    review = next_review(core.clock.now())
    day = review.date()
    days = (-7, -3, -2, -1, 0, 1, 4, 5, 6, 7, 8)  # Thursday a week before to Friday a week after
    assert all(core.calendar.is_working_day(day + dt.timedelta(days=n)) for n in days)
    first = await make_case(core, code="AAAA-0001", cooperating=(), due_on=day + dt.timedelta(days=1))
    second = await make_case(core, code="BBBB-0002", cooperating=(), due_on=day + dt.timedelta(days=6))
    async with core.sessions() as session, session.begin():
        for case in (first, second):
            await deadline_jobs.replan(session, core, await session.get(Case, case.id))
    moves: list[dict[str, Any]] = [
        {"date": (day - dt.timedelta(days=7)).isoformat()},  # 08:00 a week before: the meeting's reminder
        {"date": (day - dt.timedelta(days=3)).isoformat()}, {"hours": 1},  # Monday, past its digest
        {"date": (day - dt.timedelta(days=2)).isoformat()},  # the first case's reminder, not its digest
        {"days": 1},  # 08:00 the day before the meeting
        {"hours": 23}, {"hours": 1},  # 07:00 on the meeting's morning, then 08:00
        {"days": 7},  # a week later: both cases came due and went overdue meanwhile
        {"days": 1}, {"hours": 1},
    ]
    for move in moves:
        async with page.post("/api/clock", json=move) as response:
            assert response.status == 200
        await _jobs_run(demo)
        await demo.settle(timeout=30, quiet=1.5)

    lead, supervisor = demo.group("thanh-tra").chat_id, demo.group("noi-chinh").chat_id
    said = {chat: _digests_by_day(demo, chat) for chat in (lead, supervisor)}
    for chat, by_day in said.items():
        for date, texts in by_day.items():
            assert len(texts) == 1, f"{chat} got {len(texts)} digests on {date}: {texts}"
            assert texts[0].count("AAAA-0001") <= 1 and texts[0].count("BBBB-0002") <= 1, texts[0]
    before, later, last = day - dt.timedelta(days=1), day + dt.timedelta(days=7), day + dt.timedelta(days=8)
    assert sorted(said[lead]) == [before, later, last]  # the working mornings with something to say
    assert _line(said[lead][before][0], "AAAA-0001").endswith("còn 2 ngày làm việc")
    assert _line(said[lead][later][0], "AAAA-0001").endswith("quá 4 ngày làm việc")
    assert _line(said[lead][later][0], "BBBB-0002").endswith("quá 1 ngày làm việc")
    assert _line(said[lead][last][0], "AAAA-0001").endswith("quá 5 ngày làm việc")
    assert _line(said[lead][last][0], "BBBB-0002").endswith("quá 2 ngày làm việc")
    assert sorted(said[supervisor]) == [later, last]
    assert "đôn đốc" in said[supervisor][later][0] and "đôn đốc" not in said[supervisor][last][0]
    assert _line(said[supervisor][later][0], "AAAA-0001").endswith("quá 4 ngày làm việc")
    assert _line(said[supervisor][last][0], "BBBB-0002").endswith("quá 2 ngày làm việc")

    for chat in (lead, supervisor):
        reminders = [text.split("\n")[0] for text in demo.server.texts(chat)
                     if text.startswith("🔔 Nhắc lịch họp") and REVIEW_TITLE in text]
        assert reminders == [
            "🔔 Nhắc lịch họp (còn 7 ngày)", "🔔 Nhắc lịch họp (còn 1 ngày)", "🔔 Nhắc lịch họp (còn 1 giờ)"
        ]


async def _jobs_run(demo: Demo) -> None:
    """Until the bot's job runner has run every job due by its clock."""
    core = demo.app.core
    for _ in range(300):
        async with core.sessions() as session:
            due = await session.scalar(select(func.count()).select_from(Job).where(
                Job.status.in_(("pending", "running")), Job.run_at <= core.clock.now()))
        if not due:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{due} jobs still due after 30 s")


def _digests_by_day(demo: Demo, chat: int) -> dict[dt.date, list[str]]:
    """The digests a group got, by the morning in their title."""
    found: dict[dt.date, list[str]] = {}
    for text in demo.server.texts(chat):
        if text.startswith("🗓 Nhắc hạn xử lý ngày "):
            date = dt.datetime.strptime(text.split("\n")[0].rsplit(" ", 1)[1], "%d/%m/%Y").date()
            found.setdefault(date, []).append(text)
    return found


def _line(digest: str, code: str) -> str:
    [line] = [line for line in digest.split("\n") if code in line]
    return line
