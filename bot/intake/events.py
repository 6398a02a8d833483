"""What the citizen did and what the dialogue answers, as platform-neutral values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.evidence import Evidence


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Command:
    name: str  # without the slash: "start", "cancel"
    args: str = ""


@dataclass(frozen=True)
class Choice:
    value: str  # an Option.value the citizen picked


Attachment = Evidence  # a file the citizen sent is evidence as it arrives


@dataclass(frozen=True)
class Other:
    kind: str  # sticker, location, contact, poll, ...: something this dialogue cannot use


FILE_UNAVAILABLE = "file_unavailable"  # an Other: a file the citizen sent that could not be fetched or kept
EDITED = "edited"  # an Other: a message the citizen edited (the dialogue reads new messages only)


Event = Text | Command | Choice | Attachment | Other

# ---- replies (what the bot says) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    label: str
    value: str


@dataclass
class Reply:
    """What to say. A durable reply reports a change (a receipt with its PIN, added information): it is
    written to the outbox in the change's own transaction, so a failed send cannot lose it."""

    text: str
    options: list[list[Option]] = field(default_factory=list)
    durable: bool = False


def reply_payload(reply: Reply) -> dict[str, Any]:
    """A reply as a platform-neutral outbox payload: each button is its label and the option's value; an
    adapter encodes the value its own way (Telegram as callback data, Zalo as a menu number)."""
    buttons = [[{"text": o.label, "value": o.value} for o in row] for row in reply.options]
    return {"text": reply.text, "buttons": buttons} if buttons else {"text": reply.text}
