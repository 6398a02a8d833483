"""Nothing left in the database links an anonymous reporter to a case once their messages are delivered:
messages to people are deleted once delivered or failed, a relayed question keeps only a sealed note."""

from __future__ import annotations

import asyncio
import os
import re
import stat
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot import relay
from bot.delivery.ratelimit import Limits
from bot.delivery.sender import Sender
from bot.privacy import Privacy
from handlers.telegram.sender import TelegramTransport
from runner.app import App
from simulator.botapi import FakeBotAPI
from storage.db import migrate
from storage.models import OutboxMessage
from tests import officer_acts as acts
from tests.officer_kit import CHATS, CITIZEN, NOW, bind_groups, make_case, officer
from tests.sealed import chat_key
from tests.test_e2e_citizen import USER, Citizen, app  # noqa: F401  (the running bot, as a fixture)


async def _rows(sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_delivered_receipt_leaves_no_pin_and_no_link_to_the_case(app: App, server: FakeBotAPI) -> None:  # noqa: F811
    c = Citizen(server)
    await server.wait_for("getUpdates")
    await c.say("/start")
    await c.press("📝 Gửi phản ánh mới")
    await c.press("Tố cáo")
    await c.press("Bỏ qua")
    await c.say("Hạ Long")
    await c.press("Phường Hạ Long")
    await c.say("Ông X, cán bộ phường")
    await c.say("Cán bộ phường nhận tiền để làm nhanh hồ sơ đất đai cho người quen")
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
    await server.wait_for("sendMessage", lambda r: code in r.params.get("text", ""), chat_id=-1001)

    for _ in range(100):  # the sender records each delivery just after Telegram accepted it
        rows = await _rows(app.core.sessions)
        if all(r.status == "sent" for r in rows):
            break
        await asyncio.sleep(0.05)
    assert all(r.status == "sent" for r in rows)
    assert not [r for r in rows if r.chat_id == chat_key(app.core, USER)], \
        "no message to the citizen is kept once delivered: nothing dates their chat against the case"
    for row in rows:
        assert row.chat_id == "-1001" and row.sealed is None
        assert pin not in repr(row.payload), "the PIN is not kept after delivery"
        assert "Hoàng Văn Em" not in repr(row.payload) and "0977" not in repr(row.payload)
    assert rows and all(r.case_id is not None for r in rows), "the agency's cards keep their case"

    await c.say(f"/status {code} {pin}")
    assert any(code in t and "Tình trạng" in t for t in server.texts(USER))


async def test_delivered_question_keeps_only_a_sealed_note_and_the_reply_still_reaches_the_case(
        core, server) -> None:
    await bind_groups(core)
    case = await make_case(core)
    await acts.request_info(core, officer("thanh-tra"), case.id, case.version, "Ai nhận tiền?", now=NOW)
    bot = Bot("42:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
    try:
        sender = Sender(core.sessions, {"telegram": TelegramTransport(bot)}, "w", limits=Limits.off(),
                        privacy=core.privacy)
        await sender.run_once()
    finally:
        await bot.session.close()
    assert "Ai nhận tiền" in server.texts(CITIZEN)[-1], "the question reached the citizen's chat"
    question = next(r for r in await _rows(core.sessions) if r.chat_id == chat_key(core, CITIZEN))
    assert question.status == "sent" and question.case_id is None and question.agency_id is None
    assert question.payload == {} and "Ai nhận tiền" not in repr(core.privacy.open_value(question.sealed))
    assert CITIZEN not in repr(question.payload) + question.idempotency_key + question.chat_id
    day = question.sent_at.replace(hour=0, minute=0, second=0, microsecond=0)
    assert question.created_at == question.not_before == question.sent_at == day, \
        "no time finer than the day ties the question to the case's events"
    assert await relay.question_case(core, "telegram", CITIZEN, question.message_id) == case.id
    answered = await relay.citizen_answer(core, channel="telegram", user_id=CITIZEN, chat_id=CITIZEN,
                                          replied_to=question.message_id, text="Ông X, ngày 5/3")
    assert answered is not None and answered.code == case.code
    relayed = [r for r in await _rows(core.sessions)
               if r.chat_id == CHATS["thanh-tra"] and "Ông X, ngày 5/3" in r.payload.get("text", "")]
    assert relayed, "the answer goes to the asking agency's group"


async def test_a_note_sealed_with_another_key_is_no_question(core, server) -> None:
    """A forged or foreign note (sealed with another key) cannot route a reply to a case."""
    await bind_groups(core)
    case = await make_case(core)
    other = Privacy(Fernet.generate_key())
    async with core.sessions() as session, session.begin():
        session.add(OutboxMessage(
            channel="telegram", chat_id=chat_key(core, CITIZEN), kind="text", payload={}, status="sent",
            idempotency_key="forged", message_id="991",
            sealed=other.seal_value({"payload": {"relay": "question"}, "case_id": case.id})))
    assert await relay.question_case(core, "telegram", CITIZEN, "991") is None
    assert await relay.citizen_answer(core, channel="telegram", user_id=CITIZEN, chat_id=CITIZEN,
                                      replied_to="991", text="Ông X") is None


async def test_failed_message_to_a_reporter_is_not_kept(core, server) -> None:
    await bind_groups(core)
    case = await make_case(core)
    await acts.request_info(core, officer("thanh-tra"), case.id, case.version, "Ai nhận tiền?", now=NOW)
    server.fail_next("sendMessage", 403, chat_id=CITIZEN, times=None)
    bot = Bot("42:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
    try:
        sender = Sender(core.sessions, {"telegram": TelegramTransport(bot)}, "w", limits=Limits.off(),
                        admin_ids=["1000"], admin_channel="telegram", privacy=core.privacy)
        for _ in range(3):
            await sender.run_once()
    finally:
        await bot.session.close()
    rows = await _rows(core.sessions)
    assert not [r for r in rows if r.chat_id == chat_key(core, CITIZEN)]
    report = next(r for r in rows if r.chat_id == "1000")
    assert case.code in report.payload["text"]
    assert CITIZEN not in repr(report.payload) + report.idempotency_key


@pytest.mark.parametrize("existing", [False, True])
async def test_sqlite_database_file_is_private(tmp_path: Path, existing: bool) -> None:
    path = tmp_path / "data" / "bot.db"
    if existing:
        path.parent.mkdir()
        path.touch(mode=0o644)
        os.chmod(path, 0o644)
    old = os.umask(0o022)
    try:
        await migrate(f"sqlite+aiosqlite:///{path}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
