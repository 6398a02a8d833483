"""The job runner: due jobs fire once, failures retry then give up, cancel and dedupe work."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

from sqlalchemy import func, select

from bot.delivery.outbox import enqueue
from bot.jobs import Deferred, JobRunner, cancel, schedule
from storage.db import create_engine, session_factory
from storage.models import Job, OutboxMessage
from storage.queue import claim_jobs

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def remind_handler(fired: list[str]):
    async def remind(session, job: Job) -> None:
        fired.append(job.payload["text"])
        await enqueue(session, channel="telegram", chat_id="-100", kind="text",
                      payload={"text": job.payload["text"]}, key=f"job:{job.id}")
    return remind


async def _jobs(sessions) -> dict[str, Job]:
    async with sessions() as session:
        return {j.dedupe_key or str(j.id): j for j in (await session.scalars(select(Job))).all()}


async def _outbox_count(sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_due_job_fires_once_with_its_effects(sessions) -> None:
    clock, fired = Clock(), []
    async with sessions() as session:
        await schedule(session, "remind", T0 + dt.timedelta(hours=1), {"text": "Hạn xử lý còn 3 ngày"},
                       dedupe_key="case:1:remind")
        await session.commit()
    runner = JobRunner(sessions, {"remind": remind_handler(fired)}, "w", clock=clock)
    assert await runner.run_once() == 0, "not due yet"
    clock.now = T0 + dt.timedelta(hours=1)
    assert await runner.run_once() == 1
    assert await runner.run_once() == 0
    assert fired == ["Hạn xử lý còn 3 ngày"]
    job = (await _jobs(sessions))["case:1:remind"]
    assert job.status == "done" and job.done_at == clock.now
    assert await _outbox_count(sessions) == 1


async def test_schedule_with_same_key_is_a_no_op(sessions) -> None:
    async with sessions() as session:
        first = await schedule(session, "remind", T0, {"text": "a"}, dedupe_key="k")
        again = await schedule(session, "remind", T0 + dt.timedelta(days=1), {"text": "b"}, dedupe_key="k")
        await session.commit()
    async with sessions() as session:
        third = await schedule(session, "remind", T0, {"text": "c"}, dedupe_key="k")
        await session.commit()
    assert first.id == again.id == third.id
    jobs = await _jobs(sessions)
    assert len(jobs) == 1 and jobs["k"].payload == {"text": "a"} and jobs["k"].run_at == T0


async def test_failing_handler_retries_with_backoff_then_fails_without_effects(sessions) -> None:
    clock = Clock()
    calls = 0

    async def broken(session, job: Job) -> None:
        nonlocal calls
        calls += 1
        await enqueue(session, channel="telegram", chat_id="1", kind="text", payload={"text": "x"},
                      key=f"broken:{calls}")
        raise RuntimeError("calendar missing")

    async with sessions() as session:
        await schedule(session, "escalate", T0, dedupe_key="esc")
        await session.commit()
    runner = JobRunner(sessions, {"escalate": broken}, "w", clock=clock, max_attempts=3, backoff_base=60,
                       rng=random.Random(0))
    await runner.run_once()
    job = (await _jobs(sessions))["esc"]
    assert (job.status, job.attempts) == ("pending", 1) and "calendar missing" in (job.last_error or "")
    assert T0 + dt.timedelta(seconds=30) <= job.run_at <= T0 + dt.timedelta(seconds=60)
    for _ in range(5):
        clock.now += dt.timedelta(hours=1)
        await runner.run_once()
    job = (await _jobs(sessions))["esc"]
    assert (job.status, job.attempts, calls) == ("failed", 3, 3)
    assert await _outbox_count(sessions) == 0, "a failed attempt leaves no messages behind"


async def test_unknown_kind_fails(sessions) -> None:
    async with sessions() as session:
        await schedule(session, "mystery", T0, dedupe_key="m")
        await session.commit()
    await JobRunner(sessions, {}, "w", clock=Clock()).run_once()
    job = (await _jobs(sessions))["m"]
    assert job.status == "failed" and "mystery" in (job.last_error or "")


async def test_cancel_by_prefix_and_case_then_reschedule(sessions) -> None:
    clock, fired = Clock(), []
    async with sessions() as session:
        await schedule(session, "remind", T0, {"text": "1a"}, dedupe_key="case:1:remind:a")
        await schedule(session, "remind", T0, {"text": "1b"}, dedupe_key="case:1:remind:b")
        await schedule(session, "remind", T0, {"text": "10"}, dedupe_key="case:10:remind:a")
        await schedule(session, "remind", T0, {"text": "no key"})
        await session.commit()
    async with sessions() as session:
        assert await cancel(session, key_prefix="case:1:") == 2
        await session.commit()
    runner = JobRunner(sessions, {"remind": remind_handler(fired)}, "w", clock=clock)
    await runner.run_once()
    assert sorted(fired) == ["10", "no key"]
    async with sessions() as session:
        await schedule(session, "remind", T0, {"text": "1a again"}, dedupe_key="case:1:remind:a")
        await session.commit()
    await runner.run_once()
    assert fired[-1] == "1a again"


async def test_cancel_by_case_id(sessions) -> None:
    from tests.test_sender import add_case

    case_id = await add_case(sessions)
    fired: list[str] = []
    async with sessions() as session:
        await schedule(session, "remind", T0, {"text": "c"}, case_id=case_id)
        await schedule(session, "remind", T0, {"text": "other"})
        await session.commit()
    async with sessions() as session:
        assert await cancel(session, case_id=case_id) == 1
        await session.commit()
    await JobRunner(sessions, {"remind": remind_handler(fired)}, "w", clock=Clock()).run_once()
    assert fired == ["other"]


async def test_crashed_runner_job_is_run_by_another_once(sessions) -> None:
    clock, fired = Clock(), []
    async with sessions() as session:
        await schedule(session, "remind", T0, {"text": "x"}, dedupe_key="x")
        await session.commit()
    async with sessions() as session:
        assert len(await claim_jobs(session, "dead", 10, 60, T0)) == 1
    runner = JobRunner(sessions, {"remind": remind_handler(fired)}, "w", clock=clock)
    assert await runner.run_once() == 0
    clock.now = T0 + dt.timedelta(seconds=61)
    assert await runner.run_once() == 1
    assert fired == ["x"]


async def test_two_runners_fire_each_job_once(db_url) -> None:
    engines = [create_engine(db_url), create_engine(db_url)]
    try:
        factories = [session_factory(e) for e in engines]
        async with factories[0]() as session:
            for n in range(40):
                await schedule(session, "remind", T0, {"text": f"j{n}"}, dedupe_key=f"j{n}")
            await session.commit()
        fired: list[str] = []
        runners = [JobRunner(f, {"remind": remind_handler(fired)}, f"w{i}", clock=Clock(), batch=3)
                   for i, f in enumerate(factories)]

        async def loop(runner: JobRunner) -> None:
            while await runner.run_once():
                continue

        await asyncio.gather(*(loop(r) for r in runners))
        assert sorted(fired) == sorted(f"j{n}" for n in range(40))
        assert await _outbox_count(factories[0]) == 40
    finally:
        for e in engines:
            await e.dispose()


async def test_a_deferred_job_runs_again_when_it_asked_without_its_writes_or_an_attempt(sessions) -> None:
    clock, asked = Clock(), []

    async def not_yet(session, job: Job) -> None:
        asked.append(clock.now)
        if len(asked) == 1:
            await enqueue(session, channel="telegram", chat_id="-100", kind="text", payload={"text": "sớm"},
                          key="too-early")
            raise Deferred(T0 + dt.timedelta(minutes=10))
        await enqueue(session, channel="telegram", chat_id="-100", kind="text", payload={"text": "đúng"},
                      key="on-time")

    async with sessions() as session:
        await schedule(session, "digest", T0, {}, dedupe_key="digest")
        await session.commit()
    runner = JobRunner(sessions, {"digest": not_yet}, "w", clock=clock)
    assert await runner.run_once() == 1
    job = (await _jobs(sessions))["digest"]
    assert (job.status, job.attempts, job.run_at, job.last_error) == (
        "pending", 0, T0 + dt.timedelta(minutes=10), None)
    assert await _outbox_count(sessions) == 0, "what the deferred run wrote is rolled back"
    assert await runner.run_once() == 0
    clock.now = T0 + dt.timedelta(minutes=10)
    assert await runner.run_once() == 1
    assert (await _jobs(sessions))["digest"].status == "done"
    assert await _outbox_count(sessions) == 1 and len(asked) == 2
