"""Relayed questions and answers: the officer and the reporter never see each other."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import officer as ca
from bot import relay
from bot import status as st
from bot.deadlines import resume
from bot.evidence import Evidence
from tests import officer_acts as acts
from tests.officer_kit import (
    CHATS,
    CITIZEN,
    IDENTITY,
    NOW,
    bind_groups,
    card_id,
    load,
    make_case,
    mark_sent,
    officer,
    outbox,
    shown_text,
)


async def _ask(core, case, question: str, message_id: str, now=NOW) -> None:
    current = await load(core, case.id)
    await acts.request_info(core, officer("thanh-tra"), case.id, current.version, question, now=now)
    sent = [m for m in await outbox(core, chat_id=CITIZEN) if m.payload.get("relay") == "question"][-1]
    await mark_sent(core, sent.id, message_id)


async def test_question_reaches_the_reporter_without_the_officer(core) -> None:
    await bind_groups(core)
    case = await make_case(core)
    await acts.request_info(
        core, officer("thanh-tra"), case.id, case.version, "Ai nhận tiền, ngày nào?", now=NOW
    )
    after = await load(core, case.id)
    assert after.status == st.WAITING_INFO and after.paused_at == NOW
    question = (await outbox(core, chat_id=CITIZEN))[-1]
    assert question.payload["expects_answer"] is True
    assert "Ai nhận tiền, ngày nào?" in question.payload["text"]
    assert "Trần Văn Bình" not in question.payload["text"] and "501" not in question.payload["text"]
    card = (await outbox(core, chat_id=CHATS["thanh-tra"], kind="edit_card"))[-1]
    assert "tạm dừng" in card.payload["text"]


async def test_answer_resumes_the_clock_and_lands_under_the_card(core) -> None:
    await bind_groups(core)
    case = await make_case(core)
    lead = officer("thanh-tra")
    await acts.accept(core, lead, case.id, case.version, now=NOW)
    accepted = await load(core, case.id)
    await _ask(core, case, "Có biên lai không?", "9001")
    later = NOW + dt.timedelta(days=9)
    answered = await relay.citizen_answer(
        core,
        channel="telegram",
        user_id=CITIZEN,
        chat_id=CITIZEN,
        replied_to="9001",
        text="Có, tôi gửi ảnh",
        now=later,
        media=[Evidence("photo", "receipt")],
    )
    assert answered is not None and answered.code == "ABCD-EFGH" and answered.resumed
    after = await load(core, case.id)
    assert after.status == st.ACCEPTED and after.paused_at is None
    assert after.due_on == resume(accepted.due_on, NOW.date(), later.date(), "calendar_days", core.calendar)
    assert after.due_on > accepted.due_on
    lead_msgs = await outbox(core, chat_id=CHATS["thanh-tra"])
    relayed = [m for m in lead_msgs if m.kind == "text" and "Có, tôi gửi ảnh" in m.payload["text"]]
    assert relayed and relayed[0].payload["reply_to"] == await card_id(core, case.id, "thanh-tra")
    assert any(m.kind == "media" and m.payload["items"][0]["file_id"] == "receipt" for m in lead_msgs)
    for m in lead_msgs:
        assert all(secret not in shown_text(m.payload) for secret in (*IDENTITY.values(), CITIZEN))
    assert "tiếp tục được giải quyết" in (await outbox(core, chat_id=CITIZEN))[-1].payload["text"]


async def test_answer_before_acceptance_returns_to_new(core) -> None:
    await bind_groups(core)
    case = await make_case(core, named=False)
    await _ask(core, case, "Địa chỉ cụ thể?", "9100")
    await relay.citizen_answer(
        core,
        channel="telegram",
        user_id=CITIZEN,
        chat_id=CITIZEN,
        replied_to="9100",
        text="Tổ 5 khu 3",
        now=NOW,
    )
    assert (await load(core, case.id)).status == st.NEW


async def test_reply_goes_to_the_case_the_question_was_about(core) -> None:
    await bind_groups(core)
    first = await make_case(core, code="AAAA-AAAA")
    second = await make_case(core, code="BBBB-BBBB")
    await _ask(core, first, "Câu hỏi 1", "9201")
    await _ask(core, second, "Câu hỏi 2", "9202")
    answered = await relay.citizen_answer(
        core,
        channel="telegram",
        user_id=CITIZEN,
        chat_id=CITIZEN,
        replied_to="9201",
        text="Trả lời cho hồ sơ một",
    )
    assert answered is not None and answered.code == "AAAA-AAAA"
    assert (await load(core, first.id)).status == st.NEW
    assert (await load(core, second.id)).status == st.WAITING_INFO


@pytest.mark.parametrize("chat, replied_to", [(CITIZEN, "12345"), ("7999", "9301")])
async def test_other_replies_are_not_taken_as_answers(core, chat, replied_to) -> None:
    await bind_groups(core)
    case = await make_case(core)
    await _ask(core, case, "Câu hỏi", "9301")
    assert (
        await relay.citizen_answer(
            core, channel="telegram", user_id=chat, chat_id=chat, replied_to=replied_to, text="x"
        )
        is None
    )
    assert (await load(core, case.id)).status == st.WAITING_INFO


async def test_reply_to_the_card_asks_the_citizen(core) -> None:
    await bind_groups(core)
    case = await make_case(core)
    lead = officer("thanh-tra")
    assert await ca.card_of_message(core, lead, await card_id(core, case.id, "thanh-tra")) == case.id
    await ca.reply_to_card(core, lead, case.id, "Xin gửi thêm ảnh hiện trường")
    assert "Xin gửi thêm ảnh hiện trường" in (await outbox(core, chat_id=CITIZEN))[-1].payload["text"]
    await ca.reply_to_card(core, officer("noi-chinh"), case.id, "Ban đã nắm vụ này")
    assert "Ban đã nắm vụ này" in (await outbox(core, chat_id=CHATS["thanh-tra"]))[-1].payload["text"]
    assert all("Ban đã nắm" not in m.payload["text"] for m in await outbox(core, chat_id=CITIZEN))


async def test_an_answers_files_pass_the_evidence_checks(core) -> None:
    """A file sent with an answer is checked like a report's evidence: a refused one is left out, the text
    still reaches the agency, and the citizen is told why."""
    await bind_groups(core)
    case = await make_case(core)
    await _ask(core, case, "Có biên lai không?", "9002")
    too_big = (core.settings.max_file_mb + 1) * 1024 * 1024
    answered = await relay.citizen_answer(
        core, channel="telegram", user_id=CITIZEN, chat_id=CITIZEN, replied_to="9002",
        text="Biên lai đây", now=NOW + dt.timedelta(days=1),
        media=[Evidence("document", "huge", size=too_big, name="bien-lai.pdf"),
               Evidence("document", "virus", size=1000, name="bien-lai.exe"),
               Evidence("photo", "fine", size=50_000, mime="image/jpeg")],
    )
    assert answered is not None
    said = answered.texts()
    assert said[0].startswith("Đã chuyển câu trả lời") and len(said) == 2  # and why a file was not taken
    lead_msgs = await outbox(core, chat_id=CHATS["thanh-tra"])
    assert any(m.kind == "text" and "Biên lai đây" in m.payload["text"] for m in lead_msgs)
    sent_files = [i["file_id"] for m in lead_msgs if m.kind == "media" for i in m.payload["items"]]
    assert sent_files == ["fine"]
    stored = {a.file_id for a in (await load(core, case.id)).attachments}
    assert "huge" not in stored and "virus" not in stored and "fine" in stored
