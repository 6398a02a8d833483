"""A local Bot-API-compatible HTTP server for tests and the demo: aiogram talks to it as to api.telegram.org.

It answers `/bot{token}/{method}` (multipart form, urlencoded or JSON bodies) with realistic objects,
records every request, lets tests push incoming updates for `getUpdates`, and injects faults
(429 with retry_after, 5xx, 403 blocked/kicked, 400 chat not found) so retry paths run for real.

    async with FakeBotAPI() as server:
        bot = Bot("42:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
        server.push_update(tg.private_message(7, "/start"))
        request = await server.wait_for("sendMessage", chat_id=7)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from simulator.fakeserver import FakeServer

JSON_FIELDS = {
    "reply_markup", "media", "reply_parameters", "commands", "scope", "entities", "caption_entities",
    "allowed_updates", "link_preview_options", "results", "permissions",
}
INT_FIELDS = {
    "message_id", "from_chat_id", "offset", "limit", "timeout", "user_id", "reply_to_message_id",
    "message_thread_id", "cache_time", "duration", "width", "height",
}
BOOL_FIELDS = {
    "disable_notification", "drop_pending_updates", "show_alert", "protect_content",
    "allow_sending_without_reply", "has_spoiler", "disable_web_page_preview",
}
MEDIA_METHODS = {
    "sendPhoto": "photo", "sendDocument": "document", "sendVoice": "voice", "sendVideo": "video",
    "sendAudio": "audio", "sendAnimation": "animation", "sendSticker": "sticker",
}
TRUE_METHODS = {
    "deleteWebhook", "setWebhook", "setMyCommands", "deleteMyCommands", "answerCallbackQuery",
    "leaveChat", "sendChatAction", "deleteMessage", "setMyDescription", "setMyShortDescription",
    "setMyName", "setChatMenuButton", "pinChatMessage", "unpinChatMessage", "close", "logOut",
}
# Telegram's limits and the exact descriptions it answers with when a request breaks them.
TEXT_LIMIT = 4096  # characters (UTF-16 code units) of a message text
CAPTION_LIMIT = 1024  # characters of a media caption
CALLBACK_DATA_LIMIT = 64  # bytes of a button's callback data
ANSWER_TEXT_LIMIT = 200  # characters of a callback query answer's notification
TOO_LONG = "Bad Request: message is too long"
EDIT_TOO_LONG = "Bad Request: MESSAGE_TOO_LONG"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
TEXT_EMPTY = "Bad Request: message text is empty"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
ENTITIES_INVALID = "Bad Request: can't parse entities: an entity is of an unknown type or outside the text"
ENTITY_TYPES = {
    "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold", "italic",
    "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote", "code", "pre",
    "text_link", "text_mention", "custom_emoji",
}
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
DEFAULT_ERRORS = {
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
    403: "Forbidden: bot was blocked by the user",
    400: "Bad Request: chat not found",
    401: "Unauthorized",
}


@dataclass
class Request:
    """One call the bot made: the method name, its decoded parameters and uploaded file names."""

    method: str
    params: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    token: str = ""
    status: int = 200
    description: str = ""  # Telegram's description of a refusal
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | str | None:
        return self.params.get("chat_id")


@dataclass
class StoredFile:
    data: bytes
    name: str
    mime_type: str


@dataclass
class Fault:
    method: str
    status: int
    description: str
    retry_after: int | None
    chat_id: int | str | None
    times: int | None  # None: every matching request from now on


def _same_chat(a: Any, b: Any) -> bool:
    return str(a) == str(b)


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if key in INT_FIELDS or key == "chat_id":
        try:
            return int(value)
        except ValueError:
            return value
    if key in BOOL_FIELDS:
        return value.lower() in ("true", "1")
    return value


class FakeBotAPI(FakeServer[Request]):
    """The server; start it with `await server.start()` or `async with FakeBotAPI() as server`."""

    max_body = 64 * 1024 * 1024

    def __init__(self, *, bot_id: int = 42, username: str = "test_bot", first_name: str = "Test Bot") -> None:
        self.bot_user = {"id": bot_id, "is_bot": True, "first_name": first_name, "username": username,
                         "can_join_groups": True, "can_read_all_group_messages": False,
                         "supports_inline_queries": False}
        super().__init__()
        self.messages: dict[tuple[str, int], dict[str, Any]] = {}
        self.chats: dict[str, dict[str, Any]] = {}
        self.members: dict[tuple[str, str], str] = {}
        self.webhook: dict[str, Any] | None = None
        self._faults: list[Fault] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[str, itertools.count[int]] = {}
        self._file_ids = itertools.count(1)
        self.answered: set[str] = set()  # callback query ids already answered
        self.allowed_updates: list[str] | None = None  # the update kinds the bot asked for (None: all)
        self._query_ids = itertools.count(1)
        self.files: dict[str, StoredFile] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)

    # test controls ----------------------------------------------------------------------------------------
    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an incoming update for getUpdates; an `update_id` is assigned when missing."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())
        return update

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | str | None = None,
        times: int | None = 1,
    ) -> None:
        """Make the next `times` calls of `method` (for `chat_id` if given) fail; `times=None`: always."""
        if status == 429 and retry_after is None:
            retry_after = 3
        text = description or DEFAULT_ERRORS.get(status, "Error").format(retry_after=retry_after)
        self._faults.append(Fault(method, status, text, retry_after, chat_id, times))

    def clear_faults(self) -> None:
        self._faults.clear()

    def set_chat(self, chat_id: int | str, **chat: Any) -> None:
        """Describe a chat for getChat and message objects (type, title, username...)."""
        self.chats[str(chat_id)] = {"id": int(chat_id), **chat}

    def set_member(self, chat_id: int | str, user_id: int | str, status: str) -> None:
        self.members[(str(chat_id), str(user_id))] = status

    # people in the chats (the demo's page, the story, benchmarks) -----------------------------------------
    def user_message(self, chat_id: int | str, sender: dict[str, Any], text: str | None = None, *,
                     reply_to: int | None = None, **content: Any) -> dict[str, Any]:
        """A message a person writes: kept with the chat's next message id and queued as an update."""
        chat = self._chat(chat_id)
        counter = self._message_ids.setdefault(str(chat["id"]), itertools.count(1))
        message: dict[str, Any] = {"message_id": next(counter), "date": int(time.time()), "chat": chat,
                                   "from": sender, **content}
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if reply_to is not None:
            original = self.messages.get((str(chat["id"]), int(reply_to)))
            if original is not None:
                message["reply_to_message"] = original
        self.messages[(str(chat["id"]), message["message_id"])] = message
        self.push_update({"message": message})
        return message

    def pending_updates(self) -> int:
        """Updates queued and not yet confirmed by the bot (getUpdates with a later offset)."""
        return len(self._updates)

    def press_button(self, chat_id: int | str, message_id: int, sender: dict[str, Any], data: str) -> str:
        """A person presses an inline button under a message; returns the callback query's id."""
        message = self.messages.get((str(chat_id), int(message_id)))
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        query_id = f"sim-{next(self._query_ids)}"
        self.push_update({"callback_query": {"id": query_id, "from": sender, "chat_instance": f"ci{chat_id}",
                                             "data": data, "message": message}})
        return query_id

    def store_file(self, data: bytes, *, name: str = "file", mime_type: str = "application/octet-stream"
                   ) -> str:
        """Keep an uploaded file's bytes (for getFile and downloads); returns its file_id."""
        file_id = f"sim-file-{next(self._file_ids)}"
        self.files[file_id] = StoredFile(data, name, mime_type)
        return file_id

    async def _download(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["path"].rsplit("/", 1)[-1])
        if stored is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=stored.data, content_type=stored.mime_type)

    # request handling -------------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, str]]:
        params: dict[str, Any] = {}
        files: dict[str, str] = {}
        if request.content_type == "application/json":
            body = await request.read()
            return (json.loads(body) if body else {}), files
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.name is None:
                    continue
                if part.filename is not None:  # type: ignore[union-attr]
                    await part.read()  # type: ignore[union-attr]
                    files[part.name] = part.filename  # type: ignore[union-attr]
                else:
                    params[part.name] = _decode(part.name, await part.text())  # type: ignore[union-attr]
            return params, files
        form = await request.post() if request.method == "POST" else request.query
        for key, value in form.items():
            params[key] = _decode(key, value if isinstance(value, str) else str(value))
        return params, files

    def _fault_for(self, method: str, params: dict[str, Any]) -> Fault | None:
        for fault in self._faults:
            if fault.method != method and fault.method != "*":
                continue
            if fault.chat_id is not None and not _same_chat(fault.chat_id, params.get("chat_id")):
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
            return fault
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, files = await self._params(request)
        record = Request(method=method, params=params, files=files, token=request.match_info["token"])
        fault = self._fault_for(method, params)
        if fault is not None:
            record.status, record.description = fault.status, fault.description
            body: dict[str, Any] = {"ok": False, "error_code": fault.status, "description": fault.description}
            if fault.retry_after is not None:
                body["parameters"] = {"retry_after": fault.retry_after}
            return await self._reply(record, body, fault.status)
        if method == "getUpdates":
            self.requests.append(record)
            await self._notify()
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        try:
            result = self._dispatch(method, params, files)
        except _APIError as exc:
            record.status, record.description = exc.status, exc.description
            return await self._reply(record, {"ok": False, "error_code": exc.status,
                                              "description": exc.description}, exc.status)
        return await self._reply(record, {"ok": True, "result": result}, 200)

    async def _reply(self, record: Request, body: dict[str, Any], status: int) -> web.Response:
        self.requests.append(record)
        await self._notify()
        return web.json_response(body, status=status)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if isinstance(params.get("allowed_updates"), list):  # kept until a later call changes it
            self.allowed_updates = params["allowed_updates"] or None
        offset = int(params.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if self.allowed_updates:  # Telegram never delivers the kinds the bot did not ask for
            self._updates = [u for u in self._updates if any(k in u for k in self.allowed_updates)]
        limit = int(params.get("limit") or 100)
        deadline = asyncio.get_running_loop().time() + float(params.get("timeout") or 0)
        async with self._changed:
            while not self._updates and not self._closing:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    break
        return self._updates[:limit]

    def _dispatch(self, method: str, params: dict[str, Any], files: dict[str, str]) -> Any:
        _check_limits(method, params)
        if method == "answerCallbackQuery":
            query_id = str(params.get("callback_query_id") or "")
            if not query_id or query_id in self.answered:
                raise _APIError(400, QUERY_INVALID)
            self.answered.add(query_id)
            return True
        if method == "getMe":
            return self.bot_user
        if method == "getWebhookInfo":
            return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": len(self._updates)}
        if method == "setWebhook":
            self.webhook = params
            return True
        if method == "deleteWebhook":
            self.webhook = None
            return True
        if method in TRUE_METHODS:
            return True
        if method == "getMyCommands":
            return []
        if method == "sendMessage":
            return self._new_message(params, text=params.get("text", ""), entities=params.get("entities"))
        if method in MEDIA_METHODS:
            return self._new_message(params, **self._media(MEDIA_METHODS[method], params, files))
        if method == "sendMediaGroup":
            items = params.get("media") or []
            if not 2 <= len(items) <= 10:
                raise _APIError(400, "Bad Request: wrong number of media items")
            group = str(next(self._file_ids))
            return [
                self._new_message({**params, "caption": item.get("caption")}, media_group_id=group,
                                  **self._media(item["type"], {item["type"]: item["media"]}, files))
                for item in items
            ]
        if method in ("copyMessage", "forwardMessage"):
            source = self.messages.get((str(params.get("from_chat_id")), int(params.get("message_id", 0))))
            if source is None:
                raise _APIError(400, "Bad Request: message to copy not found")
            copied = {k: v for k, v in source.items() if k not in ("message_id", "chat", "date", "from")}
            message = self._new_message(params, **copied)
            return message if method == "forwardMessage" else {"message_id": message["message_id"]}
        if method in ("editMessageText", "editMessageReplyMarkup", "editMessageCaption"):
            return self._edit(method, params)
        if method == "getChat":
            return {**self._chat(params["chat_id"]), "accent_color_id": 0, "max_reaction_count": 11}
        if method == "getFile":
            file_id = str(params.get("file_id", ""))
            stored = self.files.get(file_id)
            if stored is None:
                raise _APIError(400, "Bad Request: invalid file_id")
            return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(stored.data),
                    "file_path": f"files/{file_id}"}
        if method == "getChatMember":
            status = self.members.get((str(params["chat_id"]), str(params["user_id"])), "member")
            user = {"id": int(params["user_id"]), "is_bot": False, "first_name": "User"}
            return {"status": status, "user": user, **_member_extra(status)}
        raise _APIError(404, "Not Found: method not found")

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        known = self.chats.get(str(chat_id))
        if known is not None:
            return dict(known)
        number = int(chat_id)
        if number < 0:
            return {"id": number, "type": "supergroup", "title": f"Group {number}"}
        return {"id": number, "type": "private", "first_name": f"User {number}"}

    def _media(self, kind: str, params: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
        ref = params.get(kind, "")
        if isinstance(ref, str) and ref.startswith("attach://"):
            ref = f"uploaded-{files.get(ref[len('attach://'):], 'file')}"
        n = next(self._file_ids)
        obj = {"file_id": str(ref) or f"file-{n}", "file_unique_id": f"u{n}"}
        if kind == "photo":
            return {"photo": [{**obj, "width": 800, "height": 600}]}
        if kind in ("video", "animation"):
            return {kind: {**obj, "width": 640, "height": 480, "duration": 1}}
        if kind in ("voice", "audio"):
            return {kind: {**obj, "duration": 1}}
        return {kind: obj}

    def _new_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id is None:
            raise _APIError(400, "Bad Request: chat_id is empty")
        chat = self._chat(chat_id)
        counter = self._message_ids.setdefault(str(chat["id"]), itertools.count(1))
        message: dict[str, Any] = {"message_id": next(counter), "date": int(time.time()), "chat": chat,
                                   "from": self.bot_user}
        message.update({k: v for k, v in content.items() if v is not None})
        caption = params.get("caption")
        if caption and "text" not in message:
            message["caption"] = caption
        if params.get("reply_markup") and "inline_keyboard" in params["reply_markup"]:
            message["reply_markup"] = params["reply_markup"]
        reply_params = params.get("reply_parameters") or {}
        reply_to = reply_params.get("message_id") or params.get("reply_to_message_id")
        if reply_to is not None:
            original = self.messages.get((str(chat["id"]), int(reply_to)))
            if original is None and not reply_params.get("allow_sending_without_reply"):
                raise _APIError(400, "Bad Request: message to be replied not found")
            if original is not None:
                message["reply_to_message"] = original
        self.messages[(str(chat["id"]), message["message_id"])] = message
        return message

    def _edit(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params.get("chat_id")), int(params.get("message_id") or 0))
        message = self.messages.get(key)
        if message is None:
            raise _APIError(400, "Bad Request: message to edit not found")
        updated = dict(message)
        if method == "editMessageText":
            updated["text"] = params.get("text", "")
            updated.pop("entities", None)
            if params.get("entities"):
                updated["entities"] = params["entities"]
        if method == "editMessageCaption":
            updated["caption"] = params.get("caption", "")
        markup = params.get("reply_markup")
        if markup:
            updated["reply_markup"] = markup
        else:
            updated.pop("reply_markup", None)
        if updated == message:
            raise _APIError(400, "Bad Request: message is not modified: specified new message content and "
                                 "reply markup are exactly the same as a current content and reply markup of "
                                 "the message")
        updated["edit_date"] = int(time.time())
        self.messages[key] = updated
        return updated


