"""The Zalo adapter's pieces as the platform drives them: update shapes, menus and long texts, the webhook's
checks, polling through timeouts and outages, the transport's outcomes, and the encrypted file store."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet

from bot.delivery.filestore import FileMissing, LocalFileStore, store_key, stored_id
from bot.delivery.transport import Delivery
from bot.i18n import t
from bot.intake import Intake
from bot.privacy import Privacy
from handlers.zalo import MAX_TEXT
from handlers.zalo.client import ZaloClient
from handlers.zalo.receiver import ZaloReceiver
from handlers.zalo.render import menu, split
from handlers.zalo.transport import ZaloTransport
from handlers.zalo.updates import parse
from simulator.zalo import TOKEN, FakeZaloAPI

MESSAGE = {"from": {"id": "u1", "display_name": "A"}, "chat": {"id": "u1", "chat_type": "PRIVATE"},
           "message_id": "m1", "date": 1767225600000, "text": "xin chào"}


def test_updates_come_flat_or_wrapped_and_odd_ones_are_dropped() -> None:
    flat = {"event_name": "message.text.received", "message": MESSAGE}
    assert parse(flat) == parse({"ok": True, "result": flat})
    assert parse(flat).text == "xin chào" and parse(flat).user_id == "u1"  # type: ignore[union-attr]
    assert parse({"event_name": "message.text.received", "message": {"text": "no sender"}}) is None
    assert parse({"message": MESSAGE}) is None and parse([1, 2]) is None and parse("x") is None
    group = {**MESSAGE, "chat": {"id": "g1", "chat_type": "GROUP"}}
    assert parse({"event_name": "message.text.received", "message": group}).group  # type: ignore[union-attr]
    photo = {**MESSAGE, "photo": "file:///etc/passwd"}
    assert parse({"event_name": "message.image.received", "message": photo}).photo is None  # type: ignore[union-attr]


def test_options_become_a_numbered_menu() -> None:
    payload = {"text": "Loại đơn?", "buttons": [[{"text": "Khiếu nại", "data": "in|kind:complaint"}],
                                               [{"text": "Tố cáo", "data": "in|kind:denunciation"}]]}
    assert menu(payload) == "Loại đơn?\n\n1. Khiếu nại\n2. Tố cáo"
    assert menu({"text": "no options"}) == "no options"


def test_long_texts_are_cut_at_sentences_within_the_limit() -> None:
    sentence = "Cán bộ địa chính nhận tiền của nhiều hộ dân để làm sổ đỏ nhanh hơn quy định. "
    text = sentence * 80
    parts = split(text)
    assert len(parts) > 1 and all(len(p) <= MAX_TEXT for p in parts)
    assert all(p.endswith("quy định.") for p in parts[:-1])
    assert " ".join(parts) == text.strip()
    assert [len(p) for p in split("x" * 4500)] == [2000, 2000, 500]


@pytest.fixture
async def zalo():
    async with FakeZaloAPI() as server:
        yield server


@pytest.fixture
async def client(zalo):
    made = ZaloClient(TOKEN, zalo.url, timeout=5)
    yield made
    await made.close()


async def test_transport_splits_and_maps_the_platforms_answers(zalo, client) -> None:
    transport = ZaloTransport(client)
    row = Delivery(id=1, channel="zalo", chat_id="u1", kind="text", payload={"text": "Câu trả lời. " * 400})
    assert (await transport.deliver(row)).outcome == "ok"
    assert all(len(t) <= MAX_TEXT for t in zalo.texts("u1")) and len(zalo.texts("u1")) == 3
    zalo.fail_next("sendMessage", 429, "Too many requests")
    assert (await transport.deliver(row)).outcome == "retry_after"
    zalo.fail_next("sendMessage", 503, "Service unavailable")
    assert (await transport.deliver(row)).outcome == "transient"
    zalo.fail_next("sendMessage", 403, "User has blocked the bot")
    blocked = await transport.deliver(row)
    assert (blocked.outcome, blocked.scope) == ("permanent", "chat")
    media = Delivery(id=2, channel="zalo", chat_id="u1", kind="media", payload={"items": []})
    assert (await transport.deliver(media)).outcome == "permanent"


async def test_polling_reads_408_as_nothing_new_and_backs_off_once_per_outage(core, zalo, client, tmp_path,
                                                                              caplog) -> None:
    store = LocalFileStore(tmp_path / "files", Privacy(Fernet.generate_key()))
    receiver = ZaloReceiver(core, Intake(core), client, store)
    stop = asyncio.Event()
    zalo.fail_next("getUpdates", 502, "Bad gateway", times=3)
    with caplog.at_level(logging.INFO):
        task = asyncio.create_task(receiver.poll_forever(stop, poll_seconds=1))
        zalo.push_text("u7", "/start")
        await zalo.wait_for("sendMessage", chat_id="u7", timeout=30)
        stop.set()
        await asyncio.wait_for(task, 10)
    failing = [r for r in caplog.records if "polling failing" in r.getMessage()]
    assert len(failing) == 1, "one warning per outage, not one per try"
    assert any("back" in r.getMessage() for r in caplog.records)
    bots_own = [r.getMessage() for r in caplog.records if r.name != "aiohttp.access"]  # not the server's
    assert not [line for line in bots_own if TOKEN in line]


async def test_webhook_checks_secret_size_and_shape_and_ignores_redelivery(core, zalo, client,
                                                                           tmp_path) -> None:
    store = LocalFileStore(tmp_path / "files", Privacy(Fernet.generate_key()))
    receiver = ZaloReceiver(core, Intake(core), client, store)
    update = {"event_name": "message.text.received", "message": {**MESSAGE, "chat": {"id": "u9"},
                                                                  "from": {"id": "u9"}, "text": "/start"}}
    async with TestClient(TestServer(receiver.webhook("s3cret-token"))) as http:
        assert (await http.post("/hook", json=update)).status == 401
        bad = await http.post("/hook", json=update, headers={"X-Bot-Api-Secret-Token": "wrong-token"})
        assert bad.status == 401
        headers = {"X-Bot-Api-Secret-Token": "s3cret-token"}
        assert (await http.post("/hook", data=b"{not json", headers=headers)).status == 400
        assert (await http.post("/hook", json={"hello": 1}, headers=headers)).status == 400
        huge = {"event_name": "message.text.received", "message": {**MESSAGE, "text": "x" * 400_000}}
        assert (await http.post("/hook", json=huge, headers=headers)).status == 413
        for body in (update, {"ok": True, "result": update}):  # the same message twice, in both shapes
            assert (await http.post("/hook", json=body, headers=headers)).status == 200
        await receiver.drain()
    await zalo.wait_for("sendMessage", chat_id="u9")
    await asyncio.sleep(0.2)
    welcome = [t for t in zalo.texts("u9") if "1. " in t]
    assert len(welcome) == 1, "a re-delivered update is handled once"


async def test_file_store_seals_files_and_refuses_strange_keys(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path, Privacy(Fernet.generate_key()))
    name = await store.put(b"\xff\xd8 photo of a receipt")
    assert store_key(stored_id(name)) == name and store_key("AgACAgIAAx") is None
    on_disk = next(p for p in tmp_path.rglob("*") if p.is_file())  # noqa: ASYNC240
    assert b"photo of a receipt" not in on_disk.read_bytes()
    assert oct(on_disk.stat().st_mode & 0o777) == "0o600"
    assert await store.get(name) == b"\xff\xd8 photo of a receipt"
    with pytest.raises(FileMissing):
        await LocalFileStore(tmp_path, Privacy(Fernet.generate_key())).get(name)
    for bad in ("../../etc/passwd", "", "a/b"):
        with pytest.raises(FileMissing):
            await store.get(bad)


async def test_the_bot_runs_on_zalo_alone(zalo, tmp_path) -> None:
    from runner.app import start
    from runner.settings import AppSettings as Settings
    from tests.conftest import SAMPLE_RULES

    settings = Settings(_env_file=None, bot_token=None, zalo_bot_token=TOKEN, zalo_api_url=zalo.url,
                        database_url=f"sqlite+aiosqlite:///{tmp_path}/bot.db", rules_file=str(SAMPLE_RULES))
    app = await start(settings)
    try:
        assert app.bot is None and app.dispatcher is None
        zalo.push_text("solo", "/start")
        menu_shown = await zalo.wait_for("sendMessage", lambda r: "\n1. " in r.params["text"],
                                         chat_id="solo", timeout=30)
        assert "📝 Gửi phản ánh mới" in menu_shown.params["text"]
    finally:
        await app.stop()


async def test_a_refused_zalo_token_stops_start_up_with_one_line(zalo, tmp_path) -> None:
    from runner.app import StartupError, start
    from runner.settings import AppSettings as Settings
    from tests.conftest import SAMPLE_RULES

    settings = Settings(_env_file=None, zalo_bot_token="wrong:token", zalo_api_url=zalo.url,
                        database_url=f"sqlite+aiosqlite:///{tmp_path}/bot.db", rules_file=str(SAMPLE_RULES))
    with pytest.raises(StartupError, match="ZALO_BOT_TOKEN was refused") as refused:
        await start(settings)
    assert "wrong:token" not in str(refused.value)


async def test_a_database_outage_answers_each_citizen_and_logs_once(core, zalo, client, tmp_path, caplog,
                                                                    monkeypatch) -> None:
    from sqlalchemy.exc import OperationalError

    store = LocalFileStore(tmp_path / "files", Privacy(Fernet.generate_key()))
    receiver = ZaloReceiver(core, Intake(core), client, store)
    working = core.sessions

    def down(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "Connection refused"))

    monkeypatch.setattr(core, "sessions", down)
    for n in range(3):
        user = f"u{20 + n}"
        await receiver.handle({"event_name": "message.text.received",
                               "message": {**MESSAGE, "message_id": f"m{n}", "chat": {"id": user},
                                           "from": {"id": user}, "text": "Chủ tịch xã nhận hối lộ"}})
        assert any("tạm thời gián đoạn" in t for t in zalo.texts(user))
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("handlers")]
    assert len(problems) == 1 and problems[0].exc_info is None, "one line for the outage, no tracebacks"
    monkeypatch.setattr(core, "sessions", working)
    await receiver.handle({"event_name": "message.text.received",
                           "message": {**MESSAGE, "message_id": "m9", "text": "/start"}})
    assert any("recovered" in r.getMessage() for r in caplog.records)


async def _raw_post(port: int, head: bytes, parts: list[bytes]) -> bytes:
    """An HTTP request written in several TCP segments with a pause between them, as a slow network does."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    for part in parts:
        await writer.drain()
        await asyncio.sleep(0.15)
        writer.write(part)
    await writer.drain()
    answer = await reader.read(200)
    writer.close()
    return answer


