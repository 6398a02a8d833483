"""Long-running commands say what they are doing: the outbox benchmark prints each step as it starts."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_outbox_bench_reports_progress_before_its_table() -> None:
    done = subprocess.run(
        [sys.executable, "bench/outbox_bench.py", "--messages", "12", "--limited-messages", "3",
         "--chats", "3",
         "--postgres", "postgresql+asyncpg://postgres@127.0.0.1:1/none"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    steps = [line for line in done.stderr.splitlines() if "delivering" in line or "delivered in" in line]
    assert steps[0] == "sqlite, Telegram's limits off: delivering 12 messages..."
    assert "  12 delivered in " in steps[1] and len(steps) == 4
    assert "PostgreSQL skipped" in done.stderr
    assert done.stdout.splitlines()[0].startswith("backend")
