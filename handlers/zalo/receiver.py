"""Zalo updates into core calls: by long polling (development) or by webhook (production).

Each message goes to the relay when it answers an officer's question (Zalo has no "reply to this
message", so the core matches it by the case's code or by the one case waiting), else to the intake
dialogue; the dialogue's answer is rendered as text with numbered menus. Received photos are downloaded
into the bot's file store, so they reach agency groups on any platform.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections import OrderedDict
from typing import Any

from aiohttp import web

from bot import relay
from bot.core import Core
from bot.delivery.filestore import FileStore, stored_id
from bot.i18n import t
from bot.intake import FILE_UNAVAILABLE, Attachment, Command, Event, Intake, Other, Reply, Text, reply_payload
from bot.outage import OutageLog, is_unreachable
from handlers.zalo import CHANNEL
from handlers.zalo.client import ZaloClient, ZaloError, ZaloNetworkError
from handlers.zalo.render import menu, split
from handlers.zalo.updates import Incoming, parse, unwrap

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024  # a webhook body is a small JSON object; anything larger is refused
SEEN = 10_000  # recent updates remembered to drop the platform's re-deliveries


class ZaloReceiver:
    def __init__(self, core: Core, intake: Intake, client: ZaloClient, store: FileStore) -> None:
        self.core, self.intake, self.client, self.store = core, intake, client, store
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._users: dict[str, asyncio.Lock] = {}
        self.outage = OutageLog(log, "handling Zalo updates", cap=0)

    # ---- one update ---------------------------------------------------------------------------------

    def _first_time(self, incoming: Incoming) -> bool:
        key = incoming.dedupe_key
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > SEEN:
            self._seen.popitem(last=False)
        return True

    async def handle(self, update: Any) -> None:
        """Apply one update; updates of one person are handled one at a time, in order."""
        incoming = parse(update)
        if incoming is None or incoming.group or not self._first_time(incoming):
            return
        lock = self._users.setdefault(incoming.user_id, asyncio.Lock())
        async with lock:
            try:
                await self._handle(incoming)
            except Exception as exc:
                down = is_unreachable(exc)
                if down:  # the database is down: one line per outage, not a traceback per update
                    self.outage.failed(exc)
                else:
                    log.exception("Zalo update failed")
                apology = t("system.busy" if down else "citizen.error", "vi")
                await self._say(incoming.chat_id, [Reply(apology)])
            else:
                self.outage.recovered()

    async def _handle(self, incoming: Incoming) -> None:
        event = await self._event(incoming)
        if event is None:
            return
        if isinstance(event, (Text, Attachment)):
            answered = await self._answer(incoming, event)
            if answered:
                return
        replies = await self.intake.handle(CHANNEL, incoming.user_id, incoming.chat_id, event, None)
        await self._say(incoming.chat_id, replies)

    async def _event(self, incoming: Incoming) -> Event | None:
        if incoming.kind == "text":
            text = incoming.text.strip()
            if text.startswith("/") and len(text) > 1:
                name, _, args = text[1:].partition(" ")
                return Command(name.lower(), args.strip())
            return Text(incoming.text) if text else None
        if incoming.kind == "image":
            return await self._photo(incoming)
        return Other(incoming.kind)

    async def _photo(self, incoming: Incoming) -> Event:
        """The photo, kept in the file store; one that cannot be fetched or kept is an event the dialogue
        answers (the citizen hears it was not received), never dropped without a word."""
        if incoming.photo is None:
            log.warning("a Zalo image message without a usable photo URL")
            return Other(FILE_UNAVAILABLE)
        try:
            data = await self.client.download(incoming.photo)
        except (ZaloError, ZaloNetworkError) as exc:
            log.warning("Zalo photo could not be downloaded: %s", exc)
            return Other(FILE_UNAVAILABLE)
        try:
            key = await self.store.put(data)
        except Exception:
            log.exception("a Zalo photo could not be kept in the file store")
            return Other(FILE_UNAVAILABLE)
        return Attachment("photo", stored_id(key), None, len(data), "image/jpeg", None)

    async def _answer(self, incoming: Incoming, event: Text | Attachment) -> bool:
        """Relay the message as the answer to a waiting question; True when it was one (or when the
        citizen must first say which case it answers)."""
        text = event.text if isinstance(event, Text) else incoming.caption
        media = [event] if isinstance(event, Attachment) else None
        busy = await self.intake.takes(CHANNEL, incoming.user_id, event)
        result = await relay.unreplied_answer(
            self.core, channel=CHANNEL, user_id=incoming.user_id, chat_id=incoming.chat_id, text=text,
            media=media, dialogue_busy=busy)
        if result is None:
            return False
        if isinstance(result, list):
            locale = await self.intake.locale_of(CHANNEL, incoming.user_id)
            await self._say(incoming.chat_id, [Reply(t("notify.which_case", locale, n=len(result),
                                                       codes=", ".join(result), example=result[0]))])
            return True
        await self._say(incoming.chat_id, [Reply(text) for text in result.texts()])
        return True

    async def _say(self, chat_id: str, replies: list[Reply]) -> None:
        for reply in replies:
            for part in split(menu(reply_payload(reply))):
                try:
                    await self.client.send_message(chat_id, part)
                except (ZaloError, ZaloNetworkError) as exc:
                    log.warning("Zalo reply not sent: %s", exc)
                    return

    # ---- polling ------------------------------------------------------------------------------------

    async def poll_forever(self, stop: asyncio.Event, poll_seconds: int = 30) -> None:
        """Long polling; 408 means nothing new. Errors back off (1 s doubling to 60 s) and are logged once
        per outage."""
        delay, failing = 1.0, False
        with contextlib.suppress(ZaloError, ZaloNetworkError):
            await self.client.delete_webhook()
        while not stop.is_set():
            try:
                update = await self.client.get_update(poll_seconds)
            except (ZaloError, ZaloNetworkError) as exc:
                if not failing:
                    log.warning("Zalo polling failing, backing off: %s", exc)
                failing = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, 60.0)
                continue
            if failing:
                log.info("Zalo polling back")
            delay, failing = 1.0, False
            if update is not None:
                await self.handle(update)

    # ---- webhook ------------------------------------------------------------------------------------

    def webhook(self, secret: str) -> web.Application:
        """An aiohttp app taking the platform's POSTs: checks the secret in constant time, answers 200 at
        once and handles the update in the background."""

        async def receive(request: web.Request) -> web.Response:
            given = request.headers.get("X-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=401, text="unauthorized")
            if (request.content_length or 0) > MAX_BODY:
                return web.Response(status=413, text="too large")
            try:
                raw = await request.read()  # the whole body, however many segments it comes in
            except web.HTTPRequestEntityTooLarge:
                return web.Response(status=413, text="too large")
            try:
                body = unwrap(json.loads(raw))
            except (ValueError, UnicodeDecodeError, RecursionError):  # nesting deeper than a parser goes
                return web.Response(status=400, text="invalid payload")
            if body is None:
                return web.Response(status=400, text="invalid payload")
            task = asyncio.create_task(self.handle(body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return web.Response(text="ok")

        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/{path:.*}", receive)
        return app

    async def drain(self) -> None:
        """Wait for webhook updates still being handled (at shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
