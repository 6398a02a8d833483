"""The real `python -m bot` process is killed (SIGKILL) after a change and before its delivery: after a
restart the message arrives, once. The local Bot API server stands in for Telegram."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from handlers.telegram.keyboards import option_data
from simulator.botapi import FakeBotAPI, Request
from tests import tg
from tests.conftest import ROOT, SAMPLE_RULES

ADMIN, CITIZEN, GROUP = 1000, 4242, -100777
STORY = "Chủ tịch xã nhận hối lộ 200 triệu để cấp giấy chứng nhận quyền sử dụng đất cho doanh nghiệp"
T = 60.0  # generous: the interpreter alone can take 20 s to start on a busy machine


def bot_process(server: FakeBotAPI, tmp_path: Path, key: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BOT_TOKEN": "42:TEST",
        "TELEGRAM_API_URL": server.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/data/bot.db",
        "RULES_FILE": str(SAMPLE_RULES),
        "ADMIN_IDS": str(ADMIN),
        "ENCRYPTION_KEY": key,
        "WEBHOOK_URL": "",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


async def card_retry_pending(db: Path) -> None:
    """Until the failed attempt is recorded: the card is committed, waiting for a retry."""
    for _ in range(int(T / 0.1)):
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT status, attempts FROM outbox WHERE kind = 'card'").fetchone()
        if row is not None and row[0] == "pending" and row[1] >= 1:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"card row never recorded its failed attempt: {row}")


async def said_to(server: FakeBotAPI, chat: int, contains: str, count: int = 1) -> Request:
    return await server.wait_for(
        "sendMessage", lambda r: contains in r.params.get("text", ""), chat_id=chat, count=count, timeout=T
    )


async def test_killed_between_change_and_delivery_loses_nothing_and_sends_once(
    server: FakeBotAPI, tmp_path: Path
) -> None:
    key = Fernet.generate_key().decode()
    first = bot_process(server, tmp_path, key)
    try:
        await server.wait_for("getUpdates", timeout=3 * T)  # start-up includes the migrations
        server.push_update(tg.group_message(GROUP, ADMIN, "/bind noi-chinh", title="Ban Nội chính"))
        await said_to(server, GROUP, "noi-chinh")
        # From now on Telegram refuses everything for the group: the card cannot be delivered.
        server.fail_next("sendMessage", status=502, chat_id=GROUP, times=None)

        server.push_update(tg.private_message(CITIZEN, STORY))
        await said_to(server, CITIZEN, "đề xuất")
        for value in ("prop:yes", "skip", "skip", "skip", "done", "anon"):
            answers = len(server.calls("sendMessage", chat_id=CITIZEN))
            server.push_update(tg.callback_query(CITIZEN, option_data(value)))
            await server.wait_for("sendMessage", chat_id=CITIZEN, count=answers + 1, timeout=T)
        server.push_update(tg.callback_query(CITIZEN, option_data("send")))
        receipt = await said_to(server, CITIZEN, "Mã tra cứu:")
        code = receipt.params["text"].split("Mã tra cứu:")[1].split()[0]
        await server.wait_for(
            "sendMessage", lambda r: code in r.params.get("text", "") and not r.ok, chat_id=GROUP, timeout=T
        )
        await card_retry_pending(tmp_path / "data" / "bot.db")
    finally:
        first.send_signal(signal.SIGKILL)  # no shutdown, no cleanup: as a crashed machine
        first.wait(timeout=T)
    assert not [r for r in server.calls("sendMessage", chat_id=GROUP, ok=True) if code in r.params["text"]]

    server.clear_faults()
    second = bot_process(server, tmp_path, key)
    try:
        card = await server.wait_for(
            "sendMessage", lambda r: code in r.params.get("text", "") and r.ok, chat_id=GROUP, timeout=3 * T
        )
        assert "Ban Nội chính" in card.params["text"]
        await asyncio.sleep(2.0)  # time for any wrong second delivery to show up
    finally:
        second.send_signal(signal.SIGTERM)
        _, stderr = second.communicate(timeout=T)
    delivered = [r for r in server.calls("sendMessage", chat_id=GROUP, ok=True)
                 if code in r.params["text"] and not r.params["text"].startswith("⚠️")]  # not the alerts
    assert len(delivered) == 1, "the card arrives exactly once"
    receipts = [r for r in server.calls("sendMessage", chat_id=CITIZEN, ok=True) if code in r.params["text"]]
    assert len(receipts) == 1, "the citizen's receipt is not sent again after the restart"
    assert second.returncode == 0, stderr.decode()[-2000:]
