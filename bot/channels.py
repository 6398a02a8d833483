"""Chat platforms as the core sees them: what each can do, and the interface an adapter implements.

The core never imports a platform. An adapter package (`handlers/<platform>/`) registers its platform's
capabilities when it is imported, and the core asks here: whether options can be buttons (else they
become a numbered menu the citizen answers with a number or the words), whether "reply to this message"
reaches the bot (else a citizen answers a question by naming the case's code), how long a text may be.
The adapter also provides a `Channel`, which the composition root (`runner/`) starts for each platform
whose settings are given.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.delivery.transport import Transport


@dataclass(frozen=True)
class Capabilities:
    buttons: bool = True  # inline buttons under a message
    replies: bool = True  # a reply tells the bot which of its messages was answered
    max_text: int = 4096  # characters in one text message


DEFAULT = Capabilities()
_registered: dict[str, Capabilities] = {}


def register(channel: str, capabilities: Capabilities) -> None:
    _registered[channel] = capabilities


def capabilities(channel: str) -> Capabilities:
    """The channel's capabilities; a channel nobody registered is assumed to be Telegram-like."""
    return _registered.get(channel, DEFAULT)


class Channel(Protocol):
    """One chat platform, running. Updates go to the core's calls (the intake, the officers' actions,
    the secretariat) and the core's replies come back through `transport`, which the outbox sender uses
    with the platform's own limits (`transport.limits`) and its idea of a group (`transport.is_group`).
    Options and buttons reach the platform as values and signed presses (`bot.presses`), which the adapter
    encodes in its own format and decodes again."""

    name: str  # the `channel` of chat rows, dialogue state and outbox rows: "telegram", "zalo"
    capabilities: Capabilities
    transport: Transport

    async def start(self, worker: str, stopping: asyncio.Event, *, receive: bool = True) -> None:
        """Check the credentials with the platform, then receive updates (long polling or a webhook)
        until `stop`, unless `receive` is false (a delivery worker only sends); raises `ChannelError`
        with a one-line reason when it cannot."""
        ...

    def ended(self) -> asyncio.Future[None] | None:
        """What ends when receiving stops by itself (polling gave up), or None if nothing can."""
        ...

    async def stop(self) -> None:
        """Stop receiving, let the updates in hand finish, close connections."""
        ...

    async def fetch(self, file_id: str) -> bytes:
        """The bytes of a file the platform holds, by the id one of its updates gave."""
        ...


class ChannelError(Exception):
    """A channel cannot start; the message says why in one line."""
