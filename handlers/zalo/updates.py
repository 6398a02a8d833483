"""Zalo updates as plain data: what was said or sent, by whom, in which chat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EVENTS = {
    "message.text.received": "text",
    "message.image.received": "image",
    "message.sticker.received": "sticker",
    "message.unsupported.received": "unsupported",
}


@dataclass(frozen=True)
class Incoming:
    kind: str  # text | image | sticker | unsupported
    user_id: str
    chat_id: str
    group: bool
    message_id: str
    text: str = ""
    photo: str | None = None  # the URL the platform gives for a received image (see `photo_url`)
    caption: str = ""

    @property
    def dedupe_key(self) -> str:
        return f"{self.kind}:{self.chat_id}:{self.message_id}"


def unwrap(body: Any) -> dict[str, Any] | None:
    """A webhook body comes flat ({event_name, message}) or wrapped as {ok, result: {...}}."""
    if not isinstance(body, dict):
        return None
    if "event_name" not in body and isinstance(body.get("result"), dict):
        body = body["result"]
    return body if isinstance(body.get("event_name"), str) else None


def parse(update: Any) -> Incoming | None:
    """The update as an Incoming, or None when it is not a message this bot can use."""
    update = unwrap(update)
    if update is None:
        return None
    kind = EVENTS.get(update["event_name"], "unsupported")
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    sender, chat = message.get("from"), message.get("chat")
    if not (isinstance(sender, dict) and isinstance(chat, dict) and sender.get("id") and chat.get("id")):
        return None
    text, caption = message.get("text"), message.get("caption")
    return Incoming(
        kind=kind,
        user_id=str(sender["id"]),
        chat_id=str(chat["id"]),
        group=str(chat.get("chat_type", "PRIVATE")).upper() == "GROUP",
        message_id=str(message.get("message_id") or message.get("date") or ""),
        text=text if isinstance(text, str) else "",
        photo=photo_url(message),
        caption=caption if isinstance(caption, str) else "",
    )


def photo_url(message: dict[str, Any]) -> str | None:
    """A received image's URL: real traffic carries it in `photo_url` (what working clients read), the
    documentation's table calls it `photo`; the first that is an http(s) URL."""
    for name in ("photo_url", "photo"):
        value = message.get(name)
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return value
    return None
