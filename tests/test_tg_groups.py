"""Officers on Telegram: real aiogram Updates through the Dispatcher with a mocked Bot API session."""

from __future__ import annotations

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage

from bot import cards
from bot import status as st
from handlers.telegram import build_dispatcher
from tests import tg
from tests.officer_kit import CHATS, CITIZEN, bind_groups, card_id, load, make_case, mark_sent, outbox

ADMIN = 1000
LEAD_CHAT = int(CHATS["thanh-tra"])


@pytest.fixture
async def env(core):
    await bind_groups(core)
    case = await make_case(core)
    return core, case, build_dispatcher(core), tg.MockedBot()


def _alert(bot: tg.MockedBot) -> AnswerCallbackQuery:
    return bot.calls(AnswerCallbackQuery)[-1]


async def test_accept_button_in_the_lead_group(env) -> None:
    core, case, dp, bot = env
    data = tg.case_button(core, "thanh-tra", case.id, case.version, cards.ACCEPT)
    await dp.feed_update(bot, tg.update(tg.callback_query(501, data, chat_id=LEAD_CHAT)))
    answer = _alert(bot)
    assert not answer.show_alert and "thụ lý" in answer.text
    assert (await load(core, case.id)).status == st.ACCEPTED


@pytest.mark.parametrize(
    "where, data_for, key_text",
    [
        ("noi-chinh", "noi-chinh", "Cơ quan phối hợp chỉ góp ý"),  # co-operating group presses accept
        ("noi-chinh", "thanh-tra", "Nút bấm không hợp lệ"),  # the lead's button replayed elsewhere
        ("ubkt", "ubkt", "không xử lý hồ sơ này"),  # an agency that does not hold the case
        ("unbound", "thanh-tra", "chưa được gắn"),  # a group that is not bound at all
    ],
)
async def test_buttons_pressed_where_they_may_not_act_are_refused(env, where, data_for, key_text) -> None:
    core, case, dp, bot = env
    chat = -4242 if where == "unbound" else int(CHATS[where])
    data = tg.case_button(core, data_for, case.id, case.version, cards.ACCEPT)
    await dp.feed_update(bot, tg.update(tg.callback_query(501, data, chat_id=chat)))
    answer = _alert(bot)
    assert answer.show_alert and key_text in answer.text
    assert (await load(core, case.id)).status == st.NEW


async def test_forged_callback_data_is_refused(env) -> None:
    core, case, dp, bot = env
    await dp.feed_update(
        bot, tg.update(tg.callback_query(501, f"ca:{case.id}:acc:1:000000000000", chat_id=LEAD_CHAT))
    )
    assert _alert(bot).show_alert and "không hợp lệ" in _alert(bot).text
    await dp.feed_update(bot, tg.update(tg.callback_query(501, "ca:nonsense", chat_id=LEAD_CHAT)))
    assert _alert(bot).show_alert
    assert (await load(core, case.id)).status == st.NEW


@pytest.mark.parametrize("tag", ["đđđđđđđđđđđđ", "0000000000é", "ẞ"])
async def test_forged_callback_data_with_non_ascii_letters_is_refused_like_any_forged(env, tag) -> None:
    """Callback data is any text a client sends: letters outside ASCII in the signature are a forgery,
    not a failure (the officer is not told the system broke, and the case stays as it was)."""
    core, case, dp, bot = env
    await dp.feed_update(
        bot, tg.update(tg.callback_query(501, f"ca:{case.id}:acc:{case.version}:{tag}", chat_id=LEAD_CHAT))
    )
    answer = _alert(bot)
    assert answer.show_alert and answer.text == "Nút bấm không hợp lệ."
    assert (await load(core, case.id)).status == st.NEW
    assert not bot.calls(SendMessage)


async def test_reject_flow_with_a_reply_to_the_prompt(env) -> None:
    core, case, dp, bot = env
    await dp.feed_update(
        bot,
        tg.update(
            tg.callback_query(
                501,
                tg.case_button(core, "thanh-tra", case.id, case.version, cards.REJECT, "insufficient"),
                chat_id=LEAD_CHAT,
            )
        ),
    )
    prompt = (await outbox(core, chat_id=CHATS["thanh-tra"]))[-1]
    assert prompt.payload["expects_answer"]
    await mark_sent(core, prompt.id, "8800")
    await dp.feed_update(bot, tg.update(tg.reply(LEAD_CHAT, 501, 8800, "Đề nghị nêu rõ thời gian, địa điểm")))
    after = await load(core, case.id)
    assert after.status == st.REJECTED
    told = (await outbox(core, chat_id=CITIZEN))[-1].payload["text"]
    assert "không được thụ lý" in told and "Đề nghị nêu rõ thời gian" in told


