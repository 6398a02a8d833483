"""An agency the bot cannot reach: the admins and the secretariat are told in plain words which agency and
which cases wait; binding the group again, or the bot's return to it, delivers every card it missed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import select

from bot import agencies
from bot import officer as ca
from bot.cases import Citizen, Draft, Evidence, submit
from bot.delivery.ratelimit import Limits
from bot.delivery.sender import Sender
from bot.delivery.unreachable import tell_unreachable
from bot.quoting import plain
from handlers.telegram import build_dispatcher
from handlers.telegram.sender import TelegramTransport
from simulator.botapi import FakeBotAPI
from storage.models import AgencyChat
from tests import tg
from tests.officer_kit import CHATS, officer

ADMIN = "1000"
POLICE = int(CHATS["cong-an"])
SECRETARIAT = int(CHATS["noi-chinh"])
STORY = "Cán bộ công an xã nhận tiền để bỏ qua vi phạm, có dấu hiệu tội phạm nhận hối lộ"


@pytest.fixture
async def bot(server: FakeBotAPI) -> AsyncIterator[Bot]:
    b = Bot("42:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
    yield b
    await b.session.close()


async def _unreachable(core, session, agency_id: str, key: str) -> None:
    await tell_unreachable(session, core, agency_id, why="removed", key=key)


def make_sender(core, bot: Bot) -> Sender:
    return Sender(core.sessions, {"telegram": TelegramTransport(bot)}, "w", limits=Limits.off(),
                  admin_ids=[ADMIN], admin_channel="telegram", privacy=core.privacy,
                  agency_unreachable=partial(_unreachable, core))


async def drain(sender: Sender) -> None:
    while (await sender.run_once()).claimed:
        pass


async def file(core, user: str) -> str:
    async with core.sessions() as session, session.begin():
        evidence = (Evidence(media="photo", file_id=f"p-{user}"),)
        draft = Draft(kind="crime_report", summary=STORY, files=evidence)
        filed = await submit(session, core, Citizen("telegram", user, user), draft)
    assert "cong-an" in [filed.case.lead_agency_id, *filed.case.cooperating_ids]
    return filed.case.code


async def bind_all(core) -> None:
    async with core.sessions() as session, session.begin():
        for agency_id, chat_id in CHATS.items():
            session.add(AgencyChat(agency_id=agency_id, channel="telegram", chat_id=chat_id, source="admin"))


async def test_removed_group_is_reported_and_rebinding_delivers_what_it_missed(core, server, bot) -> None:
    await bind_all(core)
    sender = make_sender(core, bot)
    server.fail_next("sendMessage", 403, chat_id=POLICE, times=None,
                     description="Forbidden: bot was kicked from the supergroup chat")
    first = await file(core, "7001")
    await drain(sender)
    [alert] = server.texts(ADMIN)
    assert "Công an tỉnh" in alert and first in alert and "/bind cong-an" in alert
    assert "bị xoá khỏi nhóm" in alert and "delivery" not in alert and "403" not in alert
    assert any("Công an tỉnh" in t and first in t for t in server.texts(SECRETARIAT)), "the secretariat too"

    second = await file(core, "7002")  # filed while the group is marked failed: no card, an alert
    await drain(sender)
    latest = server.texts(ADMIN)[-1]
    assert first in latest and second in latest
    timeline = plain(await ca.show_case(core, officer("noi-chinh"), second))
    assert "delivery_unbound" not in timeline and "Chưa gửi được phiếu" in timeline
    assert "no bound group" not in timeline

    server.clear_faults()
    bound = await agencies.bind(core, channel="telegram", chat_id=str(POLICE), is_group=True,
                                user_id=ADMIN, agency_id="cong-an", title="Công an tỉnh")
    assert set(bound.redelivered) == {first, second}
    await drain(sender)
    police = server.texts(POLICE)
    cards = [t.split(" — ")[0] for t in police]  # a card starts "📋 Hồ sơ CODE — ..."
    assert cards.count(f"📋 Hồ sơ {first}") == 1 and cards.count(f"📋 Hồ sơ {second}") == 1
    assert len(server.calls("sendPhoto", chat_id=POLICE, ok=True)) == 2, "with the evidence"
    async with core.sessions() as session:
        chat = (await session.scalars(select(AgencyChat).where(AgencyChat.agency_id == "cong-an"))).one()
        assert chat.failed_at is None


async def test_cases_for_an_agency_without_a_group_wait_and_the_first_binding_delivers_them(core, server,
                                                                                              bot) -> None:
    await bind_all(core)
    async with core.sessions() as session, session.begin():
        row = (await session.scalars(select(AgencyChat).where(AgencyChat.agency_id == "cong-an"))).one()
        await session.delete(row)
    code = await file(core, "7003")
    await drain(make_sender(core, bot))
    [alert] = server.texts(ADMIN)
    assert "Công an tỉnh" in alert and code in alert and "chưa có nhóm" in alert
    dp, mocked = build_dispatcher(core), tg.MockedBot()
    await dp.feed_update(mocked, tg.update(tg.group_message(-9100, int(ADMIN), "/bind cong-an")))
    assert code in mocked.sent[-1].text
    await drain(make_sender(core, bot))
    assert any(code in t for t in server.texts(-9100))


async def test_bot_back_in_its_group_delivers_the_missed_cards(core, server, bot) -> None:
    await bind_all(core)
    server.fail_next("sendMessage", 403, chat_id=POLICE, times=None,
                     description="Forbidden: bot was kicked from the supergroup chat")
    code = await file(core, "7004")
    await drain(make_sender(core, bot))
    server.clear_faults()
    dp, mocked = build_dispatcher(core), tg.MockedBot()
    await dp.feed_update(mocked, tg.update(tg.my_chat_member(POLICE, int(ADMIN), new_status="member")))
    said = mocked.sent[-1]
    assert str(said.chat_id) == str(POLICE) and code in said.text and "/bind" not in said.text
    await drain(make_sender(core, bot))
    assert sum(code in t for t in server.texts(POLICE)) == 1
