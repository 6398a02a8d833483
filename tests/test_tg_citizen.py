"""The citizen's Telegram chat: real aiogram updates through a Dispatcher, with a mocked Bot API session."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from types import SimpleNamespace

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage
from sqlalchemy import select

from bot import limits
from bot.delivery.ratelimit import Limits
from bot.delivery.sender import Sender
from handlers.telegram import build_dispatcher
from handlers.telegram.citizen import chunks
from handlers.telegram.keyboards import IntakeCallback, option_data
from handlers.telegram.sender import TelegramTransport
from storage.models import Case, DialogState, OutboxMessage, utcnow
from tests import tg
from tests.sealed import chat_key, rows_to

USER = 501


class Chat:
    """A citizen's private chat with the bot, through a Dispatcher and a mocked Bot."""

    def __init__(self, core) -> None:
        self.core = core
        self.restart()

    def restart(self) -> None:
        """A new Dispatcher (the bot's own: every router, the error handler) and Bot, as after a restart."""
        self.dp = build_dispatcher(self.core)
        self.bot = tg.MockedBot()

    async def feed(self, raw: dict) -> list[SendMessage]:
        """One update, then one round of the outbox sender (as the running bot would): what was sent."""
        before = len(self.bot.sent)
        await self.dp.feed_update(self.bot, tg.update(raw, self.bot))
        transports = {"telegram": TelegramTransport(self.bot)}
        # a failed send waits at least 15 s, so it is not retried within this round on a slow machine
        sender = Sender(self.core.sessions, transports, "t", privacy=self.core.privacy, limits=Limits.off(),
                        backoff_base=30)
        while (await sender.run_once()).claimed:
            pass
        return [m for m in self.bot.sent[before:] if str(m.chat_id) == str(USER)]

    @property
    def to_user(self) -> list[SendMessage]:
        return [m for m in self.bot.sent if str(m.chat_id) == str(USER)]

    async def say(self, text: str, **kw) -> list[SendMessage]:
        return await self.feed(tg.private_message(USER, text, **kw))

    async def press(self, value: str) -> list[SendMessage]:
        buttons = self.buttons()
        data = IntakeCallback(value=value).pack()
        assert data in buttons.values(), f"no button {value!r}: {list(buttons.values())}"
        return await self.feed(tg.callback_query(USER, data))

    async def press_label(self, label: str) -> list[SendMessage]:
        data = self.buttons()[label]
        return await self.feed(tg.callback_query(USER, data))

    def buttons(self) -> dict[str, str]:
        last = self.to_user[-1]
        rows = last.reply_markup.inline_keyboard if last.reply_markup is not None else []
        return {b.text: b.callback_data for row in rows for b in row}

    @property
    def last_text(self) -> str:
        return self.to_user[-1].text

    def texts(self, sent: list[SendMessage]) -> str:
        return "\n".join(m.text for m in sent)


@pytest.fixture
def chat(core) -> Chat:
    core.settings.messages_per_minute = 1000
    return Chat(core)


async def test_start_greets_in_vietnamese_with_the_menu_and_113(chat):
    sent = await chat.say("/start")
    assert "Quảng Ninh" in chat.texts(sent) and "113" in chat.texts(sent)
    assert set(chat.buttons()) >= {"📝 Gửi phản ánh mới", "🔎 Tra cứu", "❓ Hướng dẫn"}
    assert all(m.chat_id == USER for m in sent)


async def test_start_in_english_for_an_english_telegram_user(chat):
    await chat.say("/start", language_code="en")
    assert "📝 New report" in chat.buttons()


