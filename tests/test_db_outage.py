"""While the database is down, everyone who writes or presses is answered once, and the log says so once."""

from __future__ import annotations

import logging

import pytest
from aiogram.methods import AnswerCallbackQuery
from sqlalchemy.exc import OperationalError

from bot import cards
from handlers.telegram import build_dispatcher
from tests import tg
from tests.officer_kit import CHATS, bind_groups, make_case

BUSY_VI = "tạm thời gián đoạn"


def _down(*args: object, **kwargs: object) -> None:
    raise OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "Connection refused"))


async def test_an_outage_answers_everyone_and_logs_once(core, monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    await bind_groups(core)
    case = await make_case(core)
    group = int(CHATS["thanh-tra"])
    dp, bot = build_dispatcher(core), tg.MockedBot()
    working = core.sessions
    monkeypatch.setattr(core, "sessions", _down)
    caplog.set_level(logging.INFO)

    for n in range(3):  # three citizens write while the database is down
        await dp.feed_update(bot, tg.update(tg.private_message(7000 + n, "Chủ tịch xã nhận hối lộ")))
    press = tg.case_button(core, "thanh-tra", case.id, case.version, cards.ACCEPT)
    await dp.feed_update(bot, tg.update(tg.callback_query(501, press, chat_id=group)))
    await dp.feed_update(bot, tg.update(tg.group_message(group, 501, "/cases")))
    await dp.feed_update(bot, tg.update(tg.group_message(group, 502, "họp lúc 3 giờ nhé")))

    citizens = [m for m in bot.sent if str(m.chat_id).startswith("700")]
    assert sorted(str(m.chat_id) for m in citizens) == ["7000", "7001", "7002"]
    assert all(BUSY_VI in m.text for m in citizens)
    [answer] = bot.calls(AnswerCallbackQuery)  # the officer's press: one answer, an alert
    assert answer.show_alert and BUSY_VI in answer.text
    in_group = [m for m in bot.sent if str(m.chat_id) == str(group)]
    assert len(in_group) == 1 and BUSY_VI in in_group[0].text, "the command is answered, the chat is not"

    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1 and "OperationalError" in records[0].getMessage()
    assert records[0].exc_info is None and records[0].exc_text is None, "one line, not a traceback"

    monkeypatch.setattr(core, "sessions", working)
    caplog.clear()
    await dp.feed_update(bot, tg.update(tg.private_message(7000, "/start")))
    assert any("recovered" in r.getMessage() for r in caplog.records)


async def test_a_bug_is_logged_with_its_traceback_and_the_citizen_answered(core, monkeypatch, caplog) -> None:
    dp, bot = build_dispatcher(core), tg.MockedBot()

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(core, "sessions", broken)
    await dp.feed_update(bot, tg.update(tg.private_message(7000, "xin chào")))
    [apology] = bot.sent
    assert "sự cố" in apology.text and BUSY_VI not in apology.text
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_info is not None
