"""A database outage is logged once, retried with growing pauses, and its end is logged once."""

from __future__ import annotations

import asyncio
import logging

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.exc import OperationalError

from bot.delivery.sender import Sender
from bot.jobs import JobRunner
from bot.outage import OutageLog
from bot.privacy import Privacy

REFUSED = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
DOWN = OperationalError("SELECT 1", {}, REFUSED)


def test_one_line_per_outage_and_backoff_up_to_the_cap(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.outage")
    outage = OutageLog(log, "job runner", first=1, cap=60)
    with caplog.at_level(logging.DEBUG, logger="test.outage"):
        delays = [outage.failed(DOWN) for _ in range(1000)]
        outage.recovered()
        outage.recovered()
        outage.failed(DOWN)
    assert delays[:8] == [1, 2, 4, 8, 16, 32, 60, 60] and max(delays) == 60
    lines = caplog.text.splitlines()
    assert len(lines) == 3, lines
    assert "job runner failed: OperationalError" in lines[0] and "Traceback" not in caplog.text
    assert "recovered" in lines[1] and "1000 failed attempts" in lines[1]


def test_an_unexpected_error_keeps_its_traceback_once(caplog: pytest.LogCaptureFixture) -> None:
    outage = OutageLog(logging.getLogger("test.outage"), "outbox sender")
    with caplog.at_level(logging.ERROR, logger="test.outage"):
        for _ in range(5):
            try:
                raise KeyError("bug")
            except KeyError as exc:
                outage.failed(exc)
    assert len(caplog.records) == 1 and caplog.records[0].exc_info is not None


class Unreachable:
    """A session factory whose database is down for `rounds` attempts."""

    def __init__(self, rounds: int, stop: asyncio.Event) -> None:
        self.rounds, self.stop, self.calls = rounds, stop, 0

    def __call__(self) -> Unreachable:
        self.calls += 1
        if self.calls > self.rounds:
            self.stop.set()
        return self

    async def __aenter__(self) -> Unreachable:
        raise DOWN

    async def __aexit__(self, *exc: object) -> None:
        return None


@pytest.mark.parametrize("loop", ["jobs", "sender"])
async def test_both_loops_log_an_outage_once(loop: str, caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    sessions = Unreachable(12, stop)
    runner = (JobRunner(sessions, {}, "w") if loop == "jobs"  # type: ignore[arg-type]
              else Sender(sessions, {}, "w", privacy=Privacy(Fernet.generate_key())))  # type: ignore[arg-type]
    runner.outage.first, runner.outage.cap = 0.001, 0.004
    with caplog.at_level(logging.DEBUG):
        await asyncio.wait_for(runner.run_forever(stop), 30)
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert sessions.calls >= 12 and len(failures) == 1 and runner.outage.delay == 0.004
