"""An unrelated citizen's /help while many /status look-ups run at once: scrypt off or on the event loop.

Run: python bench/lookup_bench.py [--lookups 100] [--rounds 5] [--postgres postgresql+asyncpg://...]

Each round files one case, starts N simultaneous `/status CODE PIN` look-ups from N accounts through the
intake dialogue (on PostgreSQL when given: a scratch database is made and dropped; else SQLite in a
temporary directory), and 5 ms later a `/help` from another user; it reports
how long the /help took. "bot" is the bot (PIN checked in a worker thread before the look-up's transaction
takes a connection); "inline" runs the same scrypt on the event loop inside the transaction, as before.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from bot import cases, pin_guard
from bot.agencies import sync_agencies
from bot.core import Core
from bot.intake import Command, Intake
from bot.privacy import Privacy
from bot.receipts import check_pin
from bot.rules import load_rules
from bot.settings import Settings
from bot.workdays import WorkCalendar
from storage.db import create_engine, migrate, session_factory

ROOT = Path(__file__).resolve().parent.parent
DRAFT = cases.Draft(kind="petition", summary="Đề nghị sửa con đường liên thôn bị hỏng nặng, xe cộ đi lại khó")


async def _inline(pin: str, stored: str) -> bool:
    return check_pin(pin, stored)


async def _no_precheck(*_: object) -> None:
    return None


async def one_round(intake: Intake, core: Core, lookups: int, n: int) -> float:
    async with core.sessions() as s, s.begin():
        filed = await cases.submit(s, core, cases.Citizen("telegram", f"r{n}", f"r{n}"), DRAFT)
    status = Command("status", f"{filed.case.code} {filed.pin}")
    crowd = [asyncio.create_task(intake.handle("telegram", f"u{n}-{i}", f"u{n}-{i}", status))
             for i in range(lookups)]
    await asyncio.sleep(0.005)
    started = time.perf_counter()
    await intake.handle("telegram", f"h{n}", f"h{n}", Command("help"))
    took = time.perf_counter() - started
    await asyncio.gather(*crowd)
    return took


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lookups", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", help="a server URL; a scratch database is created on it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        if args.postgres:
            url = await _scratch_pg(args.postgres, create=True)
        await migrate(url)
        engine = create_engine(url)
        settings = Settings(_env_file=None, database_url=url, messages_per_minute=10**6,
                            lookup_failures_per_hour=10**6)
        rules = load_rules(ROOT / "rules" / "quang-ninh.yaml")
        sessions = session_factory(engine)
        await sync_agencies(sessions, rules)
        core = Core(settings=settings, rules=rules, sessions=sessions, privacy=Privacy(Fernet.generate_key()),
                    calendar=WorkCalendar(settings.timezone))
        intake = Intake(core)
        threaded, prechecked = pin_guard.pin_matches, intake._precheck
        for mode in ("bot", "inline"):
            # "inline": no precheck, scrypt on the event loop inside the transaction, as before
            pin_guard.pin_matches = threaded if mode == "bot" else _inline  # type: ignore[assignment]
            intake._precheck = prechecked if mode == "bot" else _no_precheck  # type: ignore[method-assign]
            times = [await one_round(intake, core, args.lookups, n) for n in range(args.rounds)]
            median, worst = statistics.median(times) * 1000, max(times) * 1000
            print(f"{url.split(':')[0]} {mode:6} {args.lookups} look-ups: /help took median {median:.0f} ms, "
                  f"max {worst:.0f} ms")
        await engine.dispose()
        if args.postgres:
            await _scratch_pg(args.postgres, create=False)


async def _scratch_pg(server: str, *, create: bool) -> str:
    import asyncpg

    conn = await asyncpg.connect(server.replace("postgresql+asyncpg", "postgresql"))
    await conn.execute('DROP DATABASE IF EXISTS "lookup_bench" WITH (FORCE)')
    if create:
        await conn.execute('CREATE DATABASE "lookup_bench"')
    await conn.close()
    return server.rsplit("/", 1)[0] + "/lookup_bench"


if __name__ == "__main__":
    asyncio.run(main())
