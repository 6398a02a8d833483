"""How long one duplicate check takes with 100,000 open cases, and whether it still finds the old case.

Run: python bench/dup_bench.py [--cases 100000] [--queries 300] [--backend sqlite|postgresql|both]

Builds a fresh database per backend, fills it with synthetic open cases (template reports about different
officials, plots, streets, amounts and wards, all kinds), indexes them as the bot does, then times
`find_likely` for retellings of random stored cases (another template, half without diacritics) and for
new reports of incidents that are not stored. PostgreSQL uses TEST_POSTGRES_URL (skipped if unreachable).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import insert, select

from bot.dupfacts import extract
from bot.duplicates import find_likely, terms_of
from bot.dupscore import Report
from bot.kinds import KINDS
from bot.places import all_places
from bot.textnorm import fold
from storage.db import create_engine, migrate, session_factory
from storage.models import Agency, Case, DuplicateTerm, DuplicateTermCount

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SURNAMES = "Nguyễn Trần Lê Phạm Hoàng Vũ Đặng Bùi Đỗ Ngô Dương Lý Đinh Đào Trịnh Lương".split()
MIDDLE = "Văn Thị Đức Minh Quốc Xuân Công Thanh Hữu Ngọc".split()
GIVEN = ("An Bình Cường Dũng Giang Hà Hải Hùng Khánh Lan Long Mai Nam Nga Phúc Quân Sơn Tâm Thắng Thu "
         "Tuấn Tùng Vinh Yến Hạnh Lộc Phương Toàn Hiệp Khoa").split()
STREETS = ("Lê Lợi, Trần Hưng Đạo, Nguyễn Văn Cừ, Lê Thánh Tông, Trần Phú, Quang Trung, Hoàng Quốc Việt, "
           "Cao Thắng, Kênh Liêm, Hạ Long, Lý Thường Kiệt, Bạch Đằng").split(", ")
ROLES = ("cán bộ địa chính", "cán bộ một cửa", "trưởng thôn", "phó chủ tịch", "kế toán", "cán bộ tư pháp",
         "công an khu vực", "hiệu trưởng", "bác sĩ", "cán bộ thuế")
FIRST = [
    "Tôi làm hồ sơ cấp sổ đỏ cho thửa đất số {plot}, tờ bản đồ số {sheet} ở {ward}. Ông {name}, {role}, "
    "nói phải đưa {amount} triệu thì mới ký.",
    "Tôi xin giấy phép xây nhà số {house} phố {street}, {ward}, {role} {name} hẹn mãi không trả, "
    "đòi gửi {amount} triệu.",
    "Ở {ward}, {role} {name} thu của mỗi hộ {amount} trăm nghìn không có biên lai, tổ {house} khu {sheet}.",
    "Gia đình tôi bị thu hồi thửa {plot} tờ bản đồ {sheet} ở {ward} nhưng chỉ được bồi thường {amount} "
    "nghìn một mét, {role} {name} không giải thích.",
]
RETOLD = [
    "Tố cáo {role} {name} ở {ward} nhận tiền của dân, thửa {plot} bị đòi {amount}tr.",
    "{role} {given} {ward} đòi {amount} triệu giấy phép xây dựng nhà {house} {street}",
    "{role} {name} thu {amount}00k mỗi hộ tổ {house} khu {sheet} không biên lai",
    "Khiếu nại đền bù thửa {plot} tờ {sheet} {ward}, chỉ {amount}k/m2, {role} {name}",
]


def _facts(rng: random.Random) -> dict[str, object]:
    given = rng.choice(GIVEN)
    return {
        "name": f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {given}",
        "given": given,
        "role": rng.choice(ROLES),
        "plot": rng.randint(1, 2000),
        "sheet": rng.randint(1, 80),
        "house": rng.randint(1, 300),
        "street": rng.choice(STREETS),
        "amount": rng.randint(2, 99),
        "ward": rng.choice(all_places()).name,
    }


def _story(rng: random.Random) -> tuple[int, dict[str, object], str]:
    template = rng.randrange(len(FIRST))
    facts = _facts(rng)
    return template, facts, FIRST[template].format(**facts)


async def _fill(url: str, n: int, rng: random.Random) -> list[tuple[int, int, dict[str, object]]]:
    await migrate(url)
    engine = create_engine(url)
    stored: list[tuple[int, int, dict[str, object]]] = []
    counts: Counter[str] = Counter()
    today = dt.date(2026, 3, 2)
    now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    async with engine.begin() as conn:
        await conn.execute(insert(Agency), [{"id": "thanh-tra", "name_vi": "Thanh tra", "name_en": "Insp."}])
    batch = 5_000
    for start in range(1, n + 1, batch):
        cases, terms = [], []
        for case_id in range(start, min(n, start + batch - 1) + 1):
            template, facts, text = _story(rng)
            cases.append({"id": case_id, "code": f"B{case_id:09d}", "pin_hash": "x", "channel": "telegram",
                          "kind": rng.choice(KINDS), "summary": text, "area_name": str(facts["ward"]),
                          "status": "new", "lead_agency_id": "thanh-tra", "received_on": today,
                          "created_at": now, "updated_at": now, "routing": {}, "likely_duplicates": []})
            for term in terms_of(extract(text)):
                terms.append({"case_id": case_id, "term": term})
                counts[term] += 1
            stored.append((case_id, template, facts))
        async with engine.begin() as conn:
            await conn.execute(insert(Case), cases)
            await conn.execute(insert(DuplicateTerm), terms)
    async with engine.begin() as conn:
        rows = [{"term": t, "cases": c} for t, c in counts.items()]
        for i in range(0, len(rows), 10_000):
            await conn.execute(insert(DuplicateTermCount), rows[i : i + 10_000])
    await engine.dispose()
    return stored


async def _measure(url: str, stored: list[tuple[int, int, dict[str, object]]], queries: int,
                   rng: random.Random) -> dict[str, float]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    latencies: list[float] = []
    found = misses = false_alarms = 0
    picks = rng.sample(stored, queries)
    async with sessions() as session:
        await session.execute(select(Case.id).limit(1))  # warm the connection
        for n, (case_id, template, facts) in enumerate(picks):
            text = RETOLD[template].format(**facts)
            if n % 2:
                text = fold(text)
            t0 = time.perf_counter()
            likely = await find_likely(session, Report(text))
            latencies.append(time.perf_counter() - t0)
            if any(s.case_id == case_id for s in likely):
                found += 1
            else:
                misses += 1
        for _ in range(queries):  # new incidents: nothing stored should be listed
            _, _, text = _story(rng)
            t0 = time.perf_counter()
            likely = await find_likely(session, Report(text))
            latencies.append(time.perf_counter() - t0)
            false_alarms += bool(likely)
    await engine.dispose()
    latencies.sort()
    return {
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "max": latencies[-1] * 1000,
        "found": found / queries,
        "false_alarms": false_alarms / queries,
    }


async def _pg_url() -> str | None:
    import asyncpg

    admin = PG_URL.replace("postgresql+asyncpg", "postgresql")
    try:
        conn = await asyncio.wait_for(asyncpg.connect(admin), timeout=3)
    except Exception as exc:  # unreachable: say so and skip
        print(f"postgresql skipped: {exc.__class__.__name__}: {exc}")
        return None
    name = f"dup_bench_{uuid.uuid4().hex[:8]}"
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"


async def _drop_pg(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
    await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print("| backend | open cases | load s | p50 ms | p99 ms | max ms | old case found | false alarms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for backend in backends:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}" if backend == "sqlite" else await _pg_url()
            if url is None:
                continue
            try:
                rng = random.Random(7)
                t0 = time.perf_counter()
                stored = await _fill(url, args.cases, rng)
                load = time.perf_counter() - t0
                r = await _measure(url, stored, args.queries, rng)
            finally:
                if backend == "postgresql":
                    await _drop_pg(url)
        print(f"| {backend} | {args.cases:,} | {load:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.1f} "
              f"| {r['found']:.3f} | {r['false_alarms']:.3f} |", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