def telegram_length(text: str) -> int:
    """A text's length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _check_limits(method: str, params: dict[str, Any]) -> None:
    """Refuse what Telegram refuses: over-long texts and captions, empty texts, over-long button data."""
    if method in ("sendMessage", "editMessageText"):
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _APIError(400, TEXT_EMPTY)
        if telegram_length(text) > TEXT_LIMIT:
            raise _APIError(400, TOO_LONG if method == "sendMessage" else EDIT_TOO_LONG)
        _check_entities(text, params.get("entities"))
    captions = [params.get("caption")]
    if method == "sendMediaGroup":
        captions += [item.get("caption") for item in params.get("media") or [] if isinstance(item, dict)]
    if any(isinstance(c, str) and telegram_length(c) > CAPTION_LIMIT for c in captions):
        raise _APIError(400, CAPTION_TOO_LONG)
    if method == "answerCallbackQuery" and telegram_length(str(params.get("text") or "")) > ANSWER_TEXT_LIMIT:
        raise _APIError(400, EDIT_TOO_LONG)
    markup = params.get("reply_markup")
    if isinstance(markup, dict):
        for row in markup.get("inline_keyboard") or []:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                    raise _APIError(400, BUTTON_DATA_INVALID)


def _check_entities(text: str, entities: Any) -> None:
    """Refuse entities Telegram would not take: of an unknown type, or not within the text."""
    if entities is None:
        return
    if not isinstance(entities, list):
        raise _APIError(400, ENTITIES_INVALID)
    size = telegram_length(text)
    for entity in entities:
        if not isinstance(entity, dict) or entity.get("type") not in ENTITY_TYPES:
            raise _APIError(400, ENTITIES_INVALID)
        offset, length = entity.get("offset"), entity.get("length")
        if not (isinstance(offset, int) and isinstance(length, int) and offset >= 0 and length > 0
                and offset + length <= size):
            raise _APIError(400, ENTITIES_INVALID)


def _quotes(message: dict[str, Any]) -> list[tuple[int, int]]:
    """(start, end) in UTF-16 code units of each quoted block (blockquote entity) of a message's text."""
    return sorted((e["offset"], e["offset"] + e["length"]) for e in message.get("entities") or []
                  if str(e.get("type")).endswith("blockquote"))


