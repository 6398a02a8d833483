"""A local Zalo-Bot-Platform-compatible HTTP server for tests and the demo, as strict as the platform.

It answers `/bot{token}/{method}` with `{"ok", "result"}` or `{"ok": false, "error_code", "description"}`,
hands out ONE update per `getUpdates` (no `update_id`) and answers 408 when the long poll times out, refuses
`getUpdates` while a webhook is set, refuses texts over 2,000 characters, records every request, serves
the photos citizens "send" for download, and injects faults (429, 5xx, 403) on demand.

    async with FakeZaloAPI() as zalo:
        zalo.push_text("user-1", "xin chào")
        request = await zalo.wait_for("sendMessage", chat_id="user-1")
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from simulator.fakeserver import FakeServer

MAX_TEXT = 2000
TOKEN = "zalo-bot:TEST"


@dataclass
class Request:
    method: str
    params: dict[str, Any]
    status: int = 200
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> str | None:
        value = self.params.get("chat_id")
        return None if value is None else str(value)


class FakeZaloAPI(FakeServer[Request]):
    """The Zalo Bot Platform's stand-in: citizens' updates pushed by tests, the bot's calls recorded."""

    wait_timeout = 10.0
    wait_for_accepted = True

    def __init__(self, *, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.webhook: dict[str, Any] | None = None
        self.files: dict[str, bytes] = {}
        self._updates: list[dict[str, Any]] = []
        self._faults: list[tuple[str, int, str, int]] = []  # method, status, description, times left
        self._ids = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/files/{name}", self._file)

    # what citizens do -----------------------------------------------------------------------------------
    def _message(self, user_id: str, **fields: Any) -> dict[str, Any]:
        return {"from": {"id": user_id, "display_name": "Citizen", "is_bot": False},
                "chat": {"id": user_id, "chat_type": "PRIVATE"},
                "message_id": f"m{next(self._ids)}", "date": int(time.time() * 1000), **fields}

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())
        return update

    def push_text(self, user_id: str, text: str) -> dict[str, Any]:
        message = self._message(user_id, text=text)
        return self.push({"event_name": "message.text.received", "message": message})

    def push_photo(self, user_id: str, data: bytes, caption: str | None = None, *,
                   field: str = "photo_url") -> dict[str, Any]:
        """A citizen sends a photo: its URL in `photo_url`, as real traffic carries it (the
        documentation's table says `photo`, which `field` can ask for)."""
        name = f"photo-{next(self._ids)}.jpg"
        self.files[name] = data
        fields: dict[str, Any] = {field: f"{self.url}/files/{name}"}
        if caption:
            fields["caption"] = caption
        message = self._message(user_id, **fields)
        return self.push({"event_name": "message.image.received", "message": message})

    def push_sticker(self, user_id: str) -> dict[str, Any]:
        return self.push({"event_name": "message.sticker.received",
                          "message": self._message(user_id, sticker="s1")})

    def fail_next(self, method: str, status: int = 500, description: str = "Internal error",
                  times: int = 1) -> None:
        self._faults.append((method, status, description, times))

    # the API ----------------------------------------------------------------------------------------------
    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="image/jpeg")

    def _fault(self, method: str) -> tuple[int, str] | None:
        for i, (name, status, description, times) in enumerate(self._faults):
            if name == method:
                if times <= 1:
                    del self._faults[i]
                else:
                    self._faults[i] = (name, status, description, times - 1)
                return status, description
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await request.json() if request.can_read_body else {}
        except ValueError:
            params = {}
        params = params if isinstance(params, dict) else {}
        if request.match_info["token"] != self.token:
            return await self._answer(method, params, 401, error="Unauthorized")
        fault = self._fault(method)
        if fault is not None:
            return await self._answer(method, params, fault[0], error=fault[1])
        if method == "getUpdates":
            if self.webhook is not None:
                refused = "Webhook is active; polling is disabled"
                return await self._answer(method, params, 400, error=refused)
            return await self._poll(method, params)
        if method == "getMe":
            me = {"id": "bot1", "account_name": "bot.test", "account_type": "BASIC", "can_join_groups": False}
            return await self._answer(method, params, result=me)
        if method == "setWebhook":
            self.webhook = {"url": params.get("url"), "secret_token": params.get("secret_token")}
            return await self._answer(method, params, result={"url": params.get("url")})
        if method == "deleteWebhook":
            self.webhook = None
            return await self._answer(method, params, result={"url": ""})
        if method in ("sendMessage", "sendPhoto"):
            if not params.get("chat_id"):
                return await self._answer(method, params, 400, error="chat_id is required")
            text = params.get("text") if method == "sendMessage" else params.get("caption") or ""
            if method == "sendMessage" and not text:
                return await self._answer(method, params, 400, error="text is required")
            if len(text) > MAX_TEXT:
                return await self._answer(method, params, 400, error=f"Text exceeds {MAX_TEXT} characters")
            return await self._answer(method, params, result={"message_id": f"s{next(self._ids)}",
                                                              "date": int(time.time() * 1000)})
        return await self._answer(method, params, 404, error=f"Method {method} not found")

    async def _poll(self, method: str, params: dict[str, Any]) -> web.Response:
        try:
            wait = min(float(params.get("timeout") or 0), 30.0)
        except ValueError:
            wait = 0.0
        deadline = time.monotonic() + wait
        async with self._changed:
            while not self._updates and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(), max(0.01, deadline - time.monotonic()))
                except TimeoutError:
                    break
            if not self._updates:
                return await self._answer(method, params, 408, error="Request timeout", notify=False)
            update = self._updates.pop(0)
        return await self._answer(method, params, result=update)

    async def _answer(self, method: str, params: dict[str, Any], status: int = 200, *,
                      result: Any = None, error: str = "", notify: bool = True) -> web.Response:
        self.requests.append(Request(method, params, status))
        if notify:
            await self._notify()
        if status == 200:
            return web.json_response({"ok": True, "result": result})
        return web.json_response({"ok": False, "error_code": status, "description": error}, status=status)
