"""The Zalo channel (`bot.channels.Channel`) as the composition root starts it: the client, the outbox
transport, and updates by long polling (ZALO_WEBHOOK_URL unset) or by webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlparse

from aiohttp import web

from bot.channels import Capabilities, ChannelError, capabilities
from bot.core import Core
from bot.delivery.filestore import FileStore
from bot.intake import Intake
from bot.settings import reveal
from handlers.zalo import CHANNEL
from handlers.zalo.client import ZaloClient, ZaloError, ZaloNetworkError
from handlers.zalo.receiver import ZaloReceiver
from handlers.zalo.settings import ZaloSettings
from handlers.zalo.transport import ZaloTransport

log = logging.getLogger(__name__)


def configured(settings: ZaloSettings) -> bool:
    return bool(reveal(settings.zalo_bot_token))


def check(settings: ZaloSettings) -> None:
    """ZALO_API_URL is usable and a webhook has its secret, before anything is touched."""
    parsed = urlparse(settings.zalo_api_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ChannelError(f"ZALO_API_URL is not an http(s) URL: {settings.zalo_api_url!r}")
    secret = reveal(settings.zalo_webhook_secret)
    if settings.zalo_webhook_url and len(secret) < 8:
        raise ChannelError("ZALO_WEBHOOK_SECRET (8 characters or more) is needed with ZALO_WEBHOOK_URL")


class ZaloChannel:
    """The bot on Zalo, for citizens: Zalo has no groups, so agencies stay on another platform."""

    name = CHANNEL

    def __init__(self, core: Core, settings: ZaloSettings, store: FileStore) -> None:
        assert settings.zalo_bot_token
        self.core, self.settings, self.store = core, settings, store
        self.capabilities: Capabilities = capabilities(CHANNEL)
        self.client = ZaloClient(reveal(settings.zalo_bot_token), settings.zalo_api_url)
        self.transport = ZaloTransport(self.client)
        self.receiver: ZaloReceiver | None = None
        self._poller: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None

    def ended(self) -> asyncio.Future[None] | None:
        return None  # the poller retries through outages; it ends only when stopped

    async def fetch(self, file_id: str) -> bytes:
        """A photo's bytes: Zalo gives a photo as a URL."""
        return await self.client.download(file_id)

    async def start(self, worker: str, stopping: asyncio.Event, *, receive: bool = True) -> None:
        try:
            me = await self.client.get_me()
        except ZaloError as exc:
            refused = f"ZALO_BOT_TOKEN was refused by the Zalo Bot API ({exc.description})"
            raise ChannelError(refused) from None
        except ZaloNetworkError as exc:
            unreachable = f"cannot reach the Zalo Bot API at {self.settings.zalo_api_url}: {exc}"
            raise ChannelError(unreachable) from None
        log.info("Zalo bot %s connected", (me or {}).get("account_name") or (me or {}).get("id"))
        if not receive:
            return
        self.receiver = ZaloReceiver(self.core, Intake(self.core), self.client, self.store)
        url = self.settings.zalo_webhook_url
        if not url:
            self._poller = asyncio.create_task(self.receiver.poll_forever(stopping), name="zalo-polling")
            return
        secret = reveal(self.settings.zalo_webhook_secret)  # `check` made sure there is one
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
