"""The secretariat's conversations in Telegram groups: calling an ad-hoc meeting step by step with its
warnings, rescheduling and cancelling from the card, and the presses and answers that are refused."""

from __future__ import annotations

from aiogram.methods import AnswerCallbackQuery
from aiogram.types import ForceReply, InlineKeyboardMarkup
from sqlalchemy import select

from bot.secretariat import schedules
from handlers.telegram import build_dispatcher
from storage.models import Meeting
from tests import tg
from tests.secretariat_kit import (
    NOI_CHINH,
    START,
    THANH_TRA,
    bind,
    jobs_of,
    local,
    meeting_of,
    movable,
    prompt_id,
    texts,
)

SECRETARY, INSPECTOR = 601, 602


class Chat:
    """One person in one group talking to the bot through the dispatcher."""

    def __init__(self, core, dp, bot, chat: str, user: int) -> None:
        self.core, self.dp, self.bot, self.chat, self.user = core, dp, bot, int(chat), user

    async def say(self, text: str) -> str:
        await self.dp.feed_update(self.bot, tg.update(tg.group_message(self.chat, self.user, text)))
        return self.bot.sent[-1].text

    async def answer(self, text: str) -> str:
        prompt = self.bot.sent[-1]
        asked = await prompt_id(self.core, str(self.chat), self.user)
        update = tg.reply(self.chat, self.user, asked, text, to_text=prompt.text)
        await self.dp.feed_update(self.bot, tg.update(update))
        return self.bot.sent[-1].text

    async def press(self, data: str) -> AnswerCallbackQuery:
        await self.dp.feed_update(self.bot, tg.update(tg.callback_query(self.user, data, chat_id=self.chat)))
        return self.bot.calls(AnswerCallbackQuery)[-1]

    def buttons(self) -> dict[str, str]:
        markup = self.bot.sent[-1].reply_markup
        assert isinstance(markup, InlineKeyboardMarkup)
        return {b.text: b.callback_data for row in markup.inline_keyboard for b in row}


async def _setup(core):
    movable(core)
    await bind(core)
    dp, bot = build_dispatcher(core), tg.MockedBot()
    return Chat(core, dp, bot, NOI_CHINH, SECRETARY), Chat(core, dp, bot, THANH_TRA, INSPECTOR)


async def test_an_ad_hoc_meeting_is_called_step_by_step_and_invites_every_agency(core):
    secretary, _ = await _setup(core)
    assert "Tên (nội dung chính) cuộc họp" in await secretary.say("/meeting")
    assert isinstance(secretary.bot.sent[-1].reply_markup, ForceReply)
    await secretary.answer("Họp liên ngành về vụ việc đất đai kéo dài ở Bãi Cháy")
    assert "Chưa đọc được thời gian" in await secretary.answer("thứ năm tuần sau")  # the step is kept
    assert "Địa điểm" in await secretary.answer("08/12/2026 14:00")
    await secretary.answer("https://meet.example.vn/noichinh")
    assert "Không có cơ quan: cong-an-tinh" in await secretary.answer("thanh-tra, cong-an-tinh")
    await secretary.answer("thanh-tra, noi-chinh, cong-an")
    await secretary.answer("Báo cáo vụ việc\nHướng xử lý")
    summary = await secretary.answer("-")
    assert "14:00 08/12/2026" in summary and "Lưu ý" not in summary
    assert "1. Báo cáo vụ việc\n2. Hướng xử lý" in summary
    created = await secretary.press(secretary.buttons()["✅ Xác nhận"])
    assert not created.show_alert
    assert "Đã lên lịch cuộc họp" in secretary.bot.sent[-1].text
    async with core.sessions() as session:
        meeting = (
            await session.execute(select(Meeting).where(Meeting.schedule_id.startswith("adhoc-")))
        ).scalar_one()
    assert meeting.starts_at == local(2026, 12, 8, 14)
    assert meeting.agencies == ["thanh-tra", "noi-chinh", "cong-an"] and meeting.chair == "noi-chinh"
    assert meeting.place == "https://meet.example.vn/noichinh"
    [invitation] = [t for t in await texts(core, THANH_TRA) if t.startswith("📣 Giấy mời họp")]
    assert "Họp liên ngành về vụ việc đất đai" in invitation
    assert any("chưa có nhóm Telegram của Công an tỉnh" in t for t in await texts(core, NOI_CHINH))
    offsets = {j.payload.get("offset") for j in await jobs_of(core, f"meeting:{meeting.id}:v0:remind")}
    assert offsets == {"1d", "7d", "1h"}  # a week ahead is now: the invitation and agenda go at once


async def test_a_day_off_a_past_date_and_a_clash_are_warned_before_confirming(core):
    secretary, _ = await _setup(core)
    await schedules.materialise(core, START)
    await secretary.say("/meeting")
    await secretary.answer("Họp trùng ngày")
    await secretary.answer("17/12/2026 14:00")  # the day of the six-monthly review with the same agencies
    for text in ("-", "noi-chinh, thanh-tra", "-"):
        await secretary.answer(text)
    summary = await secretary.answer("-")
    assert "trùng ngày với cuộc họp Họp đánh giá kết quả" in summary
    assert "⚠️" in summary
    await secretary.say("/meeting")
    for text in ("Họp ngày Tết", "08/02/2027 09:00", "-", "noi-chinh, thanh-tra", "-"):
        await secretary.answer(text)
    summary = await secretary.answer("-")
    assert "ngày 08/02/2027 là ngày nghỉ (Mùng ba Tết Nguyên Đán)" in summary
    await secretary.say("/meeting")
    for text in ("Họp bổ sung", "01/11/2026 09:00", "-", "noi-chinh", "-"):
        await secretary.answer(text)
    summary = await secretary.answer("-")
    assert "thời gian họp đã qua" in summary and "ngày nghỉ (Nghỉ cuối tuần)" in summary
    await secretary.press(secretary.buttons()["✖️ Bỏ"])
    assert secretary.bot.sent[-1].text == "Đã bỏ thao tác."
    async with core.sessions() as session:
        assert not (
            await session.execute(select(Meeting).where(Meeting.schedule_id.startswith("adhoc-")))
        ).all()


