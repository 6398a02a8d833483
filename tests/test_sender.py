"""The outbox sender against the fake Bot API: delivered once, never lost, limits and failures honoured."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from cryptography.fernet import Fernet
from sqlalchemy import delete, func, select

from bot.delivery.outbox import enqueue, enqueue_private
from bot.delivery.ratelimit import Limits
from bot.delivery.sender import Sender
from bot.delivery.transport import Delivery, DeliveryResult
from bot.privacy import Privacy
from handlers.telegram.sender import TelegramTransport
from simulator.botapi import FakeBotAPI
from storage.db import create_engine, session_factory
from storage.models import Agency, AgencyChat, CardMessage, Case, ChatUser, OutboxMessage, utcnow

FAST = Limits(per_second=1000, chat_interval=0, group_per_minute=0)


class Clock:
    def __init__(self) -> None:
        self.now = utcnow().replace(microsecond=0) + dt.timedelta(hours=1)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
async def bot(server: FakeBotAPI) -> AsyncIterator[Bot]:
    b = Bot("42:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
    yield b
    await b.session.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


PRIVACY = Privacy(Fernet.generate_key())


def make_sender(sessions, bot: Bot, clock: Clock, limits: Limits = FAST, **kw: Any) -> Sender:
    return Sender(sessions, {"telegram": TelegramTransport(bot)}, kw.pop("worker_id", "w1"), privacy=PRIVACY,
                  clock=clock,
                  limits=limits, admin_ids=["1000", "1001"], admin_channel="telegram", rng=random.Random(1),
                  **kw)


async def put(sessions, chat_id: str | int, text: str, kind: str = "text", **kw: Any) -> int:
    async with sessions() as session:
        row = await enqueue(session, channel="telegram", chat_id=str(chat_id), kind=kind,
                            payload=kw.pop("payload", None) or {"text": text}, key=kw.pop("key", text), **kw)
        await session.commit()
        return row.id


async def rows(sessions) -> dict[int, OutboxMessage]:
    async with sessions() as session:
        return {r.id: r for r in (await session.scalars(select(OutboxMessage))).all()}


async def drain(sender: Sender, clock: Clock, step: float = 1.0, rounds: int = 200) -> None:
    """Run rounds, moving the fake clock, until nothing is left to send."""
    for _ in range(rounds):
        await sender.run_once()
        async with sender.sessions() as session:
            left = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status.in_(["pending", "sending"])))
        if not left:
            return
        clock.advance(step)
    raise AssertionError("outbox not drained")


async def add_case(sessions, code: str = "ABCD-1234", agency: str = "thanh-tra") -> int:
    async with sessions() as session:
        if await session.get(Agency, agency) is None:
            session.add(Agency(id=agency, name_vi="Thanh tra tỉnh", name_en="Provincial Inspectorate"))
        case = Case(code=code, pin_hash="x", channel="telegram", kind="complaint", summary="s",
                    lead_agency_id=agency, received_on=dt.date(2026, 3, 2))
        session.add(case)
        await session.commit()
        return case.id


async def test_text_with_buttons_is_delivered_and_recorded(sessions, server, bot, clock) -> None:
    row_id = await put(sessions, 7, "Chọn loại", payload={
        "text": "Chọn loại", "buttons": [[{"text": "Tố cáo", "data": "kind:denunciation"}],
                                          [{"text": "Luật", "url": "https://example.org"}]]})
    stats = await make_sender(sessions, bot, clock).run_once()
    assert stats.sent == 1
    request = server.calls("sendMessage")[0]
    assert request.params["text"] == "Chọn loại"
    keyboard = request.params["reply_markup"]["inline_keyboard"]
    assert keyboard[0][0]["callback_data"] == "kind:denunciation" and keyboard[1][0]["url"]
    row = (await rows(sessions))[row_id]
    assert (row.status, row.message_id, row.sent_at, row.claimed_until) == ("sent", "1", clock.now, None)


@pytest.mark.parametrize("asks", ["expects_answer", "force_reply"])  # force_reply: rows of earlier versions
async def test_a_question_asks_for_a_reply_and_replies_to(sessions, server, bot, clock, asks) -> None:
    await put(sessions, 7, "first")
    await put(sessions, 7, "q", payload={"text": "Câu hỏi?", asks: True, "reply_to": 1})
    await drain(make_sender(sessions, bot, clock), clock)
    question = server.calls("sendMessage")[1]
    assert question.params["reply_markup"]["force_reply"] is True
    assert question.params["reply_parameters"]["message_id"] == 1


async def test_crash_before_sending_loses_nothing_and_sends_once(sessions, server, bot, clock) -> None:
    await put(sessions, 7, "hồ sơ đã tiếp nhận")
    started, never = asyncio.Event(), asyncio.Event()

    class Hanging:
        async def deliver(self, delivery: Delivery) -> DeliveryResult:
            started.set()
            await never.wait()
            raise AssertionError("unreachable")

    crashed = Sender(sessions, {"telegram": Hanging()}, "crashed", privacy=PRIVACY, clock=clock, limits=FAST,
                     lease_seconds=60)
    task = asyncio.create_task(crashed.run_once())
    await started.wait()
    task.cancel()  # the process dies with the row claimed
    with pytest.raises(asyncio.CancelledError):
        await task

    survivor = make_sender(sessions, bot, clock, worker_id="w2")
    assert (await survivor.run_once()).sent == 0, "the dead worker's lease still holds"
    clock.advance(61)
    await drain(survivor, clock)
    await survivor.run_once()
    assert server.texts(7) == ["hồ sơ đã tiếp nhận"]


async def test_two_senders_deliver_each_row_once(db_url, server, bot, clock) -> None:
    engines = [create_engine(db_url), create_engine(db_url)]
    try:
        factories = [session_factory(e) for e in engines]
        for n in range(60):
            await put(factories[0], 100 + n % 15, f"msg {n}")
        senders = [make_sender(f, bot, clock, worker_id=f"w{i}", batch=7) for i, f in enumerate(factories)]

        async def loop(sender: Sender) -> None:
            for _ in range(50):
                if (await sender.run_once()).claimed == 0:
                    return

        await asyncio.gather(*(loop(s) for s in senders))
        texts = server.texts()
        assert sorted(texts) == sorted(f"msg {n}" for n in range(60))
        assert all(r.status == "sent" for r in (await rows(factories[0])).values())
    finally:
        for e in engines:
            await e.dispose()


async def test_retry_after_defers_that_chat_only(sessions, server, bot, clock) -> None:
    server.fail_next("sendMessage", 429, retry_after=5, chat_id=7)
    a = await put(sessions, 7, "a1")
    b = await put(sessions, 7, "a2")
    await put(sessions, 8, "b1")
    sender = make_sender(sessions, bot, clock)
    start = clock.now
    await sender.run_once()
    assert server.texts(8) == ["b1"] and server.texts(7) == []
    stored = await rows(sessions)
    assert stored[a].status == "pending" and stored[a].not_before == start + dt.timedelta(seconds=5)
    assert stored[b].not_before >= stored[a].not_before
    assert stored[a].attempts == 0, "a 429 is not a failed attempt"
    clock.advance(4)
    await sender.run_once()
    assert server.texts(7) == []
    clock.advance(1)
    await drain(sender, clock)
    assert server.texts(7) == ["a1", "a2"]


async def test_server_errors_back_off_then_deliver(sessions, server, bot, clock) -> None:
    server.fail_next("sendMessage", 500, times=2)
    row_id = await put(sessions, 7, "x")
    sender = make_sender(sessions, bot, clock)
    start = clock.now
    await sender.run_once()
    first = (await rows(sessions))[row_id]
    assert first.attempts == 1 and "Internal Server Error" in (first.last_error or "")
    assert start + dt.timedelta(seconds=1) <= first.not_before <= start + dt.timedelta(seconds=2)
    clock.now = first.not_before
    await sender.run_once()
    second = (await rows(sessions))[row_id]
    assert second.attempts == 2
    assert clock.now + dt.timedelta(seconds=2) <= second.not_before <= clock.now + dt.timedelta(seconds=4)
    clock.now = second.not_before
    await sender.run_once()
    assert server.texts(7) == ["x"]
    assert (await rows(sessions))[row_id].status == "sent"


async def test_ten_minute_outage_loses_nothing_and_delivers_each_once(sessions, server, bot, clock) -> None:
    server.fail_next("sendMessage", 502, times=None)
    receipt = await put(sessions, 7, "Mã hồ sơ QN-1 mã PIN 123456")
    cards = [await put(sessions, -100 - n, f"card {n}", kind="card") for n in range(3)]
    sender = make_sender(sessions, bot, clock)
    start = clock.now
    while clock.now < start + dt.timedelta(minutes=10):
        await sender.run_once()
        clock.advance(5)
    stored = await rows(sessions)
    assert all(stored[i].status == "pending" for i in [receipt, *cards]), "an outage fails nothing"
    assert stored[receipt].attempts >= 5
    server.clear_faults()
    await drain(sender, clock, step=30)
    stored = await rows(sessions)
    assert all(stored[i].status == "sent" for i in [receipt, *cards])
    assert server.texts(7) == ["Mã hồ sơ QN-1 mã PIN 123456"]
    assert [server.texts(-100 - n) for n in range(3)] == [["card 0"], ["card 1"], ["card 2"]]
    assert server.texts("1000") == [], "a transient outage is not reported as a loss"


async def test_retries_for_days_with_at_most_ten_minutes_between_tries(sessions, server, bot, clock) -> None:
    server.fail_next("sendMessage", 500, times=None)
    row_id = await put(sessions, 7, "x")
    sender = make_sender(sessions, bot, clock)
    for _ in range(40):
        await sender.run_once()
        row = (await rows(sessions))[row_id]
        assert row.status == "pending"
        assert row.not_before - clock.now <= dt.timedelta(minutes=10)
        clock.now = row.not_before
    assert row.attempts == 40
    server.clear_faults()
    await sender.run_once()
    assert server.texts(7) == ["x"]


async def test_kicked_from_group_marks_chat_reports_once_and_spares_others(sessions, server, bot,
                                                                           clock) -> None:
    async with sessions() as session:
        session.add_all([Agency(id="thanh-tra", name_vi="Thanh tra tỉnh", name_en="Inspectorate"),
                         Agency(id="cong-an", name_vi="Công an tỉnh", name_en="Police")])
        await session.flush()
        session.add_all([AgencyChat(agency_id="thanh-tra", channel="telegram", chat_id="-100"),
                         AgencyChat(agency_id="cong-an", channel="telegram", chat_id="-200")])
        await session.commit()
    server.fail_next("sendMessage", 403, chat_id=-100, times=None,
                     description="Forbidden: bot was kicked from the supergroup chat")
    failed = [await put(sessions, -100, f"tt{n}", agency_id="thanh-tra") for n in range(2)]
    await put(sessions, -200, "ca", agency_id="cong-an")
    sender = make_sender(sessions, bot, clock)
    start = clock.now
    await drain(sender, clock)
    assert server.texts(-200) == ["ca"]
    stored = await rows(sessions)
    assert all(stored[i].status == "failed" and "kicked" in (stored[i].last_error or "") for i in failed)
    assert len(server.calls("sendMessage", chat_id=-100)) == 1, "the chat's other rows are not tried"
    async with sessions() as session:
        chat = (await session.scalars(select(AgencyChat).where(AgencyChat.chat_id == "-100"))).one()
        assert chat.failed_at == start and "kicked" in (chat.failure or "")
    for admin in ("1000", "1001"):
        [report] = server.texts(admin)
        assert "Thanh tra tỉnh" in report and "-100" in report

    await put(sessions, -100, "later", agency_id="thanh-tra")
    await drain(sender, clock)
    assert len(server.texts("1000")) == 1, "one report per chat, not per message"


async def test_blocked_citizen_is_marked_and_admins_told_without_identity(sessions, server, bot,
                                                                          clock) -> None:
    case_id = await add_case(sessions, code="QN-7777")
    server.fail_next("sendMessage", 403, chat_id=555, times=None)
    async with sessions() as session:
        row = await enqueue_private(session, PRIVACY, channel="telegram", chat_id="555",
                                    payload={"text": "Hồ sơ đã được thụ lý"}, key="k", case_id=case_id)
        await session.commit()
        row_id = row.id
    await put(sessions, 556, "other citizen")
    start = clock.now
    await drain(make_sender(sessions, bot, clock), clock)
    assert row_id not in await rows(sessions), "a message to a person is not kept once it failed for good"
    assert server.texts(556) == ["other citizen"]
    async with sessions() as session:
        user = await session.get(ChatUser, ("telegram", PRIVACY.chat_key("telegram", "555")))
        assert user is not None and user.blocked_at == start
    report = server.texts("1000")[0]
    assert "QN-7777" in report and "555" not in report


async def test_bad_request_fails_only_the_row(sessions, server, bot, clock) -> None:
    async with sessions() as session:
        session.add(Agency(id="thanh-tra", name_vi="Thanh tra tỉnh", name_en="Inspectorate"))
        await session.flush()
        session.add(AgencyChat(agency_id="thanh-tra", channel="telegram", chat_id="-100"))
        await session.commit()
    server.fail_next("sendMessage", 400, description="Bad Request: message is too long", chat_id=-100)
    bad = await put(sessions, -100, "too long", agency_id="thanh-tra")
    await put(sessions, -100, "fine", agency_id="thanh-tra")
    await drain(make_sender(sessions, bot, clock), clock)
    assert (await rows(sessions))[bad].status == "failed"
    assert server.texts(-100) == ["fine"]
    async with sessions() as session:
        chat = (await session.scalars(select(AgencyChat))).one()
        assert chat.failed_at is None
    for admin in ("1000", "1001"):
        [report] = server.texts(admin)
        assert "Thanh tra tỉnh" in report and "message is too long" in report


async def test_per_chat_interval_defers_with_spacing(sessions, server, bot, clock) -> None:
    ids = [await put(sessions, 7, f"m{n}") for n in range(3)]
    sender = make_sender(sessions, bot, clock, limits=Limits(per_second=30, chat_interval=1.0,
                                                            group_per_minute=20))
    start = clock.now
    stats = await sender.run_once()
    assert (stats.sent, stats.deferred) == (1, 2)
    stored = await rows(sessions)
    assert [stored[i].not_before for i in ids[1:]] == [start + dt.timedelta(seconds=1),
                                                        start + dt.timedelta(seconds=2)]
    await drain(sender, clock)
    stored = await rows(sessions)
    sent_at = [stored[i].sent_at for i in ids]
    assert all(b - a >= dt.timedelta(seconds=1) for a, b in itertools.pairwise(sent_at))
    assert server.texts(7) == ["m0", "m1", "m2"]


async def test_group_gets_at_most_20_a_minute(sessions, server, bot, clock) -> None:
    ids = [await put(sessions, -100, f"g{n}") for n in range(25)]
    sender = make_sender(sessions, bot, clock, limits=Limits())
    await drain(sender, clock, step=1.0, rounds=400)
    stored = await rows(sessions)
    sent_at = sorted(stored[i].sent_at for i in ids)
    for n in range(len(sent_at) - 20):
        assert sent_at[n + 20] - sent_at[n] >= dt.timedelta(seconds=60)
    assert server.texts(-100) == [f"g{n}" for n in range(25)]


async def test_overall_rate_is_30_a_second(sessions, server, bot, clock) -> None:
    for n in range(40):
        await put(sessions, 200 + n, f"p{n}")
    sender = make_sender(sessions, bot, clock, limits=Limits())
    stats = await sender.run_once()
    assert (stats.sent, stats.deferred) == (30, 10)
    clock.advance(1)
    assert (await sender.run_once()).sent == 10


async def test_card_is_recorded_and_edit_card_edits_it(sessions, server, bot, clock) -> None:
    case_id = await add_case(sessions)
    sender = make_sender(sessions, bot, clock)
    await put(sessions, -100, "Hồ sơ ABCD: mới", kind="card", case_id=case_id, agency_id="thanh-tra",
              key="card-1",
              payload={"text": "Hồ sơ ABCD: mới", "buttons": [[{"text": "Thụ lý", "data": "a"}]]})
    await drain(sender, clock)
    async with sessions() as session:
        [card] = (await session.scalars(select(CardMessage))).all()
    assert (card.case_id, card.agency_id, card.chat_id, card.message_id, card.purpose) == (
        case_id, "thanh-tra", "-100", "1", "card")

    await put(sessions, -100, "", kind="edit_card", case_id=case_id, agency_id="thanh-tra", key="edit-1",
              payload={"text": "Hồ sơ ABCD: đã thụ lý"})
    await put(sessions, -100, "", kind="edit_card", case_id=case_id, agency_id="thanh-tra", key="edit-2",
              payload={"text": "Hồ sơ ABCD: đã thụ lý"})
    await drain(sender, clock)
    edits = server.calls("editMessageText")
    assert [e.params["message_id"] for e in edits] == [1], "an edit that changes nothing is not sent"
    assert server.messages[("-100", 1)]["text"] == "Hồ sơ ABCD: đã thụ lý"
    assert "reply_markup" not in server.messages[("-100", 1)]
    assert {r.status for r in (await rows(sessions)).values()} == {"sent"}
    assert len(server.calls("sendMessage")) == 1


async def test_edit_card_without_editable_card_posts_a_new_one(sessions, server, bot, clock) -> None:
    case_id = await add_case(sessions)
    async with sessions() as session:
        session.add(CardMessage(case_id=case_id, agency_id="thanh-tra", channel="telegram", chat_id="-100",
                                message_id="999"))
        await session.commit()
    await put(sessions, -100, "", kind="edit_card", case_id=case_id, agency_id="thanh-tra", key="e",
              payload={"text": "card now"})
    await drain(make_sender(sessions, bot, clock), clock)
    assert server.texts(-100) == ["card now"]
    async with sessions() as session:
        ids = sorted((await session.scalars(select(CardMessage.message_id))).all())
    assert ids == ["1"], "the card that is gone is replaced by the new one"


async def test_media_album_and_single_items(sessions, server, bot, clock) -> None:
    await put(sessions, 7, "m", kind="media", key="album", payload={"items": [
        {"media": "photo", "file_id": "p1", "caption": "ảnh 1"}, {"media": "photo", "file_id": "p2"},
        {"media": "voice", "file_id": "v1"}, {"media": "document", "file_id": "d1"}]})
    await drain(make_sender(sessions, bot, clock), clock)
    assert [r.method for r in server.calls()] == ["sendMediaGroup", "sendVoice", "sendDocument"]
    assert [m["media"] for m in server.calls("sendMediaGroup")[0].params["media"]] == ["p1", "p2"]
    row = next(iter((await rows(sessions)).values()))
    assert row.status == "sent" and row.message_id == "1"


async def test_long_card_goes_in_parts_and_is_edited_in_place_part_by_part(sessions, server, bot,
                                                                           clock) -> None:
    case_id = await add_case(sessions)
    story = "Câu chuyện dài của người dân. " * 300  # 9,000 characters
    sender = make_sender(sessions, bot, clock)
    buttons = [[{"text": "Thụ lý", "data": "a"}]]
    await put(sessions, -100, "", kind="card", case_id=case_id, agency_id="thanh-tra", key="card",
              payload={"text": "Hồ sơ ABCD: mới\n\n" + story, "buttons": buttons})
    await drain(sender, clock)
    sent = server.calls("sendMessage", chat_id=-100)
    assert len(sent) == 3 and all(r.ok for r in sent)
    assert [("reply_markup" in r.params) for r in sent] == [False, False, True], "buttons on the last part"
    async with sessions() as session:
        parts = (await session.scalars(select(CardMessage.message_id).order_by(CardMessage.id))).all()
    assert parts == ["1", "2", "3"]

    await put(sessions, -100, "", kind="edit_card", case_id=case_id, agency_id="thanh-tra", key="edit",
              payload={"text": "Hồ sơ ABCD: đã thụ lý\n\n" + story,
                       "buttons": [[{"text": "Xong", "data": "b"}]]})
    await drain(sender, clock)
    edits = server.calls("editMessageText")
    assert [e.params["message_id"] for e in edits] == [1, 3], "only the parts that changed are edited"
    assert server.messages[("-100", 1)]["text"].startswith("Hồ sơ ABCD: đã thụ lý")
    assert server.messages[("-100", 3)]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "b"

    await put(sessions, -100, "", kind="edit_card", case_id=case_id, agency_id="thanh-tra", key="short",
              payload={"text": "Hồ sơ ABCD: đã giải quyết"})
    await drain(sender, clock)
    assert server.texts(-100)[-1] == "Hồ sơ ABCD: đã giải quyết", "a card of another length is posted anew"
    assert [r.params["message_id"] for r in server.calls("deleteMessage")] == [1, 2, 3]
    async with sessions() as session:
        parts = (await session.scalars(select(CardMessage.message_id))).all()
    assert parts == ["4"]
    assert all(r.ok for r in server.requests)


async def test_a_stored_delivery_error_never_holds_the_token(sessions, clock: Clock) -> None:
    """Network errors quote the request URL, which carries the token: the outbox keeps them without it."""
    token = "123456789:AAEhBOweik6ad2rgIyNGxOtbJs8MK7bS0nQ"
    dead = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base("http://127.0.0.1:9")))

    class Quoting:
        """A transport whose failures quote the URL, as HTTP client errors do."""

        async def deliver(self, delivery: Delivery) -> DeliveryResult:
            raise ConnectionError(f"cannot reach http://127.0.0.1:9/bot{token}/sendMessage")

    try:
        for chat, transports in enumerate(({"telegram": TelegramTransport(dead)}, {"telegram": Quoting()})):
            sender = Sender(sessions, transports, "w1", privacy=PRIVACY, clock=clock, limits=FAST,
                            secrets=[token])
            row_id = await put(sessions, 5 + chat, "hello")
            await sender.run_once()
            stored = (await rows(sessions))[row_id]
            assert stored.status == "pending" and stored.last_error
            assert token not in stored.last_error and token.split(":")[1] not in stored.last_error
            async with sessions() as session:
                await session.execute(delete(OutboxMessage))
                await session.commit()
    finally:
        await dead.session.close()


class Slow:
    """A transport whose deliveries take a moment, so that several finish while one is being recorded."""

    def __init__(self) -> None:
        self.delivered: list[str] = []

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        await asyncio.sleep(0.005 * (int(delivery.chat_id) % 3))
        self.delivered.append(delivery.chat_id)
        return DeliveryResult.ok(len(self.delivered))


async def test_a_burst_shares_commits_and_each_delivery_is_recorded(sessions, engine, clock) -> None:
    from sqlalchemy import event

    ids = [await put(sessions, 100 + n, f"trả lời {n}") for n in range(30)]
    commits: list[int] = []

    def counted(_connection: object) -> None:
        commits.append(1)

    event.listen(engine.sync_engine, "commit", counted)
    transport = Slow()
    try:
        stats = await Sender(sessions, {"telegram": transport}, "w1", privacy=PRIVACY, clock=clock,
                             limits=FAST).run_once()
    finally:
        event.remove(engine.sync_engine, "commit", counted)
    assert stats.sent == 30 and len(transport.delivered) == 30
    assert all(row.status == "sent" and row.message_id for row in (await rows(sessions)).values())
    assert len(ids) == 30 and len(commits) < 15  # the claim and far fewer than one commit per message


async def test_a_shared_record_gives_each_row_its_own_id_and_leaves_a_row_another_worker_took(
        sessions, clock) -> None:
    """The rows delivered together are recorded in one statement: each keeps the id Telegram gave it, and
    a row whose lease was lost mid-delivery and taken by another worker stays that worker's."""
    from sqlalchemy import update

    ids = [await put(sessions, 300 + n, f"trả lời {n}") for n in range(12)]
    taken = ids[5]
    given: dict[int, str] = {}

    class Stolen(Slow):
        async def deliver(self, delivery: Delivery) -> DeliveryResult:
            if delivery.id == taken:
                async with sessions() as session:
                    await session.execute(update(OutboxMessage).where(OutboxMessage.id == taken)
                                          .values(claimed_by="w2"))
                    await session.commit()
            await asyncio.sleep(0.005 * (int(delivery.chat_id) % 3))
            given[delivery.id] = f"m{delivery.id}"
            return DeliveryResult.ok(given[delivery.id])

    await Sender(sessions, {"telegram": Stolen()}, "w1", privacy=PRIVACY, clock=clock, limits=FAST).run_once()
    stored = await rows(sessions)
    assert {i: stored[i].message_id for i in ids if i != taken} == {i: given[i] for i in ids if i != taken}
    assert all(stored[i].status == "sent" and stored[i].sent_at is not None for i in ids if i != taken)
    lost = stored[taken]
    assert (lost.status, lost.claimed_by, lost.message_id) == ("sending", "w2", None)


