"""A small client for the Zalo Bot Platform API (see the package docstring for what it relies on).

Errors never carry the request URL, which holds the bot token.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

# httpx logs each request's URL at INFO, and the URL holds the token: keep its log to warnings.
logging.getLogger("httpx").setLevel(logging.WARNING)

DEFAULT_API_URL = "https://bot-api.zaloplatforms.com"
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


class ZaloError(Exception):
    """The platform refused a call; `code` is its error_code (or the HTTP status)."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"Zalo error {code}: {description}")
        self.code = code
        self.description = description


class ZaloNetworkError(Exception):
    """The platform could not be reached (connection refused, timeout, broken answer)."""


class PollTimeout(Exception):
    """getUpdates answered 408: nothing new during the long poll."""


class ZaloClient:
    def __init__(self, token: str, base_url: str = DEFAULT_API_URL, *, timeout: float = 40.0) -> None:
        self._prefix = f"{base_url.rstrip('/')}/bot{token}/"
        self._http = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self._http.aclose()

    async def call(self, method: str, **params: Any) -> Any:
        """Call a method; its `result`, or ZaloError / PollTimeout / ZaloNetworkError."""
        try:
            response = await self._http.post(self._prefix + method, json=params)
        except httpx.HTTPError as exc:
            raise ZaloNetworkError(f"{method}: {exc.__class__.__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        code = int(body.get("error_code") or response.status_code)
        if code == 408 and method == "getUpdates":
            raise PollTimeout
        if response.status_code >= 400 or not body.get("ok"):
            if response.status_code >= 500 and not body:
                raise ZaloNetworkError(f"{method}: HTTP {response.status_code}")
            raise ZaloError(code, str(body.get("description") or f"HTTP {response.status_code}"))
        return body.get("result")

    async def get_me(self) -> dict[str, Any]:
        return await self.call("getMe")

    async def get_update(self, poll_seconds: int = 30) -> dict[str, Any] | None:
        """One update, or None when the long poll ended with nothing new."""
        try:
            result = await self.call("getUpdates", timeout=str(poll_seconds))
        except PollTimeout:
            return None
        return result if isinstance(result, dict) else None

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        return await self.call("sendMessage", chat_id=chat_id, text=text)

    async def send_photo(self, chat_id: str, photo: str, caption: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"chat_id": chat_id, "photo": photo}
        if caption:
            params["caption"] = caption
        return await self.call("sendPhoto", **params)

    async def set_webhook(self, url: str, secret: str) -> Any:
        return await self.call("setWebhook", url=url, secret_token=secret)

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")

    async def download(self, url: str, limit: int = MAX_DOWNLOAD_BYTES) -> bytes:
        """A file the platform links to (a received photo), at most `limit` bytes."""
        try:
            async with self._http.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise ZaloError(response.status_code, "file download refused")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise ZaloError(413, f"file over {limit // (1024 * 1024)} MB")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as exc:
            raise ZaloNetworkError(f"download: {exc.__class__.__name__}") from None
