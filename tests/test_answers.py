"""Nobody is left without an answer: a reply after a step survives a failed send, a button press is
answered exactly once even when it fails, and presses or commands no handler takes still get an answer."""

from __future__ import annotations

import datetime as dt

from aiogram.methods import AnswerCallbackQuery, SendMessage

from bot import agencies, cards, officer
from bot.delivery.ratelimit import Limits
from bot.delivery.sender import Sender
from bot.intake import Intake
from bot.secretariat import dialogue
from bot.secretariat.common import Reply as SecretariatReply
from handlers.telegram import build_dispatcher, secretariat
from handlers.telegram.sender import TelegramTransport
from storage.models import OutboxMessage, utcnow
from tests import tg
from tests.officer_kit import CHATS, bind_groups, make_case
from tests.sealed import rows_to
from tests.test_tg_citizen import USER, chat  # noqa: F401  (the citizen's chat, as a fixture)

STORY = "Chủ tịch xã nhận hối lộ 200 triệu để cấp giấy chứng nhận quyền sử dụng đất"


async def test_reply_after_a_step_survives_a_failed_send(core, chat) -> None:  # noqa: F811
    await chat.say(STORY)
    chat.bot.add_result_for(AnswerCallbackQuery, ok=True, result=True)
    chat.bot.add_result_for(SendMessage, ok=False, error_code=500, description="Internal Server Error")
    attempts = await chat.press("prop:yes")
    assert len(attempts) == 1 and attempts[0].text, "the next question was tried once and failed"
    waiting = await rows_to(core, USER, OutboxMessage.status == "pending")
    assert waiting and waiting[0].attempts == 1, "the reply waits in the outbox instead of being lost"
    later = Sender(core.sessions, {"telegram": TelegramTransport(chat.bot)}, "later", privacy=core.privacy,
                   limits=Limits.off(),
                   clock=lambda: utcnow() + dt.timedelta(minutes=5))
    while (await later.run_once()).claimed:
        pass
    assert chat.to_user[-1].text == attempts[0].text and chat.buttons(), "delivered, with its buttons"


async def test_a_failing_press_is_answered_once_and_the_apology_comes_as_a_message(core, chat,  # noqa: F811
                                                                                   monkeypatch) -> None:
    await chat.say(STORY)

    async def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(Intake, "handle", broken)
    sent = await chat.press("prop:yes")
    assert len(chat.bot.calls(AnswerCallbackQuery)) == 1
    assert "sự cố" in chat.texts(sent)


async def test_presses_no_handler_takes_are_answered(core) -> None:
    await bind_groups(core)
    case = await make_case(core)
    dp, bot = build_dispatcher(core), tg.MockedBot()
    officer_button = tg.case_button(core, "thanh-tra", case.id, case.version, cards.ACCEPT)
    for update in (tg.callback_query(501, officer_button),  # an officer's button in a private chat
                   tg.callback_query(501, "zz-garbage"),
                   tg.callback_query(501, "zz-garbage", chat_id=int(CHATS["thanh-tra"]))):
        before = len(bot.calls(AnswerCallbackQuery))
        await dp.feed_update(bot, tg.update(update))
        answers = bot.calls(AnswerCallbackQuery)[before:]
        assert len(answers) == 1 and answers[0].text


async def test_a_failing_officer_press_is_answered(core, monkeypatch) -> None:
    await bind_groups(core)
    case = await make_case(core)
    dp, bot = build_dispatcher(core), tg.MockedBot()

    async def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(officer, "press", broken)
    data = tg.case_button(core, "thanh-tra", case.id, case.version, cards.ACCEPT)
    await dp.feed_update(bot, tg.update(tg.callback_query(501, data, chat_id=int(CHATS["thanh-tra"]))))
    [answer] = bot.calls(AnswerCallbackQuery)
    assert answer.show_alert and "sự cố" in answer.text


async def test_status_in_a_group_is_answered_without_looking_anything_up(core) -> None:
    dp, bot = build_dispatcher(core), tg.MockedBot()
    await dp.feed_update(bot, tg.update(tg.group_message(-5000, 77, "/status ABCD-EFGH 123456")))
    [said] = bot.sent
    assert str(said.chat_id) == "-5000" and "trò chuyện riêng" in said.text and "ABCD" not in said.text


def _failures(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def test_a_failing_officer_command_gets_an_apology_under_it_and_one_log_line(core, monkeypatch,
                                                                                caplog) -> None:
    await bind_groups(core)
    dp, bot = build_dispatcher(core), tg.MockedBot()

    async def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(officer, "open_cases", broken)
    group = int(CHATS["thanh-tra"])
    update = tg.group_message(group, 501, "/cases", message_id=77)
    await dp.feed_update(bot, tg.update(update))
    [said] = bot.sent
    assert str(said.chat_id) == str(group) and "sự cố" in said.text
    assert said.reply_parameters is not None and said.reply_parameters.message_id == 77
    assert len(_failures(caplog)) == 1


async def test_a_failing_admin_command_in_any_chat_is_apologised_for(core, monkeypatch, caplog) -> None:
    dp, bot = build_dispatcher(core), tg.MockedBot()

    async def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(agencies, "bindings", broken)
    await dp.feed_update(bot, tg.update(tg.private_message(1000, "/groups")))
    [said] = bot.sent
    assert str(said.chat_id) == "1000" and "sự cố" in said.text
    assert len(_failures(caplog)) == 1


async def test_a_press_that_fails_after_its_answer_is_not_answered_again(core, monkeypatch, caplog) -> None:
    """The secretariat's button is answered before the reply is shown: when showing fails, the apology
    comes as a message in the group, and the press keeps its one answer."""
    await bind_groups(core)
    dp, bot = build_dispatcher(core), tg.MockedBot()
    answered: list[str] = []

    async def press(*args, **kwargs):
        answered.append("core")
        return SecretariatReply("ok")

    async def broken(*args, **kwargs):
        raise RuntimeError("network down")

    monkeypatch.setattr(dialogue, "press", press)
    monkeypatch.setattr(secretariat, "show", broken)
    group = int(CHATS["noi-chinh"])
    await dp.feed_update(bot, tg.update(tg.callback_query(501, "mt:1:x", chat_id=group)))
    assert answered == ["core"]
    [answer] = bot.calls(AnswerCallbackQuery)
    assert not answer.show_alert
    [said] = bot.sent
    assert str(said.chat_id) == str(group) and "sự cố" in said.text
    assert len(_failures(caplog)) == 1


async def test_every_failure_is_logged_once_and_the_citizen_told(core, chat, monkeypatch, caplog) -> None:  # noqa: F811
    async def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(Intake, "handle", broken)
    sent = await chat.say("Tôi muốn phản ánh")
    assert "sự cố" in chat.texts(sent) and "vẫn được giữ" in chat.texts(sent)
    assert len(_failures(caplog)) == 1


async def test_an_apology_that_cannot_be_sent_is_not_a_second_failure(core, monkeypatch, caplog) -> None:
    dp, bot = build_dispatcher(core), tg.MockedBot()

    async def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(Intake, "handle", broken)
    bot.add_result_for(SendMessage, ok=False, error_code=502, description="Bad Gateway")
    await dp.feed_update(bot, tg.update(tg.private_message(USER, "xin chào")))
    assert len(bot.calls(SendMessage)) == 1
    assert len(_failures(caplog)) == 1
