"""A new chat platform is one adapter: a `Channel` the runner starts from its settings, a transport for
the outbox, and its own format for buttons. Here a minimal web channel (officers' rooms on the province's
site) is run by the real composition root with no Telegram at all: a case's card reaches its room, an
officer there presses "accept" in the web's own format, and the core acts on it."""

from __future__ import annotations

import asyncio
import inspect
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot import channels, officer, presses
from bot import status as st
from bot.cases import Citizen, Draft, submit
from bot.channels import Channel
from bot.core import Core
from bot.delivery.filestore import FileStore
from bot.delivery.transport import Delivery, DeliveryResult
from bot.officer import Actor, Outcome
from handlers.telegram.channel import TelegramChannel
from handlers.zalo.channel import ZaloChannel
from runner import app as runner
from runner.settings import AppSettings
from storage.models import AgencyChat, Case

WEB = "web"


class WebTransport:
    """The web platform's delivery: it keeps each message for its room, buttons as JSON it reads back."""

    def __init__(self) -> None:
        self.rooms: dict[str, list[dict[str, Any]]] = {}

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        payload = delivery.payload
        buttons = [json.dumps(b) for row in payload.get("buttons") or [] for b in row if "press" in b]
        self.rooms.setdefault(delivery.chat_id, []).append(
            {"kind": delivery.kind, "text": payload.get("text", ""), "buttons": buttons})
        return DeliveryResult.ok(f"web-{sum(len(r) for r in self.rooms.values())}")


class WebChannel:
    """Everything a platform adapter provides, for a platform that is a web page."""

    name = WEB

    def __init__(self, core: Core, settings: AppSettings, store: FileStore) -> None:
        self.core = core
        self.capabilities = channels.Capabilities(buttons=True, replies=False, max_text=10_000)
        self.transport = WebTransport()
        self.events: list[str] = []

    async def start(self, worker: str, stopping: asyncio.Event, *, receive: bool = True) -> None:
        self.events.append("start")

    def ended(self) -> asyncio.Future[None] | None:
        return None

    async def stop(self) -> None:
        self.events.append("stop")

    async def fetch(self, file_id: str) -> bytes:
        raise OSError("the web form uploads files straight into the store")

    async def press(self, room: str, user: str, wire: str) -> Outcome:
        """An officer's click, as the page posts it: the button's JSON."""
        signed = presses.from_button(json.loads(wire))
        return await officer.press(self.core, Actor(WEB, room, user, "Cán bộ trực web"), signed)


def test_every_platform_provides_the_whole_channel_interface() -> None:
    members = {name for name in dir(Channel) if not name.startswith("_")} | set(Channel.__annotations__)
    assert {"name", "capabilities", "transport", "start", "ended", "stop", "fetch"} <= members
    for adapter in (TelegramChannel, ZaloChannel, WebChannel):
        for name in ("start", "ended", "stop", "fetch"):
            ours, theirs = (inspect.signature(getattr(cls, name)) for cls in (Channel, adapter))
            assert list(ours.parameters) == list(theirs.parameters), (adapter, name)
        assert isinstance(getattr(adapter, "name", None), str), adapter


async def test_the_runner_starts_a_new_platform_from_one_line_and_the_core_acts_on_its_buttons(
        monkeypatch, tmp_path: Path, db_url: str) -> None:
    web_platform = runner.Platform(configured=lambda s: True, check=lambda s: None, build=WebChannel)
    monkeypatch.setattr(runner, "PLATFORMS", (web_platform,))
    channels.register(WEB, channels.Capabilities(buttons=True, replies=False, max_text=10_000))
    settings = AppSettings(_env_file=None, database_url=db_url, files_dir=str(tmp_path / "files"),
                           encryption_key=None)
    app = await runner.start(settings, worker_id="web-test")
    try:
        web = app.channels[WEB]
        assert isinstance(web, WebChannel) and web.events == ["start"] and app.bot is None
        async with app.core.sessions() as session, session.begin():
            for agency_id in ("thanh-tra", "noi-chinh"):
                session.add(AgencyChat(agency_id=agency_id, channel=WEB, chat_id=f"room-{agency_id}"))
        draft = Draft(kind="denunciation",
                      summary="Cán bộ thanh tra nhận tiền của chủ thầu để bỏ qua sai phạm")
        async with app.core.sessions() as session, session.begin():
            filed = await submit(session, app.core, Citizen("telegram", "7001", "7001"), draft)
        lead = filed.case.lead_agency_id
        room = f"room-{lead}"
        for _ in range(200):
            cards = [m for m in web.transport.rooms.get(room, []) if m["kind"] == "card"]
            if cards:
                break
            await asyncio.sleep(0.05)
        [card] = cards
        assert filed.case.code in card["text"] and card["buttons"]
        accept = next(b for b in card["buttons"] if json.loads(b)["press"]["action"] == "acc")
        forged = json.dumps({"press": {**json.loads(accept)["press"], "tag": "0" * 12}})
        try:
            await web.press(room, "u1", forged)
            raise AssertionError("a forged press was accepted")
        except officer.ActionRefused as refused:
            assert refused.reason_key == "officer.refused.forged"
        outcome = await web.press(room, "u1", accept)
        assert outcome.key == "officer.done.accepted"
        async with app.core.sessions() as session:
            case = (await session.execute(select(Case).where(Case.id == filed.case.id))).scalar_one()
        assert case.status == st.ACCEPTED and case.assignee == "Cán bộ trực web"
    finally:
        await app.stop()
    assert web.events == ["start", "stop"]
