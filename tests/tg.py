"""Telegram test helpers: a mocked aiogram Bot (in the style of aiogram's own test suite) and builders of
raw updates (dicts) for private messages, group messages, replies, media and callback queries.

Builders return Bot API JSON dicts: push them to simulator.botapi.FakeBotAPI, or turn them into aiogram
objects with `update(...)` and feed them with `Dispatcher.feed_update(bot, update)`.

    bot = MockedBot()
    await dp.feed_update(bot, tg.update(tg.private_message(7, "/start")))
    assert bot.sent[-1].text == "..."
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import AsyncGenerator
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import Message, ResponseParameters, Update, User

from handlers.telegram.sender import Sent

BOT_ID = 42
_update_ids = itertools.count(1)
_message_ids = itertools.count(1000)


# mocked aiogram session ---------------------------------------------------------------------------
class MockedSession(BaseSession):
    """Records every method call; answers from queued responses, else with a plausible default.

    Defaults: a `Message` for methods returning one (built from the call), `True` for boolean methods.
    """

    def __init__(self) -> None:
        super().__init__()
        self.responses: deque[Response[Any]] = deque()
        self.requests: list[TelegramMethod[Any]] = []
        self.closed = True
        self._ids = itertools.count(1)

    def add_result(self, response: Response[Any]) -> Response[Any]:
        self.responses.append(response)
        return response

    async def close(self) -> None:
        self.closed = True

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType],
                           timeout: int | None = None) -> TelegramType:  # noqa: ASYNC109
        self.closed = False
        self.requests.append(method)
        if self.responses:
            response = self.responses.popleft()
            self.check_response(bot=bot, method=method, status_code=response.error_code or 200,
                                content=response.model_dump_json(exclude_none=True))
            return response.result  # type: ignore[return-value]
        return self._default(bot, method)

    def _default(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        returning = method.__returning__
        if returning is bool:
            return True
        if returning in (Message, Sent):  # the same JSON, read as the method asked
            data = method.model_dump(exclude_none=True)
            chat_id = int(data.get("chat_id", 0))
            chat = ({"id": chat_id, "type": "supergroup", "title": "Group"} if chat_id < 0
                    else {"id": chat_id, "type": "private", "first_name": "User"})
            raw = {"message_id": data.get("message_id") or next(self._ids), "date": int(time.time()),
                   "chat": chat, "from": {"id": bot.id, "is_bot": True, "first_name": "Bot"},
                   "text": data.get("text")}
            return returning.model_validate({k: v for k, v in raw.items() if v is not None},
                                            context={"bot": bot})
        if returning is User:
            return User(id=bot.id, is_bot=True, first_name="Test Bot", username="test_bot")
        raise AssertionError(f"no queued response for {type(method).__name__}; use add_result_for()")

    async def stream_content(self, url: str, headers: dict[str, Any] | None = None,
                             timeout: int = 30,  # noqa: ASYNC109
                             chunk_size: int = 65536, raise_for_status: bool = True
                             ) -> AsyncGenerator[bytes, None]:  # pragma: no cover
        yield b""


class MockedBot(Bot):
    """A Bot whose session records requests instead of calling Telegram."""

    session: MockedSession

    def __init__(self, token: str = f"{BOT_ID}:TEST", **kwargs: Any) -> None:
        super().__init__(token, session=MockedSession(), **kwargs)
        self._me = User(id=self.id, is_bot=True, first_name="Test Bot", username="test_bot")

    def add_result_for(self, method: type[TelegramMethod[Any]], ok: bool, result: Any = None,
                       description: str | None = None, error_code: int = 200,
                       retry_after: int | None = None) -> Response[Any]:
        response = Response[method.__returning__](  # type: ignore[name-defined]
            ok=ok, result=result, description=description, error_code=error_code,
            parameters=ResponseParameters(retry_after=retry_after) if retry_after else None,
        )
        return self.session.add_result(response)

    @property
    def requests(self) -> list[TelegramMethod[Any]]:
        return self.session.requests

    def calls(self, method: type[TelegramMethod[Any]]) -> list[Any]:
        return [r for r in self.session.requests if isinstance(r, method)]

    @property
    def sent(self) -> list[Any]:
        """The SendMessage calls, in order."""
        from aiogram.methods import SendMessage

        return self.calls(SendMessage)


# update builders ----------------------------------------------------------------------------------
def user(user_id: int, *, first_name: str = "Citizen", language_code: str | None = "vi",
         username: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        out["language_code"] = language_code
    if username:
        out["username"] = username
    return out


def private_chat(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "Citizen"}


def group_chat(chat_id: int, title: str = "Agency group") -> dict[str, Any]:
    return {"id": chat_id, "type": "supergroup", "title": title}


def _message(chat: dict[str, Any], sender: dict[str, Any], *, text: str | None = None,
             message_id: int | None = None, reply_to: dict[str, Any] | None = None,
             **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"message_id": message_id or next(_message_ids), "date": int(time.time()),
                               "chat": chat, "from": sender}
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    message.update(extra)
    return message


def _wrap(key: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"update_id": next(_update_ids), key: payload}


def private_message(user_id: int, text: str | None = None, *, language_code: str | None = "vi",
                    message_id: int | None = None, reply_to: dict[str, Any] | None = None,
                    **extra: Any) -> dict[str, Any]:
    """An update: a citizen writes to the bot in private."""
    return _wrap("message", _message(private_chat(user_id), user(user_id, language_code=language_code),
                                     text=text, message_id=message_id, reply_to=reply_to, **extra))


def group_message(chat_id: int, user_id: int, text: str | None = None, *, title: str = "Agency group",
                  message_id: int | None = None, reply_to: dict[str, Any] | None = None,
                  language_code: str | None = "vi", **extra: Any) -> dict[str, Any]:
    """An update: an officer writes in an agency's group."""
    return _wrap("message", _message(group_chat(chat_id, title), user(user_id, first_name="Officer",
                                                                      language_code=language_code),
                                     text=text, message_id=message_id, reply_to=reply_to, **extra))