async def test_a_delivery_that_cannot_be_recorded_does_not_cost_the_others_theirs(sessions, clock,
                                                                                   monkeypatch) -> None:
    ids = [await put(sessions, 200 + n, f"trả lời {n}") for n in range(10)]
    bad = ids[4]
    sender = Sender(sessions, {"telegram": Slow()}, "w1", privacy=PRIVACY, clock=clock, limits=FAST)
    record = sender.outcomes._record_sent

    async def failing(session, batch):  # e.g. a constraint the row breaks
        if any(row.id == bad for row, _, _ in batch):
            raise RuntimeError("cannot record")
        await record(session, batch)

    monkeypatch.setattr(sender.outcomes, "_record_sent", failing)
    with pytest.raises(RuntimeError, match="cannot record"):
        await sender.run_once()
    stored = await rows(sessions)
    assert [i for i in ids if stored[i].status == "sent"] == [i for i in ids if i != bad]
    assert stored[bad].status == "sending"  # its lease runs out and it is delivered again


async def test_a_commit_during_a_round_that_found_nothing_is_sent_at_once(sessions, server, bot, clock,
                                                                          monkeypatch) -> None:
    """A reply committed while the sender is in a round whose claim came too early for it goes out in the
    next round, not a poll interval (here a minute) later."""
    sender = make_sender(sessions, bot, clock, poll_interval=60)
    sender.watch(sessions)
    rounds = 0
    run_once = sender.run_once

    async def round_with_a_commit_behind_its_claim():
        nonlocal rounds
        rounds += 1
        stats = await run_once()
        if rounds == 1:
            await put(sessions, 7, "Đã nhận phản ánh")  # commits, and wakes the sender mid-round
        return stats

    monkeypatch.setattr(sender, "run_once", round_with_a_commit_behind_its_claim)
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run_forever(stop))
    try:
        request = await server.wait_for("sendMessage", chat_id=7, timeout=5)
        assert request.params["text"] == "Đã nhận phản ánh"
    finally:
        stop.set()
        sender.wake()
        await asyncio.wait_for(running, 10)


async def test_a_commit_that_queues_a_message_wakes_the_sender(sessions, server, bot, clock) -> None:
    """A reply leaves as soon as its step commits, not a poll interval later (here a minute)."""
    sender = make_sender(sessions, bot, clock, poll_interval=60)
    sender.watch(sessions)
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run_forever(stop))
    try:
        await asyncio.sleep(0.5)  # the sender found nothing and rests
        await put(sessions, 7, "Đã nhận phản ánh")
        request = await server.wait_for("sendMessage", chat_id=7, timeout=5)
        assert request.params["text"] == "Đã nhận phản ánh"
    finally:
        stop.set()
        sender.wake()
        await asyncio.wait_for(running, 10)