async def test_full_button_flow_with_evidence_to_receipt(core, chat):
    await chat.say("/start")
    await chat.press_label("📝 Gửi phản ánh mới")
    await chat.press("kind:denunciation")
    await chat.press("field:dat-dai")
    await chat.say("bai chay")
    await chat.press_label("Phường Bãi Cháy")
    await chat.say("Cán bộ địa chính phường")
    await chat.say("Cán bộ địa chính làm sai hồ sơ cấp sổ đỏ cho người nhà, nhận tiền của dân")
    await chat.press("skip")
    await chat.feed(tg.photo(USER, USER, "ph-1"))
    await chat.feed(tg.document(USER, USER, "doc-1", file_name="don.pdf"))
    await chat.feed(tg.voice(USER, "vo-1"))
    assert "Đã nhận 3 tệp" in chat.last_text
    await chat.press("done")
    await chat.press("named")
    await chat.say("Phạm Thị Dung")
    await chat.say("0901234567")
    await chat.say("Bãi Cháy, Hạ Long")
    assert "Xin Ông/Bà xem lại" in chat.last_text
    sent = await chat.press("send")
    text = chat.texts(sent)
    assert "Mã tra cứu:" in text and "Mã PIN:" in text and "Thanh tra tỉnh" in text
    async with core.sessions() as s:
        case = (await s.execute(select(Case))).scalar_one()
    assert case.code in text and case.kind == "denunciation" and not case.anonymous
    assert sorted(a.media for a in case.attachments) == ["document", "photo", "voice"]


async def test_free_text_flow(core, chat):
    sent = await chat.say(
        "Chủ tịch xã nhận hối lộ 200 triệu để cấp giấy chứng nhận quyền sử dụng đất cho doanh nghiệp"
    )
    assert "Tin báo tham nhũng" in chat.texts(sent)
    await chat.press("prop:yes")
    await chat.press("skip")  # place
    await chat.press("skip")  # people involved
    await chat.press("skip")  # when
    await chat.press("done")
    await chat.press("anon")
    sent = await chat.press("send")
    assert "Mã tra cứu:" in chat.texts(sent)
    async with core.sessions() as s:
        case = (await s.execute(select(Case))).scalar_one()
    assert case.kind == "corruption_tip" and case.anonymous


async def test_the_receipt_survives_a_failed_send(core, chat):
    core.settings.admin_ids = []  # no alert about the unbound agencies takes the failure queued below
    await chat.say("Chủ tịch xã nhận hối lộ 200 triệu để cấp giấy chứng nhận quyền sử dụng đất")
    for value in ("prop:yes", "skip", "skip", "skip", "done", "anon"):
        await chat.press(value)
    chat.bot.add_result_for(AnswerCallbackQuery, ok=True, result=True)
    chat.bot.add_result_for(SendMessage, ok=False, error_code=502, description="Bad Gateway")
    attempts = await chat.press("send")
    assert len(attempts) == 1, "the receipt was tried once and failed; the menu waits behind it"
    async with core.sessions() as s:
        case = (await s.execute(select(Case))).scalar_one()
    receipt = (await rows_to(core, USER, OutboxMessage.status == "pending"))[0]
    assert receipt.status == "pending" and receipt.attempts == 1 and case.code in receipt.payload["text"]
    later = Sender(core.sessions, {"telegram": TelegramTransport(chat.bot)}, "later", privacy=core.privacy,
                   limits=Limits.off(),
                   clock=lambda: utcnow() + dt.timedelta(hours=1))
    while (await later.run_once()).claimed:
        pass
    texts = [m.text for m in chat.to_user[-2:]]
    assert case.code in texts[0] and "Mã PIN:" in texts[0]
    assert "Ông/Bà muốn làm gì?" in texts[1], "the menu still comes after the receipt"


async def test_a_press_telegram_cannot_answer_still_moves_the_dialogue_on(core, chat, caplog):
    """Telegram refuses the spinner's answer (an outage): the citizen's choice is kept and its reply comes."""
    await chat.say("Chủ tịch xã nhận hối lộ 200 triệu để cấp giấy chứng nhận quyền sử dụng đất")
    chat.bot.add_result_for(AnswerCallbackQuery, ok=False, error_code=502, description="Bad Gateway")
    sent = await chat.press("prop:yes")
    assert sent and "xã, phường hoặc đặc khu nào" in chat.texts(sent)
    async with core.sessions() as s:
        assert (await s.get(DialogState, ("telegram", chat_key(core, USER)))).state == "place"
    assert "could not be answered" in caplog.text and "failed" not in caplog.text


