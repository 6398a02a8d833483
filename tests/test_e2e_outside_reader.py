"""Another process reads the SQLite database while the bot runs (the CLI's report), then the bot is killed:
every case whose receipt the citizen got is still there after the restart."""

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
from simulator.botapi import FakeBotAPI
from tests import tg
from tests.conftest import ROOT, SAMPLE_RULES
from tests.test_e2e_kill import T, bot_process, said_to

STORIES = [
    "Chủ tịch xã nhận hối lộ 200 triệu để cấp giấy chứng nhận quyền sử dụng đất cho doanh nghiệp",
    "Cán bộ địa chính phường đòi 30 triệu mới làm sổ đỏ cho gia đình tôi",
    "Phó chủ tịch phường nhận 50 triệu để hợp thức hóa đất lấn chiếm ven biển",
]


async def file_case(server: FakeBotAPI, citizen: int, story: str) -> str:
    """The citizen tells a story and sends it anonymously; the code of the receipt they were given."""
    server.push_update(tg.private_message(citizen, story))
    await said_to(server, citizen, "đề xuất")
    for value in ("prop:yes", "skip", "skip", "skip", "done", "anon", "send"):
        answers = len(server.calls("sendMessage", chat_id=citizen))
        server.push_update(tg.callback_query(citizen, option_data(value)))
        await server.wait_for("sendMessage", chat_id=citizen, count=answers + 1, timeout=T)
    receipt = await said_to(server, citizen, "Mã tra cứu:")
    return str(receipt.params["text"].split("Mã tra cứu:")[1].split()[0])


def outside_report(tmp_path: Path) -> None:
    """`python -m bot report` against the bot's database: a second process opens and closes the file."""
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/data/bot.db",
           "RULES_FILE": str(SAMPLE_RULES), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "report", "--from", "2020-01-01", "--to", "2030-12-31",
         "--format", "csv"],
        cwd=tmp_path, env=env, capture_output=True, timeout=3 * T,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]


async def test_cases_survive_a_kill_after_an_outside_reader(server: FakeBotAPI, tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    first = bot_process(server, tmp_path, key)  # a new database: the first start migrates it
    codes: list[str] = []
    try:
        await server.wait_for("getUpdates", timeout=3 * T)
        codes.append(await file_case(server, 5001, STORIES[0]))
        await asyncio.to_thread(outside_report, tmp_path)
        codes.append(await file_case(server, 5002, STORIES[1]))
        codes.append(await file_case(server, 5003, STORIES[2]))
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=T)

    second = bot_process(server, tmp_path, key)
    try:
        await server.wait_for("getUpdates", count=len(server.calls("getUpdates")) + 1, timeout=3 * T)
        with sqlite3.connect(tmp_path / "data" / "bot.db") as conn:
            stored = {row[0] for row in conn.execute("SELECT code FROM cases")}
        assert stored == set(codes), "every receipted case is still in the database"
        server.push_update(tg.private_message(5003, "/mycases"))
        listing = await server.wait_for(
            "sendMessage", lambda r: codes[2] in r.params.get("text", ""), chat_id=5003, timeout=T
        )
        assert "chưa gửi" not in listing.params["text"]
    finally:
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=T)
