"""End to end against the local Bot-API server through runner.app.start: the secretariat binds its group,
asks for the year's figures and gets the text and three chart photos, then the report as two files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from runner.app import App, start
from runner.settings import AppSettings as Settings
from simulator.botapi import FakeBotAPI
from tests import tg
from tests.conftest import SAMPLE_RULES
from tests.figures_kit import seed_year

ADMIN, OFFICER, SECRETARIAT = 1000, 501, -1001
T = 60.0  # generous: drawing charts on a busy machine takes seconds


@pytest.fixture
async def app(tmp_path: Path, server: FakeBotAPI) -> AsyncIterator[App]:
    (tmp_path / "data").mkdir()  # the operator's data folder: only the default one is made by the bot
    settings = Settings(_env_file=None, bot_token="42:TEST", telegram_api_url=server.url,
                        admin_ids=[str(ADMIN)], database_url=f"sqlite+aiosqlite:///{tmp_path}/data/bot.db",
                        rules_file=str(SAMPLE_RULES))
    running = await start(settings)
    try:
        yield running
    finally:
        await running.stop()


async def test_secretariat_gets_figures_charts_and_the_report(app: App, server: FakeBotAPI) -> None:
    server.push_update(tg.group_message(SECRETARIAT, ADMIN, "/bind noi-chinh"))
    await server.wait_for("sendMessage", lambda r: "(noi-chinh)" in r.params.get("text", ""),
                          chat_id=SECRETARIAT, timeout=T)
    await seed_year(app.core)

    server.push_update(tg.group_message(SECRETARIAT, OFFICER, "/stats 01/01/2026 31/12/2026"))
    def asked(r):
        return "Số liệu các cơ quan" in r.params.get("text", "")

    figures = await server.wait_for("sendMessage", asked,
                                    chat_id=SECRETARIAT, timeout=T)
    assert "Tiếp nhận: 9" in figures.params["text"]
    photos = await server.wait_for("sendPhoto", chat_id=SECRETARIAT, count=3, timeout=T)
    assert list(photos.files.values()) == ["intake.png"]  # uploaded, not a file id
    sent = [name for r in server.calls("sendPhoto") for name in r.files.values()]
    assert sent == ["status.png", "on_time.png", "intake.png"]

    server.push_update(tg.group_message(SECRETARIAT, OFFICER, "/report 01/01/2026 31/12/2026"))
    await server.wait_for("sendDocument", chat_id=SECRETARIAT, count=2, timeout=T)
    names = sorted(name for r in server.calls("sendDocument") for name in r.files.values())
    assert names == ["bao-cao-2026-01-01-2026-12-31.docx", "bao-cao-2026-01-01-2026-12-31.xlsx"]
