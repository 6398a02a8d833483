"""What each chat platform can do, as the core needs to know it when it writes a message.

The core never imports a platform; an adapter registers its platform's capabilities when it is imported,
and the core asks here: whether options can be buttons (else they become a numbered menu the citizen
answers with a number or the words), and whether "reply to this message" reaches the bot (else a citizen
answers a question by naming the case's code).
"""

from __future__ import annotations

from dataclasses import dataclass


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