async def test_messages_sent_in_quick_succession_are_handled_in_order(core, chat):
    await chat.say("/new")
    for value in ("kind:petition", "skip", "skip", "skip"):
        await chat.press(value)
    await chat.say("Đề nghị sửa con đường liên thôn bị hỏng nặng, xe cộ đi lại rất khó khăn")
    for value in ("skip", "done", "named"):
        await chat.press(value)
    await asyncio.gather(*(chat.say(text) for text in ("Phạm Thị Dung", "0901234567", "Tổ 5, Hà Tu")))
    assert "Xin Ông/Bà xem lại" in chat.last_text
    assert "Phạm Thị Dung, 0901234567, Tổ 5, Hà Tu" in chat.last_text


async def test_resume_after_a_new_dispatcher_and_bot(core, chat):
    await chat.say("/new")
    await chat.press("kind:petition")
    chat.restart()
    sent = await chat.say("/start")
    assert "đang soạn dở" in chat.texts(sent)
    await chat.press("resume")
    assert "lĩnh vực" in chat.last_text


async def test_cancel_midway(core, chat):
    await chat.say("/new")
    await chat.press("kind:petition")
    sent = await chat.say("/cancel")
    assert "Đã hủy" in chat.texts(sent)
    async with core.sessions() as s:
        assert (await s.execute(select(DialogState))).first() is None


async def test_back_command(chat):
    await chat.say("/new")
    await chat.press("kind:petition")
    await chat.press("skip")
    await chat.say("/back")
    assert "lĩnh vực" in chat.last_text


@pytest.mark.parametrize(
    "extra",
    [
        {
            "sticker": {
                "file_id": "s",
                "file_unique_id": "su",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        },
        {"location": {"latitude": 20.95, "longitude": 107.07}},
    ],
    ids=["sticker", "location"],
)
async def test_sticker_or_location_mid_step_gets_a_helpful_reply(chat, extra):
    await chat.say("/new")
    await chat.press("kind:petition")
    sent = await chat.feed(tg.private_message(USER, **extra))
    assert "không dùng được loại tin nhắn" in chat.texts(sent) and "lĩnh vực" in chat.last_text


async def test_oversize_file_is_refused_with_the_limit(core, chat):
    await chat.say("/new")
    await chat.press("kind:petition")
    for _ in range(3):
        await chat.press("skip")
    await chat.say("Đường liên thôn hỏng nặng, xe không đi được, đề nghị sửa chữa sớm")
    await chat.press("skip")
    big = (core.settings.max_file_mb + 5) * 1024 * 1024
    sent = await chat.feed(tg.document(USER, USER, "big", file_name="video.pdf", file_size=big))
    assert f"tối đa {core.settings.max_file_mb} MB" in chat.texts(sent)
    sent = await chat.feed(
        tg.document(USER, USER, "exe", file_name="a.exe", mime_type="application/x-msdownload")
    )
    assert "không được nhận" in chat.texts(sent)


async def test_wrong_pin_refused_and_throttled(core, chat):
    core.settings.lookup_failures_per_hour = 2
    sent = await chat.say("/status ABCD-EFGH 123456")
    assert "không đúng" in chat.texts(sent)
    await chat.say("/status ABCD-EFGH 123457")
    sent = await chat.say("/status ABCD-EFGH 123458")
    assert "quá nhiều lần" in chat.texts(sent)


async def test_strangers_wrong_pins_do_not_lock_the_reporter_out(core, chat):
    """Two accounts send ten wrong PINs: the case locks for strangers, not for the reporter's own chat,
    which is told once what happened."""
    from bot.cases import Citizen, submit
    from tests.test_cases import DRAFT

    async with core.sessions() as session, session.begin():
        filed = await submit(session, core, Citizen("telegram", str(USER), str(USER)), DRAFT)
    code, wrong = filed.case.code, "000000" if filed.pin != "000000" else "111111"
    for stranger in (601, 602):
        for _ in range(5):
            await chat.feed(tg.private_message(stranger, f"/status {code} {wrong}"))
    told = [m.text for m in chat.to_user if code in m.text and "tài khoản khác" in m.text]
    assert len(told) == 1, "the reporter hears once that someone tried"
    await chat.feed(tg.private_message(603, f"/status {code} {filed.pin}"))
    assert any("tạm khóa" in m.text for m in chat.bot.sent if str(m.chat_id) == "603")
    sent = await chat.say(f"/status {code} {filed.pin}")
    assert "Tình trạng" in chat.texts(sent) and "tạm khóa" not in chat.texts(sent)


async def test_lookup_menu_and_mycases_buttons(core, chat):
    sent = await chat.say("/mycases")
    assert "chưa gửi phản ánh nào" in chat.texts(sent)
    await chat.say("/start")
    await chat.press_label("🔎 Tra cứu")
    assert "mã tra cứu" in chat.last_text


async def test_group_messages_are_not_handled_as_citizen_dialogue(chat):
    sent = await chat.feed(tg.group_message(-100, USER, "/start"))
    assert sent == []


async def test_a_failure_is_answered_with_an_apology(core, chat, monkeypatch):
    from bot.intake import Intake

    async def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(Intake, "handle", broken)
    sent = await chat.say("/start")
    assert "sự cố" in chat.texts(sent)


def test_long_texts_are_split_for_telegram():
    parts = chunks("dòng\n" * 2000)
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)