async def test_reply_to_the_card_relays_a_question_and_the_answer_comes_back(env) -> None:
    core, case, dp, bot = env
    card = int(await card_id(core, case.id, "thanh-tra"))
    await dp.feed_update(bot, tg.update(tg.reply(LEAD_CHAT, 501, card, "Ông/bà nộp tiền cho ai?")))
    question = (await outbox(core, chat_id=CITIZEN))[-1]
    assert "Ông/bà nộp tiền cho ai?" in question.payload["text"]
    await mark_sent(core, question.id, "321")
    await dp.feed_update(bot, tg.update(tg.reply(int(CITIZEN), int(CITIZEN), 321, "Cho cán bộ địa chính")))
    relayed = await outbox(core, chat_id=CHATS["thanh-tra"])
    assert any("Cho cán bộ địa chính" in m.payload.get("text", "") for m in relayed)
    assert "Đã chuyển câu trả lời" in bot.calls(SendMessage)[-1].text
    assert (await load(core, case.id)).status == st.NEW


async def test_ordinary_group_chatter_and_unbound_groups_are_ignored(env) -> None:
    _, _, dp, bot = env
    await dp.feed_update(bot, tg.update(tg.group_message(LEAD_CHAT, 501, "Chào cả nhóm")))
    await dp.feed_update(bot, tg.update(tg.group_message(-4242, 501, "/cases")))
    assert bot.requests == []


async def test_case_and_cases_commands(env) -> None:
    _, _, dp, bot = env
    await dp.feed_update(bot, tg.update(tg.group_message(LEAD_CHAT, 501, "/case abcd-efgh")))
    assert "Hồ sơ ABCD-EFGH" in bot.sent[-1].text and "Diễn biến:" in bot.sent[-1].text
    await dp.feed_update(bot, tg.update(tg.group_message(int(CHATS["ubkt"]), 501, "/case ABCD-EFGH")))
    assert "không xử lý hồ sơ này" in bot.sent[-1].text
    await dp.feed_update(bot, tg.update(tg.group_message(LEAD_CHAT, 501, "/cases")))
    assert "ABCD-EFGH" in bot.sent[-1].text


async def test_bind_by_admin_in_a_group(env) -> None:
    _, _, dp, bot = env
    await dp.feed_update(bot, tg.update(tg.group_message(-9000, ADMIN, "/bind nhnn")))
    assert "Ngân hàng Nhà nước" in bot.sent[-1].text
    await dp.feed_update(bot, tg.update(tg.group_message(-9000, ADMIN, "/groups")))
    assert "nhnn" in bot.sent[-1].text and "-9000" in bot.sent[-1].text


async def test_added_to_a_group_the_bot_says_how_to_bind_it(env) -> None:
    _, _, dp, bot = env
    await dp.feed_update(bot, tg.update(tg.my_chat_member(-9002, 55, new_status="member")))
    welcome = bot.sent[-1]
    assert str(welcome.chat_id) == "-9002" and "/bind" in welcome.text
    assert "• thanh-tra — Thanh tra tỉnh" in welcome.text and "nhnn" in welcome.text
    sent = len(bot.sent)
    await dp.feed_update(bot, tg.update(tg.my_chat_member(-9002, 55, new_status="left", old_status="member")))
    assert len(bot.sent) == sent, "nothing is said when the bot is removed"


@pytest.mark.parametrize(
    "update, expected",
    [
        (lambda: tg.group_message(-9001, 55, "/bind nhnn"), "Chỉ quản trị viên"),
        (lambda: tg.private_message(ADMIN, "/bind nhnn"), "không gắn trong trò chuyện riêng"),
        (lambda: tg.group_message(-9001, ADMIN, "/bind khong-co"), "Không có cơ quan mã “khong-co”"),
    ],
)
async def test_bind_refusals_say_why(env, update, expected) -> None:
    core, _, dp, bot = env
    await dp.feed_update(bot, tg.update(update()))
    assert expected in bot.sent[-1].text
    from bot.agencies import bound_agency

    assert await bound_agency(core, "telegram", "-9001") is None


@pytest.mark.parametrize("chat", [-4243, 5555], ids=["group", "private"])
async def test_myid_tells_anyone_their_user_id_and_how_to_become_admin(core, chat: int) -> None:
    dp, bot = build_dispatcher(core), tg.MockedBot()
    raw = tg.group_message(chat, 5555, "/myid") if chat < 0 else tg.private_message(5555, "/myid")
    await dp.feed_update(bot, tg.update(raw))
    text = bot.calls(SendMessage)[-1].text
    assert "5555" in text and "ADMIN_IDS" in text and str(chat) in text


async def test_bind_by_a_non_admin_says_their_id(core) -> None:
    dp, bot = build_dispatcher(core), tg.MockedBot()
    await dp.feed_update(bot, tg.update(tg.group_message(-4244, 6666, "/bind thanh-tra")))
    text = bot.calls(SendMessage)[-1].text
    assert "Chỉ quản trị viên" in text and "6666" in text and "ADMIN_IDS" in text
