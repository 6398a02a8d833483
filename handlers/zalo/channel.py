"""The Zalo channel as the composition root starts it: the client, the outbox transport, and updates by
long polling (ZALO_WEBHOOK_URL unset) or by webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlparse

from aiohttp import web

from bot.core import Core
from bot.filestore import FileStore
from bot.intake import Intake
from bot.settings import Settings, reveal
from handlers.zalo.client import ZaloClient, ZaloError, ZaloNetworkError
from handlers.zalo.receiver import ZaloReceiver
from handlers.zalo.transport import ZaloTransport

log = logging.getLogger(__name__)


class ZaloStartError(Exception):
    """Zalo cannot start; the message says why in one line."""


class ZaloChannel:
    def __init__(self, core: Core, settings: Settings) -> None:
        assert settings.zalo_bot_token
        self.core, self.settings = core, settings
        self.client = ZaloClient(reveal(settings.zalo_bot_token), settings.zalo_api_url)
        self.transport = ZaloTransport(self.client)
        self.receiver: ZaloReceiver | None = None
        self._poller: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None

    async def start(self, store: FileStore, stopping: asyncio.Event) -> None:
        try:
            me = await self.client.get_me()
        except ZaloError as exc:
            refused = f"ZALO_BOT_TOKEN was refused by the Zalo Bot API ({exc.description})"
            raise ZaloStartError(refused) from None
        except ZaloNetworkError as exc:
            unreachable = f"cannot reach the Zalo Bot API at {self.settings.zalo_api_url}: {exc}"
            raise ZaloStartError(unreachable) from None
        log.info("Zalo bot %s connected", (me or {}).get("account_name") or (me or {}).get("id"))
        self.receiver = ZaloReceiver(self.core, Intake(self.core), self.client, store)
        url = self.settings.zalo_webhook_url
        if not url:
            self._poller = asyncio.create_task(self.receiver.poll_forever(stopping), name="zalo-polling")
            return
        secret = reveal(self.settings.zalo_webhook_secret) or None
        if not secret or len(secret) < 8:
            raise ZaloStartError("ZALO_WEBHOOK_SECRET (8 characters or more) is needed with ZALO_WEBHOOK_URL")
        self._runner = web.AppRunner(self.receiver.webhook(secret), handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.settings.webhook_host, self.settings.zalo_webhook_port).start()
        await self.client.set_webhook(url, secret)
        log.info("Zalo webhook on port %s%s", self.settings.zalo_webhook_port, urlparse(url).path)

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
        if self._runner is not None:
            await self._runner.cleanup()
        if self.receiver is not None:
            await self.receiver.drain()
        await self.client.close()
