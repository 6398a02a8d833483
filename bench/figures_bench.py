"""Scorecards for every agency over a year with 100,000 cases, on SQLite and PostgreSQL.

    python bench/figures_bench.py [--cases 100000] [--repeat 5] [--postgres URL] [--no-sqlite]

Fills a fresh database with a year of cases (2026) spread over the sample rules' agencies and kinds, with
their audit trail as officers leave it (submitted; accepted, transferred, rejected, referred, merged,
resolved on time or late), then times `scorecards()` for all agencies over the year: the first call
(which also fills the working-day index), then `--repeat` warm calls (median and worst reported).
Also times the periodic report without charts (figures, targets, oldest open cases, the cases sheet).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text

from bench.outbox_bench import PG_URL, drop, pg_database
from bot.agencies import sync_agencies
from bot.figures import scorecards
from bot.figures.report import build
from bot.kinds import KINDS
from bot.rules import load_rules
from bot.workdays import WorkCalendar
from storage.db import create_engine, migrate, session_factory
from storage.models import AuditEvent, Case

ROOT = Path(__file__).resolve().parent.parent
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), HANOI).astimezone(dt.UTC)


def generate(n: int, agencies: list[str], seed: int = 7) -> tuple[list[dict], list[dict]]:
    """n cases over 2026 and their events (about 3 a case)."""
    rnd = random.Random(seed)
    cases, events = [], []
    for i in range(1, n + 1):
        received = YEAR[0] + dt.timedelta(days=rnd.randrange(365))
        lead = rnd.choice(agencies)
        due = received + dt.timedelta(days=rnd.randint(10, 60))
        status, now_lead = "new", lead
        snap = {"status": "new", "lead": lead, "due_on": due.isoformat()}
        events.append({"case_id": i, "at": _at(received, 8), "actor_type": "citizen", "actor_id": None,
                       "agency_id": None, "action": "submitted", "before": {}, "after": {"lead": lead},
                       "reason": None, "public": True})

        def act(action: str, agency: str, days: int, after: dict, reason: str | None = None,
                i: int = i, received: dt.date = received, snap: dict = snap) -> None:
            events.append({"case_id": i, "at": _at(received + dt.timedelta(days=days), 15),
                           "actor_type": "officer", "actor_id": "501", "agency_id": agency, "action": action,
                           "before": dict(snap), "after": after, "reason": reason, "public": True})

        roll = rnd.random()
        if roll < 0.08:
            now_lead = rnd.choice([a for a in agencies if a != lead])
            act("transferred", lead, rnd.randint(1, 5), {**snap, "lead": now_lead})
            snap["lead"] = now_lead
        if roll < 0.06:
            status = "rejected"
            act("rejected", now_lead, rnd.randint(1, 8), {**snap, "status": status}, "not_competent: x")
        elif roll < 0.09:
            status = "investigating"
            act("referred_to_investigators", now_lead, rnd.randint(1, 8), {**snap, "status": status}, "x")
            now_lead = "cong-an"
        elif roll < 0.11:
            status = "merged"
            act("merged", now_lead, rnd.randint(1, 3), {**snap, "status": status}, "x")
        elif roll < 0.9:
            status = "accepted"
            act("accepted", now_lead, rnd.randint(0, 9), {**snap, "status": status})
            snap["status"] = status
            if rnd.random() < 0.8:
                status = "resolved"
                act("resolved", now_lead, rnd.randint(10, 75), {**snap, "status": status}, "x")
        cases.append({
            "id": i, "code": f"B{i:07d}", "pin_hash": "x", "channel": "telegram", "kind": rnd.choice(KINDS),
            "field": rnd.choice(["dat-dai", "xay-dung", "tai-chinh", None]), "summary": "bench",
            "anonymous": True, "locale": "vi", "status": status, "lead_agency_id": now_lead,
            "watched": rnd.random() < 0.02, "routing": {"lead": lead}, "received_on": received,
            "due_on": due, "extensions": 0, "version": 1,
            "created_at": _at(received, 8), "updated_at": _at(received, 8),
            "closed_at": _at(received, 20) if status in ("resolved", "rejected", "merged") else None,
        })
    return cases, events


async def one_backend(label: str, url: str, n: int, repeat: int) -> list[str]:
    rules = load_rules(ROOT / "rules" / "quang-ninh.yaml")
    calendar = WorkCalendar()
    await migrate(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    await sync_agencies(sessions, rules)
    cases, events = generate(n, [a.id for a in rules.agencies])
    started = time.perf_counter()
    async with sessions() as session, session.begin():
        for i in range(0, len(cases), 5000):
            await session.execute(insert(Case.__table__), cases[i:i + 5000])
        for i in range(0, len(events), 5000):
            await session.execute(insert(AuditEvent.__table__), events[i:i + 5000])
        if url.startswith("postgresql"):
            await session.execute(text("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))"))
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    loaded = time.perf_counter() - started
    print(f"{label}: loaded {len(cases)} cases, {len(events)} events in {loaded:.1f} s", file=sys.stderr)
    today = dt.date(2026, 12, 31)
    timings = []
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        async with sessions() as session, session.begin():
            cards = await scorecards(session, rules, calendar, *YEAR, today=today)
        timings.append(time.perf_counter() - t0)
    received = sum(c.received for c in cards)
    assert received == n, (received, n)
    t0 = time.perf_counter()
    async with sessions() as session, session.begin():
        report = await build(session, rules, calendar, *YEAR, today=today, with_charts=False)
    report_s = time.perf_counter() - t0
    async with sessions() as session:
        count = (await session.execute(select(Case.id).order_by(Case.id.desc()).limit(1))).scalar_one()
    await engine.dispose()
    warm = timings[1:]
    return [f"| {label} | {count:,} | {len(events):,} | {timings[0] * 1000:.0f} | "
            f"{statistics.median(warm) * 1000:.0f} | {max(warm) * 1000:.0f} | {report_s * 1000:.0f} "
            f"({len(report.cases):,} case rows) |"]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default=PG_URL)
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    rows = ["| backend | cases | events | first call ms | warm median ms | warm worst ms "
            "| report (no charts) ms |", "|---|---:|---:|---:|---:|---:|---:|"]
    created = await pg_database(args.postgres)
    if created:
        url, name = created
        try:
            rows += await one_backend("postgresql", url, args.cases, args.repeat)
        finally:
            await drop(args.postgres, name)
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            rows += await one_backend("sqlite", url, args.cases, args.repeat)
    print("\n".join(rows))


if __name__ == "__main__":
    asyncio.run(main())
