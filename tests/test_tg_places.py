"""The place step on Telegram with the names citizens still use from before the 2025 reform: the choice
names today's ward and the old name typed, a district offers only its wards, and the case is filed under
today's ward. Real aiogram updates through the bot's Dispatcher, as in test_tg_citizen."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Case
from tests.test_tg_citizen import Chat


@pytest.fixture
def chat(core) -> Chat:
    core.settings.messages_per_minute = 1000
    return Chat(core)


async def _at_place_step(chat: Chat, language: str = "vi") -> None:
    await chat.say("/start", language_code=language)
    await chat.press_label("📝 Gửi phản ánh mới" if language == "vi" else "📝 New report")
    await chat.press("kind:denunciation")
    await chat.press("field:dat-dai")


def _places(chat: Chat) -> list[str]:
    """The labels of the place buttons of the last message, in order (not Back, Skip or Cancel)."""
    return [label for label, data in chat.buttons().items() if data.startswith("in|place:")]


async def _file_anonymously(chat: Chat) -> None:
    await chat.say("Cán bộ địa chính phường")
    await chat.say("Cán bộ địa chính làm sai hồ sơ cấp sổ đỏ cho người nhà, nhận tiền của dân")
    await chat.press("skip")  # when
    await chat.press("done")  # no evidence
    await chat.press("anon")
    await chat.press("send")


@pytest.mark.parametrize(
    "typed, first",
    [
        ("phường Hồng Hà", "Phường Hạ Long (phường Hồng Hà cũ)"),
        ("Hồng Hải", "Phường Hạ Long (phường Hồng Hải cũ)"),
        ("gieng day", "Phường Việt Hưng (phường Giếng Đáy cũ)"),
        ("Cao Xanh", "Phường Cao Xanh"),
        ("Bãi Cháy", "Phường Bãi Cháy"),
        ("Hoành Bồ", "Phường Hoành Bồ"),
        ("Hạ Long", "Phường Hạ Long"),
    ],
)
async def test_an_old_ward_name_is_offered_as_the_ward_it_became(chat, typed, first):
    await _at_place_step(chat)
    await chat.say(typed)
    assert _places(chat)[0] == first


async def test_the_case_is_filed_under_today_s_ward_chosen_through_an_old_name(core, chat):
    await _at_place_step(chat)
    await chat.say("P. Giếng Đáy, TP Hạ Long")
    assert _places(chat) == ["Phường Việt Hưng (phường Giếng Đáy cũ)"]
    await chat.press_label("Phường Việt Hưng (phường Giếng Đáy cũ)")
    await _file_anonymously(chat)
    async with core.sessions() as s:
        case = (await s.execute(select(Case))).scalar_one()
    assert (case.area_name, case.area) == ("Phường Việt Hưng", "6661")


@pytest.mark.parametrize(
    "typed, wards",
    [
        ("huyện Tiên Yên", ["Xã Tiên Yên", "Xã Điền Xá", "Xã Đông Ngũ", "Xã Hải Lạng", "Xã Ba Chẽ",
                            "Xã Hải Hòa"]),
        ("thị xã Quảng Yên", ["Phường Quảng Yên", "Phường Liên Hòa", "Phường Phong Cốc", "Phường Hà An",
                              "Phường Hiệp Hòa", "Phường Đông Mai"]),
        ("TP Cẩm Phả", ["Phường Cẩm Phả", "Phường Cửa Ông", "Phường Quang Hanh", "Phường Mông Dương",
                        "Xã Hải Hòa", "Xã Hải Lạng"]),
    ],
)
async def test_an_old_district_offers_only_the_wards_it_became(chat, typed, wards):
    await _at_place_step(chat)
    await chat.say(typed)
    former = typed.replace("TP", "thành phố")
    assert _places(chat) == [f"{ward} (thuộc {former} cũ)" for ward in wards]


async def test_a_district_named_with_a_ward_keeps_that_district_s_ward(chat):
    await _at_place_step(chat)
    await chat.say("Bắc Sơn")
    assert _places(chat) == ["Xã Hải Sơn (xã Bắc Sơn cũ)", "Phường Vàng Danh (phường Bắc Sơn cũ)"]
    await chat.say("Bắc Sơn, Uông Bí")
    assert _places(chat) == ["Phường Vàng Danh (phường Bắc Sơn cũ)"]


async def test_the_choice_names_the_old_name_in_english_too(chat):
    await _at_place_step(chat, "en")
    await chat.say("phuong Hong Ha")
    assert _places(chat) == ["Phường Hạ Long (formerly phường Hồng Hà)"]
    await chat.say("huyen Tien Yen")
    assert _places(chat)[0] == "Xã Tiên Yên (in the former huyện Tiên Yên)"


@pytest.mark.parametrize("typed", ["Paris", "huyện Paris", "Quảng Ninh", "!!!"])
async def test_a_name_that_is_no_place_of_the_province_is_said_so(chat, typed):
    await _at_place_step(chat)
    sent = await chat.say(typed)
    assert "không tìm thấy xã, phường nào" in chat.texts(sent)
    assert _places(chat) == [] and "Bỏ qua" in " ".join(chat.buttons())


async def test_a_story_naming_an_old_ward_proposes_the_ward_it_became(chat):
    sent = await chat.say("Tối 12/5 ở phường Giếng Đáy có nhóm thanh niên đua xe, công an phường không xử lý")
    assert "Địa bàn: Phường Việt Hưng (phường Giếng Đáy cũ)" in chat.texts(sent)


async def test_a_story_naming_only_a_former_city_proposes_no_ward(chat):
    sent = await chat.say("Ở thành phố Hạ Long có quán karaoke mở nhạc to đến 2 giờ sáng mà không ai xử lý")
    assert "Địa bàn: (không có)" in chat.texts(sent)
