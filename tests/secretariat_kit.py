"""Test data for the secretariat: a movable clock, bound groups and a look into the outbox and jobs."""

from __future__ import annotations

import base64
import datetime as dt
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlalchemy import select

from bot.clock import Clock
from bot.core import Core
from bot.jobs import JobRunner
from bot.secretariat import job_handlers
from storage.models import AgencyChat, Job, Meeting, OutboxMessage
from tests import tg

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
NOI_CHINH, THANH_TRA = "-1001", "-1002"
START = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in Hanoi
REVIEW = dt.datetime(2026, 12, 17, 8, 0, tzinfo=HANOI)  # the six-monthly review: third Thursday of December
REVIEW_RULE = "FREQ=YEARLY;BYMONTH=6,12;BYDAY=+3TH"  # the sample rules' six-monthly review, at 08:00
REVIEW_TITLE = "Họp đánh giá kết quả chương trình phối hợp giữa Ban Nội chính Tỉnh ủy và Thanh tra tỉnh"


def local(year: int, month: int, day: int, hour: int = 8, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=HANOI).astimezone(dt.UTC)


def next_review(after: dt.datetime) -> dt.datetime:
    """The first six-monthly review (08:00 local) at least ten days after `after`, for tests whose clock
    can only move forward from the real time."""
    rule = rrulestr(REVIEW_RULE, dtstart=dt.datetime(2026, 1, 1, 8, 0))
    found = rule.after((after + dt.timedelta(days=10)).astimezone(HANOI).replace(tzinfo=None))
    assert found is not None
    return found.replace(tzinfo=HANOI)


def movable(core: Core, start: dt.datetime = START) -> Core:
    core.clock = Clock(movable=True, start=start)
    return core


async def bind(core: Core, **chats: str) -> None:
    chats = chats or {"noi_chinh": NOI_CHINH, "thanh_tra": THANH_TRA}
    async with core.sessions() as session, session.begin():
        for agency, chat_id in chats.items():
            session.add(AgencyChat(agency_id=agency.replace("_", "-"), channel="telegram", chat_id=chat_id))


def runner(core: Core, worker: str = "w1") -> JobRunner:
    return JobRunner(core.sessions, job_handlers(core), worker, clock=core.clock.now)


async def run_jobs_until(core: Core, moment: dt.datetime, *runners: JobRunner) -> None:
    """Move the clock to `moment` and run every job due by then."""
    core.clock.set(moment)
    for r in runners or (runner(core),):
        while await r.run_once():
            pass


async def outbox(core: Core, chat_id: str | None = None, kind: str | None = None) -> list[OutboxMessage]:
    async with core.sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if chat_id is not None:
            query = query.where(OutboxMessage.chat_id == chat_id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return list((await session.execute(query)).scalars())


async def texts(core: Core, chat_id: str) -> list[str]:
    return [m.payload.get("text", "") for m in await outbox(core, chat_id, "text")]


def file_bytes(message: OutboxMessage) -> bytes:
    return base64.b64decode(message.payload["data"])


async def meeting_of(core: Core, schedule_id: str = "noi-chinh-thanh-tra-6-thang") -> Meeting:
    async with core.sessions() as session:
        return (
            (
                await session.execute(
                    select(Meeting).where(Meeting.schedule_id == schedule_id).order_by(Meeting.starts_at)
                )
            )
            .scalars()
            .first()
        )


async def jobs_of(core: Core, prefix: str) -> list[Job]:
    async with core.sessions() as session:
        rows = await session.execute(
            select(Job).where(Job.dedupe_key.startswith(prefix)).order_by(Job.run_at)
        )
        return list(rows.scalars())


def button_data(message: OutboxMessage, index: int = 0) -> str:
    """The Telegram callback data of a queued message's button."""
    buttons = [b for row in message.payload["buttons"] for b in row]
    return tg.wire(buttons[index])


async def prompt_id(core: Core, chat_id: str, user_id: int) -> int:
    """The message id of the prompt the bot waits for an answer to from this person in this chat."""
    from storage.models import SecretariatInput

    async with core.sessions() as session:
        pending = (
            await session.execute(
                select(SecretariatInput).where(
                    SecretariatInput.chat_id == str(chat_id), SecretariatInput.user_id == str(user_id)
                )
            )
        ).scalar_one()
    return int(pending.data["prompt"])
