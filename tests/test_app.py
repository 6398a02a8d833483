"""The whole bot in-process against the fake Bot API: starts, answers, delivers the outbox, stops."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.delivery.outbox import enqueue
from handlers.telegram.channel import webhook_secret
from runner.app import App, start
from runner.settings import AppSettings as Settings
from simulator.botapi import FakeBotAPI
from tests import tg
from tests.conftest import SAMPLE_RULES, _pg_reason, create_pg_database, drop_pg_database


def app_settings(tmp_path: Path, server: FakeBotAPI, **kw: object) -> Settings:
    """The bot's settings as an operator gives them: the database in a data/ folder that exists."""
    (tmp_path / "data").mkdir(exist_ok=True)
    kw.setdefault("database_url", f"sqlite+aiosqlite:///{tmp_path}/data/bot.db")
    return Settings(_env_file=None, bot_token="42:TEST", telegram_api_url=server.url,
                    rules_file=str(SAMPLE_RULES), admin_ids=["1000"], **kw)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_polling_app_answers_delivers_outbox_and_stops(tmp_path: Path, server: FakeBotAPI) -> None:
    app: App = await start(app_settings(tmp_path, server))
    try:
        await server.wait_for("getUpdates")
        assert server.calls("getMe") and server.calls("deleteWebhook")
        assert app.telegram is not None and app.telegram.menus is not None
        await app.telegram.menus  # set beside the first updates, not before them
        menus = {r.params.get("language_code") for r in server.calls("setMyCommands")}
        assert {"vi", "en"} <= menus
        by_scope: dict[str, set[str]] = {}
        for r in server.calls("setMyCommands"):
            scope, commands = r.params["scope"], r.params["commands"]
            scope = json.loads(scope) if isinstance(scope, str) else scope
            commands = json.loads(commands) if isinstance(commands, str) else commands
            by_scope.setdefault(scope["type"], set()).update(c["command"] for c in commands)
        assert {"new", "status", "mycases", "cancel", "lang"} <= by_scope["all_private_chats"]
        assert {"cases", "case", "bind"} <= by_scope["all_group_chats"]
        assert "bind" not in by_scope["all_private_chats"]
        assert (tmp_path / "data" / "encryption.key").exists(), "key kept beside the database"

        server.push_update(tg.private_message(7, "/khong_co_lenh_nay"))
        await server.wait_for("sendMessage", chat_id=7)

        async with app.core.sessions() as session:
            await enqueue(session, channel="telegram", chat_id="-100", kind="text",
                          payload={"text": "Hồ sơ mới"}, key="e2e-1")
            await session.commit()
        app.sender.wake()
        await server.wait_for("sendMessage", lambda r: r.params.get("text") == "Hồ sơ mới")
    finally:
        await app.stop()
    assert all(task.done() for task in app.tasks) and app.polling is not None and app.polling.done()
    calls = len(server.requests)
    server.push_update(tg.private_message(7, "/after"))
    assert len(server.requests) == calls, "nothing polls after stop"


async def test_webhook_mode_checks_the_secret(tmp_path: Path, server: FakeBotAPI) -> None:
    port = free_port()
    settings = app_settings(tmp_path, server, webhook_url=f"http://127.0.0.1:{port}/tg",
                            webhook_host="127.0.0.1", webhook_port=port)
    app = await start(settings)
    try:
        [hook] = server.calls("setWebhook")
        assert hook.params["url"] == settings.webhook_url
        assert hook.params["secret_token"] == webhook_secret(settings)
        assert not server.calls("getUpdates")
        update = tg.private_message(8, "/khong_co_lenh_nay")
        async with aiohttp.ClientSession() as http:
            async with http.post(settings.webhook_url, json=update) as denied:
                assert denied.status == 401
            secret = {"X-Telegram-Bot-Api-Secret-Token": hook.params["secret_token"]}
            async with http.post(settings.webhook_url, json=update, headers=secret) as ok:
                assert ok.status == 200
        await server.wait_for("sendMessage", chat_id=8)
    finally:
        await app.stop()