def quoted_spans(message: dict[str, Any]) -> list[str]:
    """The parts of a message's text that Telegram shows as quotes (blockquote entities)."""
    units = str(message.get("text") or "").encode("utf-16-le")
    return [units[2 * start: 2 * end].decode("utf-16-le") for start, end in _quotes(message)]


def marked_text(message: dict[str, Any], mark: str = "│ ") -> str:
    """A message's text for a terminal: every line of a quoted block behind `mark`."""
    units = str(message.get("text") or message.get("caption") or "").encode("utf-16-le")
    out, at = [], 0
    for start, end in _quotes(message):
        quoted = units[2 * start: 2 * end].decode("utf-16-le")
        out.append(units[2 * at: 2 * start].decode("utf-16-le"))
        out.append("\n".join(mark + line for line in quoted.split("\n")))
        at = end
    out.append(units[2 * at:].decode("utf-16-le"))
    return "".join(out)


def _member_extra(status: str) -> dict[str, Any]:
    if status == "administrator":
        return {"can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
                "can_delete_messages": True, "can_manage_video_chats": True, "can_restrict_members": True,
                "can_promote_members": False, "can_change_info": True, "can_invite_users": True,
                "can_post_stories": False, "can_edit_stories": False, "can_delete_stories": False}
    if status == "creator":
        return {"is_anonymous": False}
    if status == "restricted":
        return {"is_member": True, "can_send_messages": True, "can_send_audios": True,
                "can_send_documents": True, "can_send_photos": True, "can_send_videos": True,
                "can_send_video_notes": True, "can_send_voice_notes": True, "can_send_polls": True,
                "can_send_other_messages": True, "can_add_web_page_previews": True, "can_change_info": False,
                "can_invite_users": False, "can_pin_messages": False, "can_manage_topics": False,
                "until_date": 0}
    if status == "kicked":
        return {"until_date": 0}
    return {}


class _APIError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
