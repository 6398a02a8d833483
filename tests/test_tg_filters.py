"""Every Telegram handler and filter runs on the event loop: aiogram runs a plain callable, a bare magic
filter included, in a worker thread, which cost a thread hop per router for each update."""

from __future__ import annotations

from aiogram.dispatcher.event.handler import CallableObject

from handlers.telegram import get_routers


def test_no_handler_or_filter_is_run_in_a_worker_thread() -> None:
    threaded: list[str] = []
    for router in get_routers():
        for name, observer in router.observers.items():
            objects: list[tuple[str, CallableObject]] = [
                (f"{router.name}.{name} router filter", f) for f in observer._handler.filters or []
            ]
            for handler in observer.handlers:
                label = f"{router.name}.{name} {getattr(handler.callback, '__name__', handler.callback)}"
                objects.append((label, handler))
                objects += [(f"{label} filter {f.callback!r}", f) for f in handler.filters or []]
            threaded += [label for label, obj in objects if not obj.awaitable]
    assert threaded == []
