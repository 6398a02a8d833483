"""End to end: the real app (runner.app.start) polls the local Bot-API server; a citizen files a report from
/start to the receipt code, the lead agency's group receives the card, and the code and PIN look it up."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from runner.app import App, start
from runner.settings import AppSettings as Settings
from simulator.botapi import FakeBotAPI, Request
from storage.models import AgencyChat
from tests import tg
from tests.conftest import SAMPLE_RULES

USER = 777
GROUP = -1001


@pytest.fixture
async def app(tmp_path: Path, server: FakeBotAPI) -> AsyncIterator[App]:
    (tmp_path / "data").mkdir()  # the operator's data folder: only the default one is made by the bot
    settings = Settings(
        _env_file=None,
        bot_token="42:TEST",
        telegram_api_url=server.url,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/data/bot.db",
        rules_file=str(SAMPLE_RULES),
    )
    running = await start(settings)
    async with running.core.sessions() as session, session.begin():
        session.add(AgencyChat(agency_id="thanh-tra", channel="telegram", chat_id=str(GROUP)))
    try:
        yield running
    finally:
        await running.stop()


class Citizen:
    def __init__(self, server: FakeBotAPI) -> None:
        self.server = server
        self.last: Request | None = None

    def _prompts(self) -> list[Request]:
        return [r for r in self.server.calls("sendMessage", chat_id=USER) if "reply_markup" in r.params]

    async def _send(self, update: dict) -> Request:
        seen = len(self._prompts())
        self.server.push_update(update)
        self.last = await self.server.wait_for(
            "sendMessage", lambda r: "reply_markup" in r.params, chat_id=USER, count=seen + 1
        )
        return self.last

    async def say(self, text: str) -> Request:
        return await self._send(tg.private_message(USER, text))

    async def send_photo(self, file_id: str) -> Request:
        return await self._send(tg.photo(USER, USER, file_id))

    async def press(self, label: str) -> Request:
        assert self.last is not None
        buttons = {
            b["text"]: b["callback_data"]
            for row in self.last.params["reply_markup"]["inline_keyboard"]
            for b in row
        }
        return await self._send(tg.callback_query(USER, buttons[label]))


async def test_citizen_files_a_report_from_start_to_receipt_and_looks_it_up(app: App, server: FakeBotAPI):
    c = Citizen(server)
    await server.wait_for("getUpdates")
    await c.say("/start")
    await c.press("📝 Gửi phản ánh mới")
    await c.press("Tố cáo")
    await c.press("Bỏ qua")
    await c.say("Hạ Long")
    await c.press("Phường Hạ Long")
    await c.say("Ông X, cán bộ phường")
    await c.say("Cán bộ phường nhận tiền để làm nhanh hồ sơ đất đai cho một số người quen")
    await c.say("tháng trước")
    await c.send_photo("evidence-photo")
    await c.press("Xong")
    await c.press("Ghi rõ họ tên")
    await c.say("Hoàng Văn Em")
    await c.say("0977 000 111")
    await c.say("Hồng Gai, Hạ Long")
    await c.press("✅ Gửi")
    receipt = next(t for t in reversed(server.texts(USER)) if "Mã tra cứu" in t)
    code = re.search(r"Mã tra cứu: (\S+)", receipt).group(1)
    pin = re.search(r"Mã PIN: (\d{6})", receipt).group(1)
    assert "Thanh tra tỉnh" in receipt and "Thời hạn" in receipt

    card = await server.wait_for("sendMessage", lambda r: code in r.params.get("text", ""), chat_id=GROUP)
    assert "Hoàng Văn Em" not in card.params["text"] and "0977" not in card.params["text"]
    await server.wait_for("sendPhoto", chat_id=GROUP)

    await c.say(f"/status {code} {pin}")
    status = next(t for t in reversed(server.texts(USER)) if "Tình trạng" in t)
    assert code in status and "Đã tiếp nhận, chờ thụ lý" in status


async def test_an_edited_message_is_answered_by_the_running_bot(app: App, server: FakeBotAPI):
    """Telegram sends edits only to a bot that asks for them (allowed_updates): the running bot does, and
    tells the citizen that edits are not read and how to add information."""
    c = Citizen(server)
    await server.wait_for("getUpdates")
    await c.say("/new")
    raw = tg.private_message(USER, "Sửa: cán bộ phường, không phải cán bộ xã")
    message = raw.pop("message")
    server.push_update({**raw, "edited_message": {**message, "edit_date": message["date"] + 60}})
    told = await server.wait_for("sendMessage", lambda r: "tin nhắn đã sửa" in r.params["text"], chat_id=USER)
    assert "tin nhắn mới" in told.params["text"]
    assert "edited_message" in (server.allowed_updates or [])
    asked = await server.wait_for("sendMessage", lambda r: "reply_markup" in r.params, chat_id=USER, count=2)
    assert "loại đơn" in asked.params["text"], "the current question is asked again"
