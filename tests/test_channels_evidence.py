"""A photo received on one chat platform reaches an agency group on another, through the bot's own file
store: with Telegram against the local Bot API server and a second, minimal channel written here (as a
new platform's adapter would be: a transport for the outbox, its capabilities, files read from the store)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import select

from bot import channels
from bot.cases import Citizen, Draft, Evidence, submit
from bot.delivery.filestore import LocalFileStore, store_key, stored_id
from bot.delivery.ratelimit import Limits
from bot.delivery.sender import Sender
from bot.delivery.transport import Delivery, DeliveryResult
from handlers.telegram.files import keep
from handlers.telegram.sender import TelegramTransport
from simulator.botapi import FakeBotAPI
from storage.models import AgencyChat, Attachment

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # the bytes a citizen's camera made
WEB = "web"  # the second platform: say, the province's web form with its own officers' rooms


class WebTransport:
    """The second platform's outbox transport: records what it was asked to send, reading files from the
    bot's store as a real adapter would upload them."""

    def __init__(self, store: LocalFileStore) -> None:
        self.store = store
        self.sent: list[tuple[str, str, bytes | str]] = []  # (chat, kind, text or file bytes)

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        if delivery.kind == "media":
            for item in delivery.payload["items"]:
                key = store_key(item["file_id"])
                if key is None:  # a platform's own file id means nothing here
                    return DeliveryResult.permanent(f"not a stored file: {item['file_id']}")
                self.sent.append((delivery.chat_id, "photo", await self.store.get(key)))
        else:
            self.sent.append((delivery.chat_id, delivery.kind, str(delivery.payload.get("text", ""))))
        return DeliveryResult.ok(f"web-{len(self.sent)}")


@pytest.fixture
async def telegram(server: FakeBotAPI) -> AsyncIterator[Bot]:
    bot = Bot("42:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
    yield bot
    await bot.session.close()


@pytest.fixture
def store(core, tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "files", core.privacy)


async def _bind(core, agency_id: str, channel: str, chat_id: str) -> None:
    async with core.sessions() as session, session.begin():
        session.add(AgencyChat(agency_id=agency_id, channel=channel, chat_id=chat_id))


async def _file(core, sender: Citizen, photo: Evidence) -> str:
    draft = Draft(kind="denunciation", summary="Cán bộ thanh tra nhận tiền của chủ thầu để bỏ qua sai phạm",
                  files=(photo,))
    async with core.sessions() as session, session.begin():
        filed = await submit(session, core, sender, draft)
    return filed.case.code


async def _deliver(core, transports: dict) -> None:
    sender = Sender(core.sessions, transports, "w", privacy=core.privacy, limits=Limits.off())
    while (await sender.run_once()).claimed:
        pass


async def test_a_photo_sent_on_the_second_platform_reaches_a_telegram_group(
        core, server: FakeBotAPI, telegram: Bot, store: LocalFileStore) -> None:
    channels.register(WEB, channels.Capabilities(buttons=False, replies=False, max_text=2000))
    lead = "thanh-tra"
    await _bind(core, lead, "telegram", "-1001")
    server.set_chat(-1001, type="supergroup", title="Thanh tra")
    key = await store.put(PHOTO)  # the web adapter keeps what it receives, as Zalo's does
    code = await _file(core, Citizen(WEB, "w-citizen", "w-citizen"),
                       Evidence("photo", stored_id(key), size=len(PHOTO), mime="image/png"))
    web = WebTransport(store)
    await _deliver(core, {"telegram": TelegramTransport(telegram, store), WEB: web})
    card = server.calls("sendMessage", chat_id=-1001, ok=True)
    assert any(code in r.params.get("text", "") for r in card)
    [photo] = server.calls("sendPhoto", chat_id=-1001, ok=True)
    assert photo.files and str(photo.params["photo"]).startswith("attach://"), "uploaded, not a file id"
    assert not web.sent, "nothing for the web platform: the agency is on Telegram"


async def test_a_telegram_photo_is_kept_and_reaches_a_group_on_the_second_platform(
        core, server: FakeBotAPI, telegram: Bot, store: LocalFileStore) -> None:
    channels.register(WEB, channels.Capabilities(buttons=False, replies=False, max_text=2000))
    await _bind(core, "thanh-tra", WEB, "room-thanh-tra")
    telegram_id = server.store_file(PHOTO, name="anh.png", mime_type="image/png")  # as a citizen sent it
    file_id, size = await keep(telegram, store, core.settings, "photo", telegram_id, len(PHOTO), "image/png")
    assert store_key(file_id) is not None and size == len(PHOTO), "downloaded into the store on receipt"
    code = await _file(core, Citizen("telegram", "777", "777"), Evidence("photo", file_id, size=size))
    web = WebTransport(store)
    await _deliver(core, {"telegram": TelegramTransport(telegram, store), WEB: web})
    room = [(kind, body) for chat, kind, body in web.sent if chat == "room-thanh-tra"]
    assert any(kind == "card" and code in str(body) for kind, body in room)
    assert ("photo", PHOTO) in room, "the same bytes, re-uploaded on the other platform"
    async with core.sessions() as session:
        kept = (await session.execute(select(Attachment.file_id))).scalars().all()
    assert kept == [file_id]


async def test_a_file_telegram_cannot_hand_over_keeps_its_telegram_id(
        core, telegram: Bot, store: LocalFileStore) -> None:
    file_id, size = await keep(telegram, store, core.settings, "photo", "gone-file", 1234)
    assert (file_id, size) == ("gone-file", 1234)
    too_big = (core.settings.max_file_mb + 1) * 1024 * 1024
    kept = await keep(telegram, store, core.settings, "document", "big", too_big, None, "a.pdf")
    assert kept == ("big", too_big), "a file the checks refuse is not downloaded"


async def test_the_telegram_channel_fetches_a_files_bytes(
        core, server: FakeBotAPI, store: LocalFileStore) -> None:
    from aiogram.exceptions import TelegramAPIError

    from handlers.telegram.channel import TelegramChannel
    from handlers.telegram.settings import TelegramSettings

    settings = TelegramSettings(_env_file=None, bot_token="42:TEST", telegram_api_url=server.url)
    channel = TelegramChannel(core, settings, store, 30)
    try:
        file_id = server.store_file(PHOTO, name="anh.png", mime_type="image/png")
        assert await channel.fetch(file_id) == PHOTO
        with pytest.raises((TelegramAPIError, OSError)):
            await channel.fetch("no-such-file")
    finally:
        await channel.stop()