def test_core_button_payloads_are_what_the_telegram_filter_reads():
    for value in ("send", "place:22225", "kind:corruption_tip", "lang:en"):
        data = option_data(value)
        assert IntakeCallback.unpack(data).value == value
        assert len(data.encode()) <= 64


async def test_a_press_held_back_by_the_message_limit_is_told_when_to_try_again(core, chat, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(limits, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    core.settings.messages_per_minute = 2
    await chat.say("/new")
    clock[0] += 20
    await chat.press("kind:petition")
    answers = len(chat.bot.calls(AnswerCallbackQuery))
    for _ in range(2):  # every held-back press is answered, not only the first
        clock[0] += 5
        sent = await chat.press("skip")
        answer = chat.bot.calls(AnswerCallbackQuery)[-1]
        assert sent == [] and answer.show_alert is True
        assert "tối đa 2 tin nhắn" in answer.text and re.search(r"sau \d+ giây", answer.text)
    assert len(chat.bot.calls(AnswerCallbackQuery)) == answers + 2
    told = int(re.search(r"sau (\d+) giây", answer.text).group(1))
    assert told == 30, "the first message leaves the window 60 s after it came, 30 s from now"
    async with core.sessions() as s:
        state = await s.get(DialogState, ("telegram", chat_key(core, USER)))
        assert state.state == "field", "the press was not taken"
    clock[0] += told
    sent = await chat.press("skip")
    assert chat.bot.calls(AnswerCallbackQuery)[-1].show_alert is not True
    assert "xã, phường" in chat.texts(sent), "after the wait the press goes through"


async def test_a_held_back_press_is_told_in_english_to_an_english_telegram_user(core, chat):
    core.settings.messages_per_minute = 1
    await chat.say("/start", language_code="en")
    await chat.feed(tg.callback_query(USER, option_data("new"), language_code="en"))
    answer = chat.bot.calls(AnswerCallbackQuery)[-1]
    assert answer.show_alert is True and "Please try again in" in answer.text


def edited(raw: dict) -> dict:
    """The same message as an `edited_message` update."""
    message = raw.pop("message")
    return {**raw, "edited_message": {**message, "edit_date": message["date"] + 30}}


async def test_an_edited_message_is_answered_with_how_to_add_information(core, chat):
    await chat.say("/new")
    await chat.press("kind:petition")
    sent = await chat.feed(edited(tg.private_message(USER, "Sửa lại: con đường liên thôn")))
    text = chat.texts(sent)
    assert "không đọc tin nhắn đã sửa" in text and "tin nhắn mới" in text and "/mycases" in text
    assert "lĩnh vực" in chat.last_text, "the current question is asked again"
    async with core.sessions() as s:
        state = await s.get(DialogState, ("telegram", chat_key(core, USER)))
        assert state.state == "field", "nothing was taken"
    sent = await chat.feed(edited(tg.private_message(USER, "edited", language_code="en")))
    assert "The bot does not read edited messages" not in chat.texts(sent), "the dialogue's language: vi"


async def test_an_edited_message_in_a_group_is_left_alone(chat):
    before = len(chat.bot.requests)
    update = edited(tg.group_message(-1002, 501, "sửa câu hỏi"))
    await chat.dp.feed_update(chat.bot, tg.update(update, chat.bot))
    assert chat.bot.requests[before:] == []