def bot_message(chat_id: int, message_id: int, text: str = "", **extra: Any) -> dict[str, Any]:
    """A message sent by the bot, to be used as `reply_to` or as a callback's message."""
    chat = group_chat(chat_id) if chat_id < 0 else private_chat(chat_id)
    return _message(chat, {"id": BOT_ID, "is_bot": True, "first_name": "Test Bot", "username": "test_bot"},
                    text=text, message_id=message_id, **extra)


def reply(chat_id: int, user_id: int, to_message_id: int, text: str, *, to_text: str = "") -> dict[str, Any]:
    """An update: someone replies (in a group or in private) to a message the bot sent."""
    original = bot_message(chat_id, to_message_id, to_text)
    if chat_id < 0:
        return group_message(chat_id, user_id, text, reply_to=original)
    return private_message(user_id, text, reply_to=original)


def photo(chat_id: int, user_id: int, file_id: str = "photo-file", *, caption: str | None = None,
          file_unique_id: str | None = None) -> dict[str, Any]:
    """An update: a photo (largest size last, as Telegram sends it)."""
    sizes = [{"file_id": f"{file_id}-small", "file_unique_id": f"{file_unique_id or file_id}-s",
              "width": 90, "height": 67, "file_size": 1200},
             {"file_id": file_id, "file_unique_id": file_unique_id or f"{file_id}-u",
              "width": 1280, "height": 960, "file_size": 120_000}]
    extra: dict[str, Any] = {"photo": sizes}
    if caption:
        extra["caption"] = caption
    if chat_id < 0:
        return group_message(chat_id, user_id, **extra)
    return private_message(user_id, **extra)


def document(chat_id: int, user_id: int, file_id: str = "doc-file", *, file_name: str = "evidence.pdf",
             mime_type: str = "application/pdf", file_size: int = 50_000,
             caption: str | None = None) -> dict[str, Any]:
    """An update: a document."""
    extra: dict[str, Any] = {"document": {"file_id": file_id, "file_unique_id": f"{file_id}-u",
                                          "file_name": file_name, "mime_type": mime_type,
                                          "file_size": file_size}}
    if caption:
        extra["caption"] = caption
    if chat_id < 0:
        return group_message(chat_id, user_id, **extra)
    return private_message(user_id, **extra)


def voice(user_id: int, file_id: str = "voice-file", duration: int = 3) -> dict[str, Any]:
    return private_message(user_id, voice={"file_id": file_id, "file_unique_id": f"{file_id}-u",
                                           "duration": duration, "mime_type": "audio/ogg"})


def callback_query(user_id: int, data: str, *, chat_id: int | None = None, message_id: int = 1,
                   message_text: str = "", query_id: str | None = None,
                   language_code: str | None = "vi") -> dict[str, Any]:
    """An update: someone presses an inline button on a bot message in `chat_id` (default: private)."""
    chat = chat_id if chat_id is not None else user_id
    return _wrap("callback_query", {
        "id": query_id or str(next(_update_ids)),
        "from": user(user_id, language_code=language_code),
        "chat_instance": f"ci{chat}",
        "data": data,
        "message": bot_message(chat, message_id, message_text),
    })


def my_chat_member(chat_id: int, user_id: int, new_status: str = "member",
                   old_status: str = "left") -> dict[str, Any]:
    """An update: the bot was added to (or removed from) a group."""
    bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "Test Bot", "username": "test_bot"}
    return _wrap("my_chat_member", {
        "chat": group_chat(chat_id), "from": user(user_id), "date": int(time.time()),
        "old_chat_member": {"status": old_status, "user": bot_user},
        "new_chat_member": {"status": new_status, "user": bot_user},
    })


def update(raw: dict[str, Any], bot: Bot | None = None) -> Update:
    """An aiogram Update from a raw dict (for Dispatcher.feed_update)."""
    return Update.model_validate(raw, context={"bot": bot} if bot else {})


def case_button(
    core: Any, agency_id: str, case_id: int, version: int, action: str, arg: str | None = None
) -> str:
    """The callback data Telegram carries for a case card's button shown in `agency_id`'s group."""
    from bot import cards
    from handlers.telegram.callbacks import pack

    return pack(cards.signed(core, agency_id, case_id, version, action, arg))


def meeting_button(
    core: Any, agency_id: str, meeting_id: int, action: str, version: int = 0, arg: str | None = None
) -> str:
    """The callback data of a meeting message's button shown in `agency_id`'s group."""
    from bot import presses
    from handlers.telegram.callbacks import pack

    return pack(presses.sign(core, agency_id, presses.MEETING, meeting_id, action, version, arg))


def wire(button: dict[str, Any]) -> str:
    """An outbox button as Telegram's callback data (what the transport sends)."""
    from bot import presses
    from handlers.telegram.callbacks import pack

    press = presses.from_button(button)
    assert press is not None, button
    return pack(press)
