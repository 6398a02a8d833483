"""End to end against the local Bot-API server through runner.app.start: a case goes from submission through
acceptance, a relayed question and answer, a transfer and resolution; each party sees what it should."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cases import Citizen, Draft, Evidence, submit
from runner.app import App, start
from runner.settings import AppSettings as Settings
from simulator.botapi import FakeBotAPI, Request
from storage.models import OutboxMessage
from tests import tg
from tests.conftest import SAMPLE_RULES

ADMIN, CITIZEN = 1000, 98765432
GROUPS = {"noi-chinh": -1001, "thanh-tra": -1002, "ubkt": -1003}
OFFICERS = {"noi-chinh": 501, "thanh-tra": 502, "ubkt": 503}
SECRETS = ("Phạm Thị Lan", "0987654321", "Tổ 3 khu 5 Bãi Cháy")
T = 10.0


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


def buttons(request: Request) -> dict[str, str]:
    return {
        b["text"]: b["callback_data"]
        for row in request.params["reply_markup"]["inline_keyboard"]
        for b in row
    }


def message_id(server: FakeBotAPI, chat: int, contains: str) -> int:
    ids = [
        mid for (cid, mid), m in server.messages.items() if cid == str(chat) and contains in m.get("text", "")
    ]
    assert ids, f"no message with {contains!r} in {chat}"
    return max(ids)


async def said(server: FakeBotAPI, chat: int, contains: str, method: str = "sendMessage") -> Request:
    return await server.wait_for(
        method, lambda r: contains in r.params.get("text", ""), chat_id=chat, timeout=T
    )


async def delivered(app: App) -> None:
    """Wait until the sender has recorded every message it sent (ids of cards, questions, prompts)."""
    for _ in range(int(T / 0.05)):
        async with app.core.sessions() as session:
            left = (
                await session.execute(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status.in_(("pending", "sending")))
                )
            ).scalar_one()
        if left == 0:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("outbox not delivered")


async def alert(server: FakeBotAPI, query_id: str) -> Request:
    return await server.wait_for(
        "answerCallbackQuery", lambda r: r.params.get("callback_query_id") == query_id, timeout=T
    )


async def test_case_from_submission_to_resolution(app: App, server: FakeBotAPI) -> None:
    for agency_id, chat in GROUPS.items():
        server.push_update(tg.group_message(chat, ADMIN, f"/bind {agency_id}"))
        await said(server, chat, f"({agency_id})")
    server.push_update(tg.group_message(-1999, 55, "/bind ubkt"))
    await said(server, -1999, "Chỉ quản trị viên")

    async with app.core.sessions() as session, session.begin():
        draft = Draft(
            kind="corruption_tip",
            summary="Cán bộ địa chính phường tham nhũng, nhận tiền để cấp sổ đỏ",
            named=True,
            name=SECRETS[0],
            phone=SECRETS[1],
            address=SECRETS[2],
            files=(Evidence(media="photo", file_id="evidence-1"),),
        )
        filed = await submit(session, app.core, Citizen("telegram", str(CITIZEN), str(CITIZEN)), draft)
    code = filed.case.code

    # The lead (Ban Nội chính) and the co-operating Thanh tra get their cards and the evidence.
    lead_card = await said(server, GROUPS["noi-chinh"], code)
    coop_card = await said(server, GROUPS["thanh-tra"], "PHỐI HỢP")
    await server.wait_for("sendPhoto", chat_id=GROUPS["noi-chinh"], timeout=T)
    await delivered(app)
    card_id = message_id(server, GROUPS["noi-chinh"], "Hồ sơ " + code)

    # Forbidden: the co-operating group replays the lead's accept button.
    server.push_update(
        tg.callback_query(
            OFFICERS["thanh-tra"],
            buttons(lead_card)["✅ Thụ lý"],
            chat_id=GROUPS["thanh-tra"],
            query_id="q-forged",
        )
    )
    assert (await alert(server, "q-forged")).params.get("show_alert") is True
    assert list(buttons(coop_card)) == ["💬 Góp ý / cung cấp thông tin"]

    # Accept: the card is edited in place, the group sees the confirmation, the citizen is told.
    server.push_update(
        tg.callback_query(
            OFFICERS["noi-chinh"],
            buttons(lead_card)["✅ Thụ lý"],
            chat_id=GROUPS["noi-chinh"],
            message_id=card_id,
            query_id="q-accept",
        )
    )
    assert not (await alert(server, "q-accept")).params.get("show_alert")
    edited = await said(server, GROUPS["noi-chinh"], "Người thụ lý", method="editMessageText")
    assert int(edited.params["message_id"]) == card_id
    await said(server, GROUPS["noi-chinh"], "đã thụ lý hồ sơ")
    await said(server, CITIZEN, "thụ lý giải quyết")

    # A question by replying to the card, relayed to the citizen; the answer comes back under the card.
    await delivered(app)
    server.push_update(
        tg.reply(GROUPS["noi-chinh"], OFFICERS["noi-chinh"], card_id, "Ông/bà đã nộp bao nhiêu tiền?")
    )
    question = await said(server, CITIZEN, "Ông/bà đã nộp bao nhiêu tiền?")
    assert question.params["reply_markup"]["force_reply"] is True
    await delivered(app)
    q_id = message_id(server, CITIZEN, "Ông/bà đã nộp bao nhiêu tiền?")
    server.push_update(tg.reply(CITIZEN, CITIZEN, q_id, "Năm triệu đồng"))
    answer = await said(server, GROUPS["noi-chinh"], "Năm triệu đồng")
    assert int(answer.params["reply_parameters"]["message_id"]) == card_id
    await said(server, CITIZEN, "Đã chuyển câu trả lời")

    # Transfer to UBKT: pick the agency, reply to the prompt with the reason.
    latest = server.calls("editMessageText", chat_id=GROUPS["noi-chinh"])[-1]
    server.push_update(
        tg.callback_query(
            OFFICERS["noi-chinh"],
            buttons(latest)["↪️ Chuyển đơn"],
            chat_id=GROUPS["noi-chinh"],
            query_id="q-transfer",
        )
    )
    picker = await said(server, GROUPS["noi-chinh"], "chọn cơ quan nhận chuyển đơn")
    server.push_update(
        tg.callback_query(
            OFFICERS["noi-chinh"],
            buttons(picker)["Ủy ban Kiểm tra Tỉnh ủy"],
            chat_id=GROUPS["noi-chinh"],
            query_id="q-pick",
        )
    )
    await said(server, GROUPS["noi-chinh"], "lý do chuyển hồ sơ")
    await delivered(app)
    prompt_id = message_id(server, GROUPS["noi-chinh"], "lý do chuyển hồ sơ")
    server.push_update(
        tg.reply(GROUPS["noi-chinh"], OFFICERS["noi-chinh"], prompt_id, "Người vi phạm là đảng viên")
    )
    new_card = await said(server, GROUPS["ubkt"], code)
    await said(server, GROUPS["noi-chinh"], "Đã chuyển cho Ủy ban Kiểm tra Tỉnh ủy", method="editMessageText")
    await said(server, CITIZEN, "chuyển đến Ủy ban Kiểm tra Tỉnh ủy")

    # The old lead's buttons no longer work.
    server.push_update(
        tg.callback_query(
            OFFICERS["noi-chinh"],
            buttons(latest)["❓ Hỏi người gửi"],
            chat_id=GROUPS["noi-chinh"],
            query_id="q-old",
        )
    )
    assert (await alert(server, "q-old")).params.get("show_alert") is True

    # UBKT accepts and resolves with a result for the citizen.
    server.push_update(
        tg.callback_query(
            OFFICERS["ubkt"], buttons(new_card)["✅ Thụ lý"], chat_id=GROUPS["ubkt"], query_id="q-accept2"
        )
    )
    accepted = await said(server, GROUPS["ubkt"], "Người thụ lý", method="editMessageText")
    server.push_update(
        tg.callback_query(
            OFFICERS["ubkt"],
            buttons(accepted)["🏁 Đã giải quyết"],
            chat_id=GROUPS["ubkt"],
            query_id="q-resolve",
        )
    )
    await said(server, GROUPS["ubkt"], "kết quả giải quyết")
    await delivered(app)
    prompt_id = message_id(server, GROUPS["ubkt"], "kết quả giải quyết")
    server.push_update(tg.reply(GROUPS["ubkt"], OFFICERS["ubkt"], prompt_id, "Đã kỷ luật khiển trách cán bộ"))
    await said(server, CITIZEN, "Kết quả: Đã kỷ luật khiển trách cán bộ")
    await said(server, GROUPS["ubkt"], "Đã giải quyết xong", method="editMessageText")

    # Nobody saw what they should not: groups never the reporter, the citizen never an officer.
    def texts(chat: int) -> list[str]:
        return [
            f"{r.params.get('text', '')} {r.params.get('caption', '')}"
            for r in server.requests
            if str(r.params.get("chat_id")) == str(chat)
        ]

    for chat in GROUPS.values():
        for text in texts(chat):
            assert all(secret not in text for secret in SECRETS) and str(CITIZEN) not in text
    for text in texts(CITIZEN):
        assert "Officer" not in text and str(OFFICERS["noi-chinh"]) not in text