@pytest.mark.parametrize("chunked", [False, True])
async def test_webhook_reads_a_body_that_arrives_in_several_segments(core, zalo, client, tmp_path,
                                                                     chunked) -> None:
    store = LocalFileStore(tmp_path / "files", Privacy(Fernet.generate_key()))
    receiver = ZaloReceiver(core, Intake(core), client, store)
    story = "Cán bộ xã thu tiền làm đường của các hộ dân nhưng không làm. " * 40  # about 2.5 kB
    update = {"event_name": "message.text.received",
              "message": {**MESSAGE, "chat": {"id": "u7"}, "from": {"id": "u7"}, "text": story}}
    body = json.dumps(update, ensure_ascii=False).encode()
    halves = [body[: len(body) // 2], body[len(body) // 2:]]
    server = TestServer(receiver.webhook("s3cret-token"))
    await server.start_server()
    try:
        head = (b"POST /hook HTTP/1.1\r\nHost: x\r\nX-Bot-Api-Secret-Token: s3cret-token\r\n"
                b"Content-Type: application/json\r\nConnection: close\r\n")
        if chunked:
            parts = [b"%x\r\n%s\r\n" % (len(p), p) for p in halves] + [b"0\r\n\r\n"]
            answer = await _raw_post(server.port, head + b"Transfer-Encoding: chunked\r\n\r\n", parts)
        else:
            answer = await _raw_post(server.port, head + b"Content-Length: %d\r\n\r\n" % len(body), halves)
        assert answer.startswith(b"HTTP/1.1 200"), answer
        await receiver.drain()
    finally:
        await server.close()
    reply = await zalo.wait_for("sendMessage", chat_id="u7")
    assert reply is not None, "the story was taken up, not refused"


async def test_webhook_refuses_deeply_nested_json_quietly(core, zalo, client, tmp_path, caplog) -> None:
    store = LocalFileStore(tmp_path / "files", Privacy(Fernet.generate_key()))
    receiver = ZaloReceiver(core, Intake(core), client, store)
    nested = b"[" * 100_000 + b"]" * 100_000
    async with TestClient(TestServer(receiver.webhook("s3cret-token"))) as http:
        answer = await http.post("/hook", data=nested, headers={"X-Bot-Api-Secret-Token": "s3cret-token"})
        assert answer.status == 400
    assert not [r for r in caplog.records if r.exc_info], "no traceback in the log"


STORY = "Chủ tịch xã nhận hối lộ 200 triệu để cấp giấy chứng nhận quyền sử dụng đất cho doanh nghiệp"
PHOTO = b"\xff\xd8\xff\xe0" + b"evidence photo bytes" * 50


class Talk:
    """A citizen talking to the real receiver: each message handled as the platform hands it over."""

    def __init__(self, receiver: ZaloReceiver, zalo: FakeZaloAPI, user: str, locale: str = "vi") -> None:
        self.receiver, self.zalo, self.user, self.locale = receiver, zalo, user, locale

    async def handle(self, update: dict) -> str:
        """What the bot answered to one update."""
        before = len(self.zalo.texts(self.user))
        await self.receiver.handle(update)
        return "\n".join(self.zalo.texts(self.user)[before:])

    async def say(self, text: str) -> str:
        return await self.handle(self.zalo.push_text(self.user, text))

    async def pick(self, shown: str, key: str) -> str:
        label = t(key, self.locale)
        number = next(m.group(1) for m in re.finditer(r"(?m)^(\d+)\. (.*)$", shown) if m.group(2) == label)
        return await self.say(number)

    async def to_evidence(self) -> str:
        """Tell the story and skip to the evidence step; its prompt."""
        step = await self.pick(await self.say(STORY), "citizen.btn.proposal_yes")
        while t("citizen.btn.no_files", self.locale) not in step:
            step = await self.say(t("citizen.btn.skip", self.locale))
        return step


@pytest.mark.parametrize("field", ["photo_url", "photo"])
async def test_a_photo_is_taken_from_photo_url_as_real_traffic_sends_it_or_from_photo(
        core, zalo, client, tmp_path, field) -> None:
    core.settings.messages_per_minute = 1000
    store = LocalFileStore(tmp_path / "files", Privacy(Fernet.generate_key()))
    talk = Talk(ZaloReceiver(core, Intake(core), client, store), zalo, "zp-1")
    await talk.to_evidence()
    answer = await talk.handle(zalo.push_photo("zp-1", PHOTO, field=field))
    assert t("citizen.evidence.count", count=1) in answer and t("citizen.btn.done_files") in answer
    kept = [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
    assert len(kept) == 1 and await store.get(kept[0].name) == PHOTO


class FullStore:
    """A file store whose disk is full."""

    async def put(self, data: bytes) -> str:
        raise OSError(28, "No space left on device")

    async def get(self, key: str) -> bytes:
        raise FileMissing(key)


@pytest.mark.parametrize("trouble", ["gone", "no_url", "store_full"])
async def test_a_photo_that_cannot_be_fetched_or_kept_is_told_in_the_citizens_language(
        core, zalo, client, tmp_path, trouble) -> None:
    core.settings.messages_per_minute = 1000
    working = LocalFileStore(tmp_path, Privacy(Fernet.generate_key()))
    store = FullStore() if trouble == "store_full" else working
    talk = Talk(ZaloReceiver(core, Intake(core), client, store), zalo, "zp-2", locale="en")
    await talk.say("/lang en")
    await talk.to_evidence()
    update = zalo.push_photo("zp-2", PHOTO)
    if trouble == "gone":
        zalo.files.clear()  # the platform's link no longer serves the photo
    if trouble == "no_url":
        del update["message"]["photo_url"]
    answer = await talk.handle(update)
    assert t("citizen.unexpected.other", "en") not in answer, "not a message kind the bot cannot use"
    assert t("citizen.error", "vi") not in answer, "not a failure, and not in another language"
    assert t("citizen.unexpected.file_unavailable", "en") in answer
    assert t("citizen.btn.no_files", "en") in answer, "the evidence step is asked again"
    assert t("citizen.unexpected.file_unavailable", "vi") not in answer
