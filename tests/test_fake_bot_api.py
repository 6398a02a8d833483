"""The fake Bot API behaves like Telegram for aiogram, so transport and app tests mean something."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Message

from simulator.botapi import FakeBotAPI
from tests import tg


@pytest.fixture
async def bot(server: FakeBotAPI) -> AsyncIterator[Bot]:
    b = Bot("42:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
    yield b
    await b.session.close()


async def test_get_me_and_messages_have_increasing_ids_per_chat(server: FakeBotAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "test_bot"
    first = await bot.send_message(7, "một")
    second = await bot.send_message(7, "hai")
    other = await bot.send_message(-100, "ba")
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert other.chat.type == "supergroup"
    assert server.texts(7) == ["một", "hai"]


async def test_keyboard_and_edit_round_trip(server: FakeBotAPI, bot: Bot) -> None:
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="OK", callback_data="ok:1")]])
    sent = await bot.send_message(-5, "card", reply_markup=markup)
    sent_markup = server.calls("sendMessage")[0].params["reply_markup"]
    assert sent_markup["inline_keyboard"][0][0]["callback_data"] == "ok:1"
    edited = await bot.edit_message_text(text="card v2", chat_id=-5, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.text == "card v2"
    with pytest.raises(TelegramBadRequest, match="not modified"):
        await bot.edit_message_text(text="card v2", chat_id=-5, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=-5, message_id=99)


async def test_media_and_media_group(server: FakeBotAPI, bot: Bot) -> None:
    photo = await bot.send_photo(7, "AgAD-photo", caption="ảnh")
    assert photo.photo and photo.photo[-1].file_id == "AgAD-photo" and photo.caption == "ảnh"
    album = await bot.send_media_group(7, [InputMediaPhoto(media="p1"), InputMediaPhoto(media="p2")])
    assert [m.photo[-1].file_id for m in album if m.photo] == ["p1", "p2"]


async def test_fault_injection(server: FakeBotAPI, bot: Bot) -> None:
    server.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(7, "x")
    assert retry.value.retry_after == 7
    server.fail_next("sendMessage", 500)
    with pytest.raises(TelegramServerError):
        await bot.send_message(7, "x")
    server.fail_next("sendMessage", 403, chat_id=8, times=None)
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(8, "x")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(8, "again")
    server.fail_next("sendMessage", 400)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(9, "x")
    await bot.send_message(7, "fine")
    assert server.texts() == ["fine"]
    assert len(server.calls("sendMessage", ok=False)) == 5


async def test_polling_receives_pushed_updates(server: FakeBotAPI, bot: Bot) -> None:
    dp = Dispatcher()
    seen: list[str] = []

    @dp.message()
    async def echo(message: Message) -> None:
        seen.append(message.text or "")
        await message.answer(f"echo {message.text}")

    import asyncio

    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    await server.wait_for("getUpdates")
    server.push_update(tg.private_message(7, "xin chào"))
    request = await server.wait_for("sendMessage", chat_id=7)
    assert request.params["text"] == "echo xin chào"
    await dp.stop_polling()
    await asyncio.wait_for(task, 5)
    assert seen == ["xin chào"]


async def test_wait_for_times_out_with_what_was_seen(server: FakeBotAPI, bot: Bot) -> None:
    await bot.get_me()
    with pytest.raises(TimeoutError, match="getMe"):
        await server.wait_for("sendMessage", timeout=0.05)


async def test_mocked_bot_records_calls_and_feeds_updates() -> None:
    dp = Dispatcher()

    @dp.callback_query()
    async def pressed(query, bot: Bot) -> None:  # type: ignore[no-untyped-def]
        await bot.send_message(query.from_user.id, f"pressed {query.data}")

    bot = tg.MockedBot()
    await dp.feed_update(bot, tg.update(tg.callback_query(7, "case:1:accept", chat_id=-5)))
    assert [m.text for m in bot.sent] == ["pressed case:1:accept"]
    bot.add_result_for(SendMessage, ok=False, description="Forbidden: bot was blocked by the user",
                       error_code=403)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(7, "x")
