"""Start-up with bad configuration: one line saying what to fix, no traceback, no secret in the output."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError
from cryptography.fernet import Fernet

from bot import cases
from bot.redaction import MASK, install, redact
from runner.app import _main, start
from simulator.botapi import FakeBotAPI
from tests.test_app import app_settings, free_port
from tests.test_cases import DRAFT

TOKEN = "123456789:AAHsecretsecretsecretsecretsecret0"


async def one_error_line(settings, capsys: pytest.CaptureFixture[str]) -> str:
    assert await _main(settings) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert TOKEN not in err[0] and TOKEN.split(":")[1] not in err[0]
    return err[0]


@pytest.mark.parametrize(("change", "expected"), [
    ({"bot_token": "not-a-token"}, "error: BOT_TOKEN is malformed"),
    ({"encryption_key": "not-a-fernet-key"}, "error: ENCRYPTION_KEY is not a Fernet key"),
    ({"telegram_api_url": "http://127.0.0.1:99999"}, "error: TELEGRAM_API_URL is not an http(s) URL"),
    ({"telegram_api_url": "bot-api.local:8081"}, "error: TELEGRAM_API_URL is not an http(s) URL"),
    ({"telegram_api_url": "http://127.0.0.1:1"}, "error: cannot reach the Bot API at http://127.0.0.1:1"),
])
async def test_bad_settings_are_one_line(tmp_path: Path, server: FakeBotAPI, capsys, change,
                                         expected) -> None:
    settings = app_settings(tmp_path, server)
    settings.bot_token = TOKEN
    for name, value in change.items():
        setattr(settings, name, value)
    assert (await one_error_line(settings, capsys)).startswith(expected)


async def test_unreachable_postgresql_is_one_line_without_the_password(tmp_path, server, capsys) -> None:
    url = f"postgresql+asyncpg://postgres:hunter2@127.0.0.1:{free_port()}/bot"
    settings = app_settings(tmp_path, server)
    settings.database_url = url
    line = await one_error_line(settings, capsys)
    assert line.startswith("error: cannot use the database postgresql+asyncpg://postgres:***@127.0.0.1:")
    assert "hunter2" not in line


async def test_a_lost_or_wrong_key_refuses_to_start_once_identities_are_sealed(tmp_path, server,
                                                                              capsys) -> None:
    settings = app_settings(tmp_path, server)
    key = tmp_path / "data" / "encryption.key"
    app = await start(settings)
    try:
        async with app.core.sessions() as s, s.begin():
            await cases.submit(s, app.core, cases.Citizen("telegram", "7", "7"), DRAFT)
    finally:
        await app.stop()
    original = key.read_text()
    key.unlink()
    line = await one_error_line(settings, capsys)
    assert line == (f"error: the database holds sealed reporter identities but there is no encryption key: "
                    f"restore {key} from your backup (or set ENCRYPTION_KEY to that key)")
    assert not key.exists(), "no new key is made over sealed identities"
    key.write_text(Fernet.generate_key().decode())
    assert "does not open the reporter identities" in await one_error_line(settings, capsys)
    settings.encryption_key = Fernet.generate_key().decode()
    line = await one_error_line(settings, capsys)
    assert "error: the encryption key in ENCRYPTION_KEY does not open" in line
    settings.encryption_key = None
    key.write_text(original)
    app = await start(settings)
    await app.stop()


async def test_the_token_is_cut_from_logged_connection_errors(caplog: pytest.LogCaptureFixture) -> None:
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base("http://127.0.0.1:99999")))
    log = logging.getLogger("aiogram.dispatcher")
    with caplog.at_level(logging.INFO):
        install([TOKEN])
        try:
            await bot.get_me()
        except TelegramNetworkError as exc:
            assert TOKEN in str(exc)  # the client error quotes the request URL
            log.exception("Failed to fetch updates - %s: %s", type(exc).__name__, exc)
            log.warning("request to %s failed", f"http://127.0.0.1:1/bot{TOKEN}/getUpdates")
        finally:
            await bot.session.close()
    assert caplog.records and TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text
    assert f"/bot{MASK}/getMe" in caplog.text and f"/bot{MASK}/getUpdates" in caplog.text


def test_token_shaped_text_is_cut_even_when_not_configured() -> None:
    other = "987654321:AAFanothertokenanothertokenanother"
    assert redact(f"GET /bot{other}/getMe") == f"GET /bot{MASK}/getMe"
