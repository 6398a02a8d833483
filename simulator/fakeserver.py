"""What the fake platform servers share: a local aiohttp server on a free port, the calls the bot made to
it, and waiting for a call, so tests and the demo drive Telegram's and Zalo's stand-ins the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Generic, Protocol, Self, TypeVar

from aiohttp import web


class Call(Protocol):
    method: str
    params: dict[str, Any]

    @property
    def ok(self) -> bool: ...

    @property
    def chat_id(self) -> Any: ...


R = TypeVar("R", bound=Call)


class FakeServer(Generic[R]):
    """Start with `await server.start()` or `async with Server() as server`; `url` is its base URL."""

    max_body = 8 * 1024 * 1024
    wait_timeout = 5.0  # seconds `wait_for` waits by default
    wait_for_accepted = False  # whether `wait_for` counts only calls the server accepted

    def __init__(self) -> None:
        self.requests: list[R] = []
        self.url = ""
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False

    def routes(self, app: web.Application) -> None:
        """Add the platform's routes."""
        raise NotImplementedError

    async def start(self) -> Self:
        app = web.Application(client_max_size=self.max_body)
        self.routes(app)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        """Answer waiting long polls and stop serving."""
        self._closing = True
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    close = stop

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def calls(self, method: str | None = None, *, chat_id: Any = None, ok: bool | None = None) -> list[R]:
        """The recorded requests, filtered by method, chat and success."""
        return [
            r for r in self.requests
            if (method is None or r.method == method)
            and (chat_id is None or str(r.chat_id) == str(chat_id))
            and (ok is None or r.ok == ok)
        ]

    def texts(self, chat_id: Any = None) -> list[str]:
        """Texts of the messages accepted by sendMessage, in order, optionally for one chat."""
        return [r.params.get("text", "") for r in self.calls("sendMessage", chat_id=chat_id, ok=True)]

    async def wait_for(
        self,
        method: str | None = None,
        predicate: Callable[[R], bool] | None = None,
        *,
        chat_id: Any = None,
        count: int = 1,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> R:
        """Wait until `count` requests match; return the last of them. Raises TimeoutError otherwise."""
        accepted = True if self.wait_for_accepted else None

        def matching() -> list[R]:
            found = self.calls(method, chat_id=chat_id, ok=accepted)
            return [r for r in found if predicate is None or predicate(r)]

        async def _wait() -> R:
            async with self._changed:
                while len(found := matching()) < count:
                    await self._changed.wait()
                return found[count - 1]

        limit = self.wait_timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(_wait(), limit)
        except TimeoutError:
            seen = ", ".join(r.method for r in self.requests[-10:])
            message = f"no {method or 'request'} matching within {limit}s; last seen: {seen}"
            raise TimeoutError(message) from None

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
