"""Every text the bot sends fits Telegram's limits at the largest inputs it accepts: against the strict local
Bot API server, a maximum-length report, question, answer, timeline and /bind argument are all delivered,
in parts where needed, and nothing is refused."""

from __future__ import annotations

import pytest

from bot.cases import Citizen, Draft, Evidence, submit
from bot.longtext import split_text, utf16_length
from runner.app import App
from simulator.botapi import FakeBotAPI
from tests import tg
from tests.test_e2e_officers import ADMIN, CITIZEN, GROUPS, OFFICERS, app, buttons, delivered, said  # noqa: F401

STORY = ("Cán bộ địa chính phường nhận tiền để cấp sổ đỏ nhanh cho người quen. " * 60)[:4000]
SHORT = "Tổ 3 khu 5 phường Bãi Cháy, thành phố Hạ Long, tỉnh Quảng Ninh " * 5  # 300+ characters
LONGEST = 4096  # the longest text a Telegram user can send


def refused(server: FakeBotAPI) -> list[str]:
    return [f"{r.method} {r.params.get('message_id')}: {r.description}" for r in server.requests if not r.ok]


async def test_largest_inputs_reach_everyone_in_parts_that_telegram_accepts(app: App,  # noqa: F811
                                                                            server: FakeBotAPI) -> None:
    for agency_id in ("noi-chinh", "thanh-tra"):
        server.push_update(tg.group_message(GROUPS[agency_id], ADMIN, f"/bind {agency_id}"))
        await said(server, GROUPS[agency_id], f"({agency_id})")
    async with app.core.sessions() as session, session.begin():
        draft = Draft(kind="corruption_tip", summary=STORY, subject=SHORT[:300], area_name=SHORT[:300],
                      occurred=SHORT[:300], named=True, name=SHORT[:300], phone="0987654321",
                      address=SHORT[:300], files=(Evidence(media="photo", file_id="evidence-1"),))
        filed = await submit(session, app.core, Citizen("telegram", str(CITIZEN), str(CITIZEN)), draft)
    code = filed.case.code
    lead = GROUPS["noi-chinh"]
    await server.wait_for("sendPhoto", chat_id=lead, timeout=10)
    await delivered(app)
    card = [r for r in server.calls("sendMessage", chat_id=lead) if r.ok][1:]  # after the /bind answer
    assert len(card) >= 2 and code in card[0].params["text"]
    assert "reply_markup" in card[-1].params and all("reply_markup" not in r.params for r in card[:-1])
    assert STORY[-200:].strip() in "".join(r.params["text"] for r in card), "nothing of the story is lost"

    # Accept: the multi-part card is edited in place, part by part.
    server.push_update(tg.callback_query(OFFICERS["noi-chinh"], buttons(card[-1])["✅ Thụ lý"], chat_id=lead,
                                         query_id="q-accept"))
    edit = await said(server, lead, "Người thụ lý", method="editMessageText")
    assert {int(edit.params["message_id"])} <= {int(m) for m in await card_ids(app, code)}
    await delivered(app)

    # The longest question an officer can write reaches the citizen, who answers with the longest text.
    first_part = await card_ids(app, code)
    question = "Xin cho biết ai nhận tiền? " + "Chi tiết. " * 600
    question = question[:LONGEST]
    server.push_update(tg.reply(lead, OFFICERS["noi-chinh"], int(first_part[0]), question))
    await said(server, CITIZEN, "Xin cho biết ai nhận tiền?")
    await delivered(app)
    to_citizen = [r for r in server.calls("sendMessage", chat_id=CITIZEN) if r.ok]
    asked = to_citizen[-1]
    assert asked.params["reply_markup"]["force_reply"] is True
    answer = ("Ông Nguyễn Văn A nhận năm triệu đồng. " * 120)[:LONGEST]
    last = max(m for c, m in server.messages if c == str(CITIZEN))
    server.push_update(tg.reply(CITIZEN, CITIZEN, last, answer))
    await said(server, lead, "Ông Nguyễn Văn A nhận năm triệu đồng.")
    await said(server, CITIZEN, "Đã chuyển câu trả lời")
    await delivered(app)

    # /case shows a long timeline; /bind echoes a long argument.
    server.push_update(tg.group_message(lead, OFFICERS["noi-chinh"], f"/case {code}"))
    await server.wait_for("sendMessage", lambda r: code in r.params.get("text", "") and "Người thụ lý" not in
                          r.params.get("text", ""), chat_id=lead, timeout=10)
    server.push_update(tg.group_message(-1999, ADMIN, "/bind " + "x" * 4000))
    await server.wait_for("sendMessage", chat_id=-1999, timeout=10)
    await delivered(app)
    assert refused(server) == []


async def card_ids(running: App, code: str) -> list[str]:
    from sqlalchemy import select

    from storage.models import CardMessage, Case

    async with running.core.sessions() as session:
        case_id = (await session.execute(select(Case.id).where(Case.code == code))).scalar_one()
        rows = await session.scalars(select(CardMessage.message_id).where(
            CardMessage.case_id == case_id, CardMessage.agency_id == "noi-chinh").order_by(CardMessage.id))
        return list(rows.all())


@pytest.mark.parametrize("limit", [20, 100, 4096])
def test_split_parts_fit_and_keep_every_word(limit: int) -> None:
    text = ("Đoạn một, câu một. Câu hai có emoji 😀😀!\n\nĐoạn hai:\n- dòng một\n- dòng hai " * 300
            + "x" * 5000)
    parts = split_text(text, limit, utf16_length)
    assert all(0 < utf16_length(p) <= limit for p in parts)
    assert "".join(text.split()) == "".join("".join(parts).split())


def test_split_prefers_paragraphs_then_sentences() -> None:
    text = "Một hai ba. Bốn năm sáu.\n\nBảy tám chín."
    assert split_text(text, 30) == ["Một hai ba. Bốn năm sáu.", "Bảy tám chín."]
    assert split_text("Một hai ba. Bốn năm sáu.", 15) == ["Một hai ba.", "Bốn năm sáu."]
    assert split_text(text, 100) == [text]
