"""Imported by Python at start-up when this folder is on PYTHONPATH (tests/restarts.py puts it there for
the `python -m bot` processes it starts): with BOT_TEST_CLOCK set (ISO 8601, with a zone), every clock the
bot builds starts at that moment and runs on in real time, so a test can start the real process at the
moment a reminder or a digest is due. Production never loads this file."""

from __future__ import annotations

import datetime as dt
import os

_START = os.environ.get("BOT_TEST_CLOCK")

if _START:
    from bot import clock

    _shift = dt.datetime.fromisoformat(_START) - dt.datetime.now(dt.UTC)
    _build = clock.Clock.__init__

    def _shifted(self: clock.Clock, *args: object, **kwargs: object) -> None:
        _build(self, *args, **kwargs)  # type: ignore[arg-type]
        self._offset += _shift

    clock.Clock.__init__ = _shifted  # type: ignore[method-assign]
