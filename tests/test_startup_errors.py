"""Start-up with bad configuration: one line saying what to fix, no traceback, no secret in the output."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import subprocess
import sys
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
from runner.settings import AppSettings
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


# --- `python -m bot` itself, run as an operator runs it, with one setting wrong -----------------------------

ROOT = Path(__file__).resolve().parent.parent
UNREACHABLE_API = "http://127.0.0.1:1"  # a bot that got past its settings would stop here, with another line
SETTINGS_NAMES = {name.upper() for name in AppSettings.model_fields}
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 24, 1, 2, 3


def _as_a_service_account() -> None:
    """In the child before exec: root keeps its uid but loses the capabilities that pass over file modes
    and ownership, so the bot meets a read-only folder or file as a service account does."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.fixture
def file_modes_bind() -> None:
    """File modes bind the bot: always for an ordinary user; for root once it has dropped its override."""
    if os.geteuid() != 0:
        return
    done = subprocess.run(["true"], preexec_fn=_as_a_service_account, check=False)
    if done.returncode != 0:
        pytest.skip("root here cannot drop the capabilities that pass over file modes")


def bot_env(**settings: str) -> dict[str, str]:
    """The environment of `python -m bot` from this checkout: no setting but those given (and a token)."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_NAMES}
    return {**env, "PYTHONPATH": str(ROOT), "BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": UNREACHABLE_API,
            "RULES_FILE": str(ROOT / "rules" / "quang-ninh.yaml"), **settings}


def run_bot(cwd: Path, *, service_account: bool = False, **settings: str) -> str:
    """`python -m bot` in `cwd` (bound by file modes with `service_account`, as root too); its one line on
    stderr, after checking it failed without a traceback."""
    drop = _as_a_service_account if service_account and os.geteuid() == 0 else None
    done = subprocess.run([sys.executable, "-m", "bot"], cwd=cwd, env=bot_env(**settings),
                          capture_output=True, text=True, timeout=120, preexec_fn=drop)
    lines = [line for line in done.stderr.splitlines() if line.strip() and " INFO " not in line]
    assert done.returncode == 1 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert TOKEN.split(":")[1] not in done.stderr
    return lines[0]


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize(("url", "line"), [
    ("postgres://bot:hunter2@db.internal/bot", "error: DATABASE_URL: postgres:// is not supported: use "
     "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE"),
    ("sqlite:///data/bot.db", "error: DATABASE_URL: sqlite:// is not supported: use sqlite+aiosqlite:///PATH "
     "or postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE"),
    ("mysql://bot:hunter2@db.internal/bot", "error: DATABASE_URL: mysql:// is not supported: use "
     "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE"),
    ("hunter2", "error: DATABASE_URL: not supported: use sqlite+aiosqlite:///PATH or "
     "postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE"),
    ("sqlite+aiosqlite://data/bot.db", "error: DATABASE_URL: a SQLite URL has no host: "
     "sqlite+aiosqlite:///PATH (three slashes before a relative path, four before an absolute one)"),
])
def test_an_unsupported_database_url_stops_with_the_supported_forms(tmp_path: Path, url: str,
                                                                    line: str) -> None:
    assert run_bot(tmp_path, DATABASE_URL=url) == line
    assert files_under(tmp_path) == [], "no database, folder or key is made"


def test_a_database_in_a_folder_that_does_not_exist_is_refused_not_made(tmp_path: Path) -> None:
    """A typo in the path would start an empty database with a second encryption key."""
    wrong = tmp_path / "nonexistent" / "dir"
    line = run_bot(tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{wrong}/bot.db")
    assert line == (f"error: DATABASE_URL: the folder {wrong} of the database does not exist: correct the "
                    "path, or create the folder if a new database is meant to start there")
    assert files_under(tmp_path) == []
    relative = run_bot(tmp_path, DATABASE_URL="sqlite+aiosqlite:///dat/bot.db")
    assert relative.startswith("error: DATABASE_URL: the folder dat of the database does not exist")
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("zone", ["Mars/Base", "Asia", "../etc", ""])
def test_an_unknown_time_zone_is_one_line(tmp_path: Path, zone: str) -> None:
    assert run_bot(tmp_path, TIMEZONE=zone) == (
        f"error: TIMEZONE: not a known time zone: give an IANA name such as Asia/Ho_Chi_Minh (got {zone!r})")
    assert files_under(tmp_path) == []


ADMINS = ("must be Telegram user ids, whole numbers from 1 up separated by commas (send /myid to the bot "
          "to learn yours)")


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("CASES_PER_DAY", "-5", "must be from 1 to 1000000"),
    ("MAX_FILE_MB", "0", "must be from 1 to 2000"),
    ("MAX_FILE_MB", "100000", "must be from 1 to 2000"),
    ("DIALOGUE_TTL_HOURS", "0", "must be from 1 to 720"),
    ("PIN_FAILURES_PER_CASE", "0", "must be from 1 to 1000000"),
    ("PIN_LOCKOUT_HOURS", "-1", "must be from 1 to 720"),
    ("MESSAGES_PER_MINUTE", "0", "must be from 1 to 1000000"),
    ("LOOKUP_FAILURES_PER_HOUR", "0", "must be from 1 to 1000000"),
    ("MAX_FILES_PER_CASE", "0", "must be from 1 to 100"),
    ("MAX_TEXT_CHARS", "10", "must be from 100 to 100000"),
    ("RETENTION_DAYS", "99999999", "must be from 1 to 3650"),
    ("TELEGRAM_MESSAGES_PER_SECOND", "0", "must be more than 0 and at most 1000"),
    ("WEBHOOK_PORT", "70000", "must be from 1 to 65535"),
    ("ZALO_WEBHOOK_PORT", "0", "must be from 1 to 65535"),
    ("ADMIN_IDS", "abc", ADMINS),
    ("ADMIN_IDS", "111,-3", ADMINS),
    ("ADMIN_IDS", "111, 1.5", ADMINS),
])
def test_a_nonsense_limit_is_refused_naming_the_variable_and_its_range(tmp_path: Path, name: str, value: str,
                                                                       problem: str) -> None:
    assert run_bot(tmp_path, **{name: value}) == f"error: {name}: {problem} (got {value!r})"
    assert files_under(tmp_path) == []


def test_a_data_folder_the_bot_may_not_write_is_one_line(tmp_path: Path, file_modes_bind: None) -> None:
    cannot = "error: cannot use the database sqlite+aiosqlite:///data/bot.db: PermissionError: [Errno 13] "
    (tmp_path / "data").mkdir(mode=0o555)
    assert run_bot(tmp_path, service_account=True) == cannot + "Permission denied: 'data/bot.db'"
    site = tmp_path / "site"
    site.mkdir(mode=0o555)  # nor can the default data/ folder be made in it
    assert run_bot(site, service_account=True) == cannot + "Permission denied: 'data'"
    assert files_under(tmp_path) == ["data", "site"]


async def _a_deployment(tmp_path: Path, server: FakeBotAPI) -> tuple[Path, Path]:
    """A database and its key as a bot that ran before leaves them (a sealed identity in it)."""
    settings = app_settings(tmp_path, server)
    app = await start(settings)
    try:
        async with app.core.sessions() as s, s.begin():
            await cases.submit(s, app.core, cases.Citizen("telegram", "7", "7"), DRAFT)
    finally:
        await app.stop()
    return tmp_path / "data" / "bot.db", tmp_path / "data" / "encryption.key"


@pytest.mark.parametrize("mode", [0o400, 0o444])
async def test_a_read_only_database_is_one_line(tmp_path: Path, server: FakeBotAPI, file_modes_bind: None,
                                                mode: int) -> None:
    db, _ = await _a_deployment(tmp_path, server)
    db.chmod(mode)
    line = run_bot(tmp_path, service_account=True, DATABASE_URL=f"sqlite+aiosqlite:///{db}")
    assert line == (f"error: cannot use the database sqlite+aiosqlite:///{db}: OperationalError: "
                    "(sqlite3.OperationalError) attempt to write a readonly database (the database file, or "
                    "its -wal or -shm file beside it, may not be written by the bot)")
    assert db.stat().st_mode & 0o777 == mode & 0o700, "closed to others, and still read-only"


async def test_a_key_file_the_bot_cannot_read_is_one_line_and_never_replaced(
        tmp_path: Path, server: FakeBotAPI, file_modes_bind: None) -> None:
    db, key = await _a_deployment(tmp_path, server)
    original = key.read_bytes()
    key.chmod(0)
    line = run_bot(tmp_path, service_account=True, DATABASE_URL=f"sqlite+aiosqlite:///{db}")
    assert line == f"error: cannot read the encryption key file {key}: Permission denied"
    key.chmod(0o600)
    assert key.read_bytes() == original


def test_a_key_file_that_is_a_folder_stops_before_any_database_is_made(tmp_path: Path) -> None:
    (tmp_path / "data" / "encryption.key").mkdir(parents=True)
    assert run_bot(tmp_path) == ("error: the encryption key file data/encryption.key is a folder: put the "
                                 "key file there (from your backup), or set ENCRYPTION_KEY")
    assert files_under(tmp_path) == ["data", "data/encryption.key"]


@pytest.mark.parametrize("mode", [0o644, 0o666])
async def test_a_key_file_open_to_others_is_made_private(tmp_path: Path, server: FakeBotAPI,
                                                         mode: int) -> None:
    key = tmp_path / "data" / "encryption.key"
    key.parent.mkdir()
    key.write_text(Fernet.generate_key().decode() + "\n")
    key.chmod(mode)
    env = bot_env(TELEGRAM_API_URL=server.url)  # DATABASE_URL unset: the default data/ beside the key
    with (tmp_path / "bot.log").open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", cwd=tmp_path, env=env,
                                                       stderr=stderr)
        try:
            await server.wait_for("getUpdates", timeout=60)
        finally:
            process.terminate()
            await process.wait()
    assert key.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "data" / "bot.db").stat().st_mode & 0o777 == 0o600
    log = (tmp_path / "bot.log").read_text()
    assert (f"WARNING bot.privacy: the encryption key file data/encryption.key was open to other users (mode "
            f"{mode:04o}); it is now 0600") in log, log


def test_a_key_file_open_to_others_that_cannot_be_made_private_is_refused(tmp_path: Path,
                                                                          file_modes_bind: None) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give the key file to another user here")
    key = tmp_path / "data" / "encryption.key"
    key.parent.mkdir()
    key.write_text(Fernet.generate_key().decode() + "\n")
    key.chmod(0o644)
    os.chown(key, 65534, 65534)  # another account's file: the bot may not change its mode
    assert run_bot(tmp_path, service_account=True) == (
        "error: the encryption key file data/encryption.key is open to other users (mode 0644) and the bot "
        "may not change that: make it private as its owner (chmod 600 data/encryption.key)")
    assert key.stat().st_mode & 0o777 == 0o644
    assert files_under(tmp_path) == ["data", "data/encryption.key"]
