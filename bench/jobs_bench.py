"""Job runner throughput and lag with 100,000 pending jobs in the table, on SQLite and PostgreSQL.

    python bench/jobs_bench.py [--pending 100000] [--due 2000] [--lag-jobs 60] [--postgres URL]

1. Fills the jobs table with `--pending` future jobs (reminders months ahead, as a busy province has).
2. Throughput: adds `--due` jobs already due; one JobRunner (production settings: batch 20) clears them.
   Each job's handler queues one outbox message in the job's transaction, as deadline jobs do.
3. Lag: schedules `--lag-jobs` jobs due over the next 15 seconds; the JobRunner and the outbox Sender run
   their production loops (job poll every 1 s, Telegram's rate limits on) against the local fake Bot API;
   the lag is from each job's due time to its message reaching the Bot API server.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from bench.outbox_bench import PG_URL, PRIVACY, drop, pg_database
from bot.delivery.outbox import enqueue
from bot.delivery.ratelimit import Limits
from bot.delivery.sender import Sender
from bot.jobs import JobRunner
from handlers.telegram.sender import TelegramTransport
from simulator.botapi import FakeBotAPI
from storage.db import create_engine, migrate, session_factory
from storage.models import Job, OutboxMessage, utcnow

KIND = "bench.notify"


async def notify(session: AsyncSession, job: Job) -> None:
    await enqueue(session, channel="telegram", chat_id=str(job.payload["chat"]), kind="text",
                  payload={"text": f"due {job.payload['due']}"}, key=f"bench:{job.id}")


async def add(sessions, rows: list[dict]) -> None:
    async with sessions() as session, session.begin():
        for start in range(0, len(rows), 5000):
            await session.execute(insert(Job), rows[start:start + 5000])


def job_row(n: int, run_at: dt.datetime, tag: str, chats: int) -> dict:
    return {"kind": KIND, "run_at": run_at, "payload": {"chat": 1000 + n % chats, "due": run_at.timestamp()},
            "dedupe_key": f"{tag}:{n}", "status": "pending", "attempts": 0, "created_at": utcnow()}


async def run_backend(url: str, args: argparse.Namespace) -> dict[str, float]:
    await migrate(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    now = utcnow()
    await add(sessions, [job_row(n, now + dt.timedelta(days=30 + n % 300), "future", 500)
                         for n in range(args.pending)])
    await add(sessions, [job_row(n, now - dt.timedelta(seconds=1), "due", 500) for n in range(args.due)])
    runner = JobRunner(sessions, {KIND: notify}, "bench")
    started = time.perf_counter()
    cleared = 0
    while claimed := await runner.run_once():
        cleared += claimed
    elapsed = time.perf_counter() - started
    result = {"cleared": cleared, "seconds": elapsed, "per_second": cleared / elapsed}

    async with sessions() as session, session.begin():
        await session.execute(delete(OutboxMessage))
    base = utcnow() + dt.timedelta(seconds=2)
    lag_rows = [job_row(n, base + dt.timedelta(seconds=15 * n / args.lag_jobs), "lag", 10_000)
                for n in range(args.lag_jobs)]
    await add(sessions, lag_rows)
    async with FakeBotAPI() as server:
        bot = Bot("42:BENCH", session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
        sender = Sender(sessions, {"telegram": TelegramTransport(bot)}, "bench", privacy=PRIVACY,
                        limits=Limits())
        stop = asyncio.Event()
        loops = [asyncio.create_task(JobRunner(sessions, {KIND: notify}, "bench-lag").run_forever(stop)),
                 asyncio.create_task(sender.run_forever(stop))]
        await server.wait_for("sendMessage", lambda r: r.ok, count=args.lag_jobs, timeout=60)
        stop.set()
        await asyncio.gather(*loops)
        wall_minus_mono = time.time() - time.monotonic()
        lags = sorted(r.at + wall_minus_mono - float(r.params["text"].split()[1])
                      for r in server.calls("sendMessage", ok=True))
        await bot.session.close()
    await engine.dispose()
    result.update(lag_n=len(lags), lag_p50=statistics.median(lags),
                  lag_p95=lags[int(0.95 * (len(lags) - 1))], lag_max=lags[-1])
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=2000)
    parser.add_argument("--lag-jobs", type=int, default=60)
    parser.add_argument("--postgres", default=PG_URL)
    args = parser.parse_args()
    rows: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite+aiosqlite:///{tmp}/bench-{uuid.uuid4().hex}.db"
        rows.append(("sqlite", await run_backend(sqlite_url, args)))
    made = await pg_database(args.postgres)
    if made:
        try:
            rows.append(("postgresql", await run_backend(made[0], args)))
        finally:
            await drop(args.postgres, made[1])
    print(f"pending jobs in the table: {args.pending}")
    print(f"{'backend':<11} {'due jobs':>8} {'seconds':>8} {'jobs/s':>8} {'lag n':>6} {'p50 s':>6} "
          f"{'p95 s':>6} {'max s':>6}")
    for backend, r in rows:
        print(f"{backend:<11} {int(r['cleared']):>8} {r['seconds']:>8.2f} {r['per_second']:>8.1f} "
              f"{int(r['lag_n']):>6} {r['lag_p50']:>6.2f} {r['lag_p95']:>6.2f} {r['lag_max']:>6.2f}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