async def test_rejected_token_fails_start_with_a_reason(tmp_path: Path, server: FakeBotAPI) -> None:
    from runner.app import StartupError

    server.fail_next("getMe", 401)
    with pytest.raises(StartupError, match="BOT_TOKEN"):
        await start(app_settings(tmp_path, server))


def test_invalid_rules_exit_1_with_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from runner.app import run

    bad = tmp_path / "rules.yaml"
    bad.write_text("agencies: 3\n", encoding="utf-8")
    settings = Settings(_env_file=None, bot_token="42:TEST", rules_file=str(bad),
                        database_url=f"sqlite+aiosqlite:///{tmp_path}/bot.db")
    assert run(settings) == 1
    assert str(bad) in capsys.readouterr().err


def test_python_m_bot_without_token_exits_1(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "BOT_TOKEN" in lines[0]


async def test_an_instance_without_the_sender_leaves_delivery_to_the_one_with_it(
    tmp_path: Path, server: FakeBotAPI
) -> None:
    quiet = await start(app_settings(tmp_path, server, outbox_sender=False))
    try:
        assert [task.get_name() for task in quiet.tasks] == ["job-runner", "sender-watch"]
        async with quiet.core.sessions() as session:
            await enqueue(session, channel="telegram", chat_id="-100", kind="text",
                          payload={"text": "Hồ sơ chờ gửi"}, key="one-sender")
            await session.commit()
        await asyncio.sleep(1.5)  # three poll intervals of a sender, had one been running
        assert "Hồ sơ chờ gửi" not in server.texts(-100)
    finally:
        await quiet.stop()
    sending = await start(app_settings(tmp_path, server))
    try:
        await server.wait_for("sendMessage", lambda r: r.params.get("text") == "Hồ sơ chờ gửi")
    finally:
        await sending.stop()
    assert server.texts(-100).count("Hồ sơ chờ gửi") == 1


async def test_a_polling_instance_beside_a_delivery_worker_answers_citizens(
    tmp_path: Path, server: FakeBotAPI, db_url: str
) -> None:
    """Long polling admits one instance, so a second process joins as a delivery worker: it takes no
    updates and sets nothing up, and sends what the polling instance (OUTBOX_SENDER=false) commits."""
    worker = await start(app_settings(tmp_path, server, database_url=db_url, receive_updates=False))
    try:
        names = [task.get_name() for task in worker.tasks]
        listener = ["outbox-listener"] if db_url.startswith("postgresql") else []
        assert names == ["job-runner", "outbox-sender", *listener]
        await asyncio.sleep(0.3)
        assert server.calls("getMe")
        for method in ("getUpdates", "deleteWebhook", "setWebhook", "setMyCommands"):
            assert not server.calls(method), method
        polling = await start(app_settings(tmp_path, server, database_url=db_url, outbox_sender=False))
        try:
            assert [task.get_name() for task in polling.tasks] == ["job-runner", "sender-watch"]
            await server.wait_for("getUpdates")
            server.push_update(tg.private_message(7, "/start"))
            reply = await server.wait_for("sendMessage", chat_id=7, timeout=10)
            assert reply.params["text"]
        finally:
            await polling.stop()
    finally:
        await worker.stop()
    texts = server.texts(7)
    assert texts and len(texts) == len(set(texts)), "each reply sent once"


async def test_a_delivery_worker_on_zalo_takes_no_updates_and_sends(tmp_path: Path,
                                                                    server: FakeBotAPI) -> None:
    from simulator.zalo import TOKEN, FakeZaloAPI

    async with FakeZaloAPI() as zalo:
        zalo.push_text("zc-2", "Xin chào")  # a citizen writes: the worker must leave it to the receiver
        worker = await start(app_settings(tmp_path, server, zalo_bot_token=TOKEN, zalo_api_url=zalo.url,
                                          receive_updates=False))
        try:
            async with worker.core.sessions() as session:
                await enqueue(session, channel="zalo", chat_id="zc-1", kind="text",
                              payload={"text": "Đã nhận phản ánh"}, key="zalo-worker")
                await session.commit()
            sent = await zalo.wait_for("sendMessage", timeout=10)
            assert sent.params["text"] == "Đã nhận phản ánh"
            await asyncio.sleep(1.0)  # time enough to have taken and answered the waiting message
            assert zalo.calls("getMe") and not zalo.calls("getUpdates") and not zalo.calls("setWebhook")
            assert not zalo.calls("sendMessage", chat_id="zc-2")
        finally:
            await worker.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database no instance has started on yet: no tables."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/data/bot.db"
        return
    reason = await _pg_reason()
    if reason:
        pytest.skip(reason)
    name, url = await create_pg_database("bot_first")
    yield url
    await drop_pg_database(name)


async def test_two_instances_starting_together_on_a_new_database_both_start(
    tmp_path: Path, server: FakeBotAPI, empty_database: str
) -> None:
    """A first deployment of two instances at once (a worker beside the polling one, two replicas): the
    schema is made and the agencies written once, and neither instance fails on the other's rows."""
    settings = [app_settings(tmp_path, server, database_url=empty_database, receive_updates=False),
                app_settings(tmp_path, server, database_url=empty_database, outbox_sender=False)]
    both = asyncio.gather(*(start(s) for s in settings), return_exceptions=True)
    started = await asyncio.wait_for(both, 60)
    try:
        failed = [repr(s) for s in started if isinstance(s, BaseException)]
        assert not failed
        server.push_update(tg.private_message(7, "/start"))
        await server.wait_for("sendMessage", chat_id=7, timeout=10)
    finally:
        for app in started:
            if isinstance(app, App):
                await app.stop()


async def test_menus_that_cannot_be_set_do_not_stop_the_bot(tmp_path: Path, server: FakeBotAPI,
                                                          caplog) -> None:
    server.fail_next("setMyCommands", 400, description="Bad Request: too many commands", times=None)
    app: App = await start(app_settings(tmp_path, server))
    try:
        assert app.telegram is not None and app.telegram.menus is not None
        await app.telegram.menus
        assert "command menus could not be set" in caplog.text
        server.push_update(tg.private_message(7, "/start"))
        await server.wait_for("sendMessage", chat_id=7)
    finally:
        await app.stop()


def test_memory_settles_after_start_up_with_the_collector_running_again() -> None:
    """`python -m bot run` starts with the garbage collector resting; once the bot has started, what
    start-up made is frozen and the collector runs again (left off, every cycle would leak)."""
    import gc

    from runner.app import settle_memory

    gc.disable()
    try:
        settle_memory()
        assert gc.isenabled() and gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
        gc.enable()


@pytest.mark.parametrize("level", ["", "debug"])
async def test_the_log_has_a_line_per_update_only_at_debug(tmp_path: Path, server: FakeBotAPI,
                                                           level: str) -> None:
    """An operator's log says what the bot does, not every message it handled (LOG_LEVEL=DEBUG does)."""
    env = {k: v for k, v in os.environ.items() if k not in ("LOG_LEVEL", "DATABASE_URL")}
    env.update(BOT_TOKEN="42:TEST", TELEGRAM_API_URL=server.url, RULES_FILE=str(SAMPLE_RULES),
               DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/bot.db", LOG_LEVEL=level or "INFO")
    with (tmp_path / "bot.log").open("wb") as stderr:  # a file: a DEBUG log would fill a pipe and stall
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", cwd=tmp_path, env=env,
                                                       stderr=stderr)
        try:
            server.user_message(7, tg.user(7), "/start")
            await server.wait_for("sendMessage", chat_id=7, timeout=60)
        finally:
            process.terminate()
            await process.wait()
    log = (tmp_path / "bot.log").read_text()
    assert "running as @test_bot" in log  # the INFO lines are there either way
    assert ("is handled" in log) == (level == "debug")
    # the database driver's debug lines would carry every statement's values: never in the bot's log
    assert "aiosqlite" not in log and "INSERT INTO" not in log


def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}, "LOG_LEVEL": "verbose",
           "MAX_TEXT_CHARS": "abc"}
    done = subprocess.run([sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR' (got 'VERBOSE')",
        "error: MAX_TEXT_CHARS: Input should be a valid integer, unable to parse string as an integer "
        "(got 'abc')",
    ]
