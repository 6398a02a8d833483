"""A denunciation walked across Tết 2027 with a movable clock: the deadlines keep themselves.

Received Wed 27/01/2027; Tết closes offices Thu 04/02 to Wed 10/02/2027. The classification stage (7
working days, Luật Tố cáo 2018 Điều 24) is due Fri 12/02. Nobody accepts it in time, so it is overdue on
Mon 15/02 and the supervising agency (Ban Nội chính) is told. Accepted on 16/02, the resolution stage
(30 days) is due 18/03; a question to the citizen on 22/02 pauses it until the answer on 08/03 (due
01/04); an extension moves it past the 30/4-1/5 holidays to Tue 04/05; it goes overdue again on 05/05,
and once resolved the bot goes quiet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot import deadline_jobs
from bot.clock import Clock
from bot.jobs import JobRunner
from bot.relay import citizen_answer
from storage.models import Case, Job, OutboxMessage
from tests import officer_acts as acts
from tests.officer_kit import CHATS, CITIZEN, bind_groups, load, make_case, mark_sent, officer, outbox
from tests.sealed import unsealed

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
LEAD, SUPERVISOR = CHATS["thanh-tra"], CHATS["noi-chinh"]
TITLE = "🗓 Nhắc hạn xử lý"


def local(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=HANOI).astimezone(dt.UTC)


@dataclass
class Sent:
    at: dt.datetime  # UTC, by the bot's clock
    chat_id: str
    text: str

    @property
    def day(self) -> dt.date:
        return self.at.astimezone(HANOI).date()


class Walk:
    """Moves the clock from one due job to the next, running the jobs, and keeps every digest queued."""

    def __init__(self, core) -> None:
        self.core = core
        self.runner = JobRunner(
            core.sessions, deadline_jobs.job_handlers(core), "walker", clock=core.clock.now
        )
        self.sent: list[Sent] = []
        self.last_id = 0

    async def until(self, moment: dt.datetime) -> None:
        while True:
            async with self.core.sessions() as session:
                due = await session.scalar(select(func.min(Job.run_at)).where(Job.status == "pending"))
            if due is None or due > moment:
                break
            if due > self.core.clock.now():
                self.core.clock.set(due)
            while await self.runner.run_once():
                pass
            await self._collect()
        if moment > self.core.clock.now():
            self.core.clock.set(moment)

    async def _collect(self) -> None:
        async with self.core.sessions() as session:
            rows = (
                await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.id > self.last_id).order_by(OutboxMessage.id)
                )
            ).all()
        for row in (unsealed(self.core, r) for r in rows):
            self.last_id = row.id
            if row.payload.get("text", "").startswith(TITLE):
                self.sent.append(Sent(self.core.clock.now(), row.chat_id, row.payload["text"]))

    def to(self, chat_id: str, since: dt.date | None = None) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id and (since is None or s.day >= since)]


def days(items: list[Sent]) -> list[dt.date]:
    return [s.day for s in items]


async def _version(core, case_id: int) -> int:
    return (await load(core, case_id)).version


async def test_a_denunciation_across_tet_2027(core) -> None:
    core.clock = Clock(movable=True, start=local(2027, 1, 27))
    await bind_groups(core)
    case = await make_case(core, cooperating=(), stage="classify", due_on=dt.date(2027, 2, 12))
    async with core.sessions() as session, session.begin():
        await deadline_jobs.replan(session, core, await session.get(Case, case.id))
    await deadline_jobs.on_start(core)
    walk = Walk(core)
    lead = officer("thanh-tra")

    # Classification: 3 working days before is 02/02, 1 working day before is 11/02 (not 10/02, Tết)
    await walk.until(local(2027, 2, 16, 9))
    assert days(walk.to(LEAD)) == [
        dt.date(2027, 2, 2),
        dt.date(2027, 2, 11),
        dt.date(2027, 2, 12),
        dt.date(2027, 2, 15),
        dt.date(2027, 2, 16),
    ]
    first = walk.to(LEAD)
    assert "còn 3 ngày làm việc" in first[0].text and "ABCD-EFGH" in first[0].text
    assert "1 vụ việc sắp đến hạn" in first[0].text
    assert "còn 1 ngày làm việc" in first[1].text
    assert "hạn hôm nay 12/02/2027" in first[2].text
    assert "1 vụ việc quá hạn" in first[3].text and "quá 1 ngày làm việc" in first[3].text
    assert "quá 2 ngày làm việc" in first[4].text
    # the supervising agency: told once (escalation), then the case is in its digest each morning
    sup = walk.to(SUPERVISOR)
    assert days(sup) == [dt.date(2027, 2, 15), dt.date(2027, 2, 16)]
    assert "đôn đốc" in sup[0].text and "Thanh tra tỉnh" in sup[0].text
    assert "đôn đốc" not in sup[1].text and "quá 2 ngày làm việc" in sup[1].text

    # Accepted on 16/02 (resolution due 18/03) and put on the watch list
    await acts.accept(core, lead, case.id, await _version(core, case.id))
    await acts.watch(core, lead, case.id, await _version(core, case.id))
    assert (await load(core, case.id)).due_on == dt.date(2027, 3, 18)

    # Asked the citizen on 22/02: the clock stops; after 10 days (04/03) the officer is told
    await walk.until(local(2027, 2, 22, 10))
    await acts.request_info(core, lead, case.id, await _version(core, case.id), "Ông/Bà gửi thêm biên lai?")
    question = (await outbox(core, chat_id=CITIZEN, kind="text"))[-1]
    await mark_sent(core, question.id, "9001")
    await walk.until(local(2027, 3, 8, 10))
    waiting = walk.to(LEAD, since=dt.date(2027, 2, 17))
    assert days(waiting) == [dt.date(2027, 3, 4)]
    assert "đã chờ 10 ngày" in waiting[0].text

    # The answer on 08/03 restarts the clock: 14 days paused, due 01/04
    await citizen_answer(
        core, channel="telegram", user_id=CITIZEN, chat_id=CITIZEN, replied_to="9001", text="Tôi gửi biên lai"
    )
    assert (await load(core, case.id)).due_on == dt.date(2027, 4, 1)
    await walk.until(local(2027, 3, 30, 10))
    assert days(walk.to(LEAD, since=dt.date(2027, 3, 5))) == [dt.date(2027, 3, 29)]

    # Extended on 30/03: 01/04 + 30 days is Sat 01/05, a holiday; the deadline is Tue 04/05
    await acts.extend(core, lead, case.id, await _version(core, case.id), "Vụ việc phức tạp")
    assert (await load(core, case.id)).due_on == dt.date(2027, 5, 4)
    await walk.until(local(2027, 5, 6, 12))
    assert days(walk.to(LEAD, since=dt.date(2027, 3, 30))) == [
        dt.date(2027, 4, 27),
        dt.date(2027, 4, 29),
        dt.date(2027, 5, 4),
        dt.date(2027, 5, 5),
        dt.date(2027, 5, 6),
    ]
    # a new stage overdue is a new escalation
    late = walk.to(SUPERVISOR, since=dt.date(2027, 5, 5))
    assert "đôn đốc" in late[0].text and "Giải quyết tố cáo" in late[0].text

    # The watch list: one weekly line in the secretariat's digest while the case is open
    watch_weeks = [
        s.day.isocalendar()[:2] for s in walk.to(SUPERVISOR) if "theo dõi, chỉ đạo (hằng" in s.text
    ]
    assert len(watch_weeks) == len(set(watch_weeks)) >= 10

    # Resolved: every deadline job is cancelled and the digests go quiet
    await acts.resolve(core, lead, case.id, await _version(core, case.id), "Kết luận: tố cáo đúng một phần")
    before = len(walk.sent)
    await walk.until(local(2027, 6, 1, 12))
    assert len(walk.sent) == before

    # Nothing ever arrived at night or on a day off
    for sent in walk.sent:
        moment = sent.at.astimezone(HANOI)
        assert core.calendar.is_working_day(moment.date()), sent
        assert dt.time(8) <= moment.time() < dt.time(17), sent
    # One message per group per morning
    per_morning = [(s.chat_id, s.day) for s in walk.sent]
    assert len(per_morning) == len(set(per_morning))