async def test_only_the_secretariat_calls_meetings(core):
    _, inspector = await _setup(core)
    assert "Chỉ Ban Nội chính" in await inspector.say("/meeting")


async def test_rescheduling_from_the_card_tells_everyone_and_voids_old_buttons(core):
    secretary, inspector = await _setup(core)
    await schedules.materialise(core, START)
    review = await meeting_of(core)
    old_attend = tg.meeting_button(core, "thanh-tra", review.id, "att", review.version)
    listing = await secretary.say("/meetings")
    assert "Họp đánh giá kết quả" in listing and "dự họp 0, vắng 0, trên 2 cơ quan" in listing
    await secretary.press(secretary.buttons()[f"Cuộc họp số {review.id}"])
    card = secretary.buttons()
    await secretary.press(card["🕑 Dời lịch"])
    assert "Chưa đọc được thời gian" in await secretary.answer("31/02/2026 08:00")
    await secretary.answer("18/12/2026 08:00")
    done = await secretary.answer("Trùng lịch làm việc với đoàn công tác Trung ương")
    assert "Đã dời cuộc họp sang 08:00 18/12/2026" in done
    [notice] = [t for t in await texts(core, THANH_TRA) if t.startswith("🕑 Dời lịch họp")]
    assert "Từ 08:00 17/12/2026 sang 08:00 18/12/2026" in notice and "đoàn công tác Trung ương" in notice
    stale = await inspector.press(old_attend)
    assert stale.show_alert and "đã được dời lịch" in stale.text
    assert {j.run_at for j in await jobs_of(core, f"meeting:{review.id}:v1:remind")} == {
        local(2026, 12, 11),
        local(2026, 12, 17),
        local(2026, 12, 18, 7),
    }

    # a participant that is not the chair cannot reschedule or cancel
    await inspector.say("/meetings")
    await inspector.press(inspector.buttons()[f"Cuộc họp số {review.id}"])
    assert "🕑 Dời lịch" not in inspector.buttons()
    refused = await inspector.press(tg.meeting_button(core, "thanh-tra", review.id, "cx", 1))
    assert refused.show_alert and "Chỉ Ban Nội chính" in refused.text

    await secretary.press(tg.meeting_button(core, "noi-chinh", review.id, "cx", 1))
    await secretary.answer("Hoãn theo chỉ đạo của Thường trực Tỉnh ủy")
    assert any(t.startswith("✖️ Hủy cuộc họp") for t in await texts(core, THANH_TRA))
    late = await inspector.press(tg.meeting_button(core, "thanh-tra", review.id, "att", 1))
    assert late.show_alert and "đã bị hủy" in late.text


async def test_forged_or_misplaced_buttons_and_stray_replies_change_nothing(core):
    _, inspector = await _setup(core)
    await schedules.materialise(core, START)
    review = await meeting_of(core)
    for data in (
        tg.meeting_button(core, "noi-chinh", review.id, "att", 0),  # signed for another group
        f"mt:{review.id}:att:0:0000000000",  # a made-up signature
        f"mt:{review.id}:att:0:đđđđđđđđđđ",  # letters outside ASCII, as any client may send
        "mt:nonsense",
    ):
        refused = await inspector.press(data)
        assert refused.show_alert and "không hợp lệ" in refused.text
    stranger = Chat(core, inspector.dp, inspector.bot, "-4242", 777)
    refused = await stranger.press(tg.meeting_button(core, "thanh-tra", review.id, "att", 0))
    assert refused.show_alert
    before = len(inspector.bot.sent)
    await inspector.dp.feed_update(
        inspector.bot, tg.update(tg.reply(int(THANH_TRA), INSPECTOR, 5, "xin chào"))
    )
    assert all("Đã ghi nhận" not in m.text for m in inspector.bot.sent[before:])
    await inspector.press(tg.meeting_button(core, "thanh-tra", review.id, "abs", 0))
    assert "Trả lời tin nhắn này" in inspector.bot.sent[-1].text
    before = len(inspector.bot.sent)
    await inspector.dp.feed_update(
        inspector.bot, tg.update(tg.reply(int(THANH_TRA), INSPECTOR, 6, "ý kiến về hồ sơ"))
    )
    assert all("không dự được" not in m.text for m in inspector.bot.sent[before:])  # a reply elsewhere
    assert "Xin trả lời bằng một nội dung cụ thể" in await inspector.answer("   ")
    assert "không dự được" in await inspector.answer("Trùng lịch tiếp công dân định kỳ")
    [card] = [t for t in await texts(core, NOI_CHINH) if "Xác nhận dự họp:" in t]
    assert "🚫 Thanh tra tỉnh: không dự được — Trùng lịch tiếp công dân định kỳ" in card
