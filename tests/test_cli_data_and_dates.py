"""`python -m bot report` and `meetings` read the bot's database the way the bot does (`--data DIR`, or
DATABASE_URL), say which on stderr and never make an empty one; dates are read as 2026-01-01 and
01/01/2026 alike, on the command line and in the chat."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bot.secretariat import schedules
from storage.models import Meeting
from tests.conftest import ROOT
from tests.figures_kit import seed_year
from tests.secretariat_kit import START
from tests.test_secretariat_dialogue import _setup


def bot(*args: str, cwd: Path, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real command, in a folder of its own, with only the settings given."""
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)}
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=180)


def sqlite_folder(db_url: str) -> Path | None:
    """The folder of the test's SQLite database (named bot.db, as the bot names its own)."""
    return Path(db_url.split("///", 1)[1]).parent if db_url.startswith("sqlite") else None


async def test_report_reads_the_database_named_and_says_which(core, db_url, tmp_path: Path) -> None:
    await seed_year(core)
    work = tmp_path / "elsewhere"
    work.mkdir()
    period = ("--from", "01/01/2026", "--to", "2026-12-31", "--format", "md")
    folder = sqlite_folder(db_url)
    if folder is not None:
        done = await asyncio.to_thread(bot, "report", *period, "--data", str(folder), cwd=work)
        assert done.returncode == 0, done.stderr
        assert f"reading the database {folder / 'bot.db'} (--data {folder})" in done.stderr
    else:
        done = await asyncio.to_thread(bot, "report", *period, cwd=work, database_url=db_url)
        assert done.returncode == 0, done.stderr
        assert "reading the database postgresql+asyncpg://postgres@127.0.0.1" in done.stderr
        assert "(DATABASE_URL)" in done.stderr
    assert "| Thanh tra tỉnh | 7 | 2 |" in done.stdout and "từ 01/01/2026 đến 31/12/2026" in done.stdout
    assert not (work / "data").exists()


def test_report_refuses_a_database_that_is_not_there_and_makes_none(tmp_path: Path) -> None:
    period = ("--from", "2026-01-01", "--to", "30/06/2026", "--format", "docx")
    by_default = bot("report", *period, cwd=tmp_path)
    assert by_default.returncode == 1 and by_default.stdout == ""
    assert by_default.stderr.strip() == (
        f"error: there is no database at {tmp_path / 'data' / 'bot.db'} (DATABASE_URL): run the bot first, "
        "or give --data DIR (the folder of bot.db or demo.db) or DATABASE_URL")
    (tmp_path / "empty").mkdir()
    empty = bot("report", *period, "--data", "empty", cwd=tmp_path)
    assert empty.returncode == 1
    assert empty.stderr.strip() == ("error: --data empty: there is no database in that folder "
                                    "(expected bot.db or demo.db)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]  # no data/, no report file
    assert not any((tmp_path / "empty").iterdir())


def test_dates_are_read_either_way_and_bad_ones_are_named(tmp_path: Path) -> None:
    for bad, problem in (("31/02/2026", "31/02/2026 is not a date that exists"),
                         ("2026-13-01", "2026-13-01 is not a date that exists"),
                         ("mai", "expected a date as YYYY-MM-DD or DD/MM/YYYY, got 'mai'"),
                         ("2026/01/01", "expected a date as YYYY-MM-DD or DD/MM/YYYY")):
        done = bot("report", "--from", bad, "--to", "2026-06-30", "--format", "md", cwd=tmp_path)
        assert done.returncode == 2 and problem in done.stderr.splitlines()[-1], done.stderr
    reversed_ = bot("meetings", "--from", "01/07/2026", "--to", "2026-06-01", cwd=tmp_path)
    assert reversed_.returncode == 2 and reversed_.stderr.strip().endswith("error: --to is before --from")
    deadline = bot("deadline", "--kind", "denunciation", "--from", "10/02/2026", "--json", cwd=tmp_path)
    assert deadline.returncode == 0 and json.loads(deadline.stdout)[0]["due"] == "2026-02-26"


async def test_meetings_reads_the_data_folder_and_without_a_database_lists_the_rules(core, db_url,
                                                                                    tmp_path: Path) -> None:
    await schedules.materialise(core, START)
    async with core.sessions() as session:
        stored = (await session.execute(select(Meeting.id).order_by(Meeting.starts_at))).scalars().first()
    work = tmp_path / "elsewhere"
    work.mkdir()
    window = ("--from", "01/12/2026", "--to", "2027-01-31", "--json")
    folder = sqlite_folder(db_url)
    if folder is not None:
        done = await asyncio.to_thread(bot, "meetings", *window, "--data", str(folder), cwd=work)
        assert f"reading the database {folder / 'bot.db'}" in done.stderr
    else:
        done = await asyncio.to_thread(bot, "meetings", *window, cwd=work, database_url=db_url)
        assert "reading the database postgresql+asyncpg://" in done.stderr
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert [(o["date"], o["id"] is not None) for o in listed] == [("2026-12-17", True), ("2027-01-12", True)]
    assert listed[0]["id"] == stored
    fresh = await asyncio.to_thread(bot, "meetings", *window, cwd=work)
    assert fresh.returncode == 0
    from_rules = [(o["date"], o["id"]) for o in json.loads(fresh.stdout)]
    assert from_rules == [("2026-12-17", None), ("2027-01-12", None)]
    assert "listing the meetings of the rules only" in fresh.stderr
    assert not (work / "data").exists()


async def test_the_chat_takes_a_meeting_time_written_either_way(core) -> None:
    secretary, _ = await _setup(core)
    await secretary.say("/meeting")
    await secretary.answer("Họp liên ngành")
    assert "Chưa đọc được thời gian" in await secretary.answer("2026-13-08 14:00")  # no such month
    assert "Chưa đọc được thời gian" in await secretary.answer("2026/12/08 14:00")
    assert "Địa điểm" in await secretary.answer("2026-12-08 14:30")
    for text in ("-", "noi-chinh, thanh-tra", "-"):
        await secretary.answer(text)
    assert "14:30 08/12/2026" in await secretary.answer("-")
