"""The real `python -m bot` process started at a chosen moment of the bot's clock, against the local Bot API
server and a test database, and stopped the way an operator stops it (SIGTERM) or a crash does (SIGKILL).

The process's clock starts at the moment given and runs on in real time (tests/clock_at/sitecustomize.py),
so a restart "at a later time" is a new process started later on the bot's clock. Moments must lie ahead
of the real time: the outbox dates its rows by the system clock."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from simulator.botapi import FakeBotAPI
from tests import tg
from tests.conftest import ROOT, SAMPLE_RULES

ADMIN = 1000
T = 60.0  # generous: the interpreter alone can take 20 s to start on a busy machine
CLOCK_AT = Path(__file__).resolve().parent / "clock_at"


def bot_at(moment: dt.datetime, server: FakeBotAPI, db_url: str, key: str,
           cwd: Path) -> subprocess.Popen[bytes]:
    """`python -m bot` whose clock starts at `moment`."""
    env = {
        **os.environ,
        "BOT_TOKEN": "42:TEST",
        "TELEGRAM_API_URL": server.url,
        "DATABASE_URL": db_url,
        "RULES_FILE": str(SAMPLE_RULES),
        "ADMIN_IDS": str(ADMIN),
        "ENCRYPTION_KEY": key,
        "WEBHOOK_URL": "",
        "BOT_TEST_CLOCK": moment.astimezone(dt.UTC).isoformat(),
        "PYTHONPATH": os.pathsep.join((str(CLOCK_AT), str(ROOT))),
    }
    return subprocess.Popen([sys.executable, "-m", "bot"], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@contextlib.asynccontextmanager
async def running_at(moment: dt.datetime, server: FakeBotAPI, db_url: str, key: str,
                     cwd: Path) -> AsyncIterator[subprocess.Popen[bytes]]:
    """The bot running from `moment` (its first poll for updates seen), stopped with SIGTERM afterwards;
    a failed stop shows the process's last words."""
    polls = len(server.calls("getUpdates"))
    process = bot_at(moment, server, db_url, key, cwd)
    try:
        await server.wait_for("getUpdates", count=polls + 1, timeout=3 * T)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(process.communicate, timeout=T)
    assert process.returncode == 0, stderr.decode()[-2000:]


async def bind(server: FakeBotAPI, groups: dict[str, int]) -> None:
    """An admin binds each agency's group, as on Telegram (`/bind <agency>`)."""
    for agency, chat in groups.items():
        server.push_update(tg.group_message(chat, ADMIN, f"/bind {agency}", title=agency))
        await server.wait_for("sendMessage", lambda r, a=agency: a in r.params.get("text", ""), chat_id=chat,
                              timeout=T)
