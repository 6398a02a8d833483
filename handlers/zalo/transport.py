"""Zalo transport for the outbox sender: texts (options as numbered menus, cut to 2,000 characters) to
citizens, with the platform's answers mapped onto the sender's outcomes."""

from __future__ import annotations

import logging

from bot.delivery.ratelimit import Limits
from bot.delivery.transport import Delivery, DeliveryResult
from handlers.zalo.client import ZaloClient, ZaloError, ZaloNetworkError
from handlers.zalo.render import menu, split

log = logging.getLogger(__name__)

# Refusals meaning this person can no longer be reached (blocked the bot, unknown chat).
CHAT_GONE = ("block", "not found", "invalid chat", "not exist", "unfollow", "forbidden")


def classify(exc: ZaloError | ZaloNetworkError) -> DeliveryResult:
    """Wait and retry on overload, outages and network errors; give up on the row or on the person."""
    if isinstance(exc, ZaloNetworkError):
        return DeliveryResult.transient(str(exc))
    if exc.code == 429:
        return DeliveryResult.retry_after(5.0, str(exc))
    if exc.code >= 500 or exc.code == 408:
        return DeliveryResult.transient(str(exc))
    if exc.code in (403, 404) or any(word in exc.description.lower() for word in CHAT_GONE):
        return DeliveryResult.permanent(str(exc), scope="chat")
    return DeliveryResult.permanent(str(exc))


# Zalo publishes no per-second figures for bots: stay well below anything a person could type.
LIMITS = Limits(per_second=10.0, chat_interval=1.0, group_per_minute=0)


class ZaloTransport:
    """Delivers outbox rows to Zalo citizens (texts; agencies' groups are on Telegram)."""

    limits = LIMITS

    def __init__(self, client: ZaloClient) -> None:
        self.client = client

    @staticmethod
    def is_group(chat_id: str) -> bool:
        return False  # the bot talks to Zalo citizens one to one

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        if delivery.kind not in ("text", "card", "edit_card"):
            return DeliveryResult.permanent(f"Zalo citizens receive texts only, not {delivery.kind!r}")
        first: str | None = None
        try:
            for part in split(menu(delivery.payload)):
                sent = await self.client.send_message(delivery.chat_id, part)
                first = first or str((sent or {}).get("message_id") or "")
        except (ZaloError, ZaloNetworkError) as exc:
            return classify(exc)
        return DeliveryResult.ok(first or None)
