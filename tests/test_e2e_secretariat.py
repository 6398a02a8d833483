"""End to end against the local Bot-API server through runner.app.start: the secretariat lists the coming
meetings, opens a card, gets the agenda as a message, a DOCX and an .ics file, and an agency confirms
who attends by button and reply."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from runner.app import App, start
from runner.settings import AppSettings as Settings
from simulator.botapi import FakeBotAPI
from tests import tg
from tests.conftest import SAMPLE_RULES
from tests.test_e2e_officers import buttons, message_id, said

ADMIN, SECRETARY, INSPECTOR = 1000, 601, 602
NOI_CHINH, THANH_TRA = -1001, -1002
T = 15.0


@pytest.fixture
async def app(tmp_path: Path, server: FakeBotAPI) -> AsyncIterator[App]:
    (tmp_path / "data").mkdir()  # the operator's data folder: only the default one is made by the bot
    settings = Settings(
        _env_file=None,
        bot_token="42:TEST",
        telegram_api_url=server.url,
        admin_ids=[str(ADMIN)],
        database_url=f"sqlite+aiosqlite:///{tmp_path}/data/bot.db",
        rules_file=str(SAMPLE_RULES),
    )
    running = await start(settings)
    try:
        yield running
    finally:
        await running.stop()


def press(server: FakeBotAPI, chat: int, user: int, data: str, message: int) -> None:
    server.push_update(tg.callback_query(user, data, chat_id=chat, message_id=message))


async def test_meetings_card_agenda_files_and_attendance(app: App, server: FakeBotAPI) -> None:
    for chat, agency in ((NOI_CHINH, "noi-chinh"), (THANH_TRA, "thanh-tra")):
        server.push_update(tg.group_message(chat, ADMIN, f"/bind {agency}"))
        await said(server, chat, "")  # the binding is confirmed
    server.push_update(tg.group_message(NOI_CHINH, SECRETARY, "/meetings"))
    listing = await said(server, NOI_CHINH, "Các cuộc họp sắp tới")
    first_label, first_data = next(iter(buttons(listing).items()))
    assert first_label.startswith("Cuộc họp số")
    press(server, NOI_CHINH, SECRETARY, first_data, message_id(server, NOI_CHINH, "Các cuộc họp sắp tới"))
    card = await said(server, NOI_CHINH, "Xác nhận dự họp:")
    assert "⏳ Thanh tra tỉnh: chưa xác nhận" in card.params["text"]
    press(
        server,
        NOI_CHINH,
        SECRETARY,
        buttons(card)["📊 Chương trình họp"],
        message_id(server, NOI_CHINH, "Xác nhận dự họp:"),
    )
    agenda = await said(server, NOI_CHINH, "📋 Chương trình họp")
    assert "I. Kết quả tiếp nhận" in agenda.params["text"]
    docx = await server.wait_for(
        "sendDocument",
        lambda r: any(f.endswith(".docx") for f in r.files.values()),
        chat_id=NOI_CHINH,
        timeout=T,
    )
    ics = await server.wait_for(
        "sendDocument",
        lambda r: any(f.endswith(".ics") for f in r.files.values()),
        chat_id=NOI_CHINH,
        timeout=T,
    )
    assert docx.ok and ics.ok and docx.params["caption"].startswith("Chương trình họp")

    server.push_update(tg.group_message(THANH_TRA, INSPECTOR, "/meetings"))
    listing = await said(server, THANH_TRA, "Các cuộc họp sắp tới")
    press(
        server,
        THANH_TRA,
        INSPECTOR,
        buttons(listing)[first_label],
        message_id(server, THANH_TRA, "Các cuộc họp sắp tới"),
    )
    card = await said(server, THANH_TRA, "Xác nhận dự họp:")
    assert "🕑 Dời lịch" not in buttons(card)
    press(
        server,
        THANH_TRA,
        INSPECTOR,
        buttons(card)["✅ Chúng tôi dự họp"],
        message_id(server, THANH_TRA, "Xác nhận dự họp:"),
    )
    await said(server, THANH_TRA, "Thành phần dự họp")
    prompt = message_id(server, THANH_TRA, "Thành phần dự họp")
    server.push_update(tg.reply(THANH_TRA, INSPECTOR, prompt, "Bà Đỗ Thu Hà, Phó Chánh Thanh tra"))
    await said(server, THANH_TRA, "Đã ghi nhận thành phần dự họp")
    chair = await said(server, NOI_CHINH, "✅ Thanh tra tỉnh: dự họp — Bà Đỗ Thu Hà, Phó Chánh Thanh tra")
    assert "🕑 Dời lịch" in buttons(chair)
