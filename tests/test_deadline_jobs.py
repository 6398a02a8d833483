"""Deadline jobs follow the case: each deadline change replans them in its transaction, rules configure
them, and a bot that was down (or is asked at night) sends each group one digest on the next morning."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import deadline_jobs, digest
from bot.cases import Citizen, Draft, submit
from bot.cli import main
from bot.clock import Clock
from bot.jobs import JobRunner
from bot.relay import citizen_answer
from bot.rules import Rules
from storage.models import Case, Job, OutboxMessage
from storage.queue import claim_jobs
from tests import officer_acts as acts
from tests import sealed
from tests.officer_kit import CHATS, CITIZEN, bind_groups, load, make_case, mark_sent, officer

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT = Path(__file__).resolve().parent.parent


def local(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=HANOI).astimezone(dt.UTC)


async def pending(core, case_id: int) -> dict[str, dt.datetime]:
    async with core.sessions() as session:
        rows = (
            await session.scalars(select(Job).where(Job.case_id == case_id, Job.status == "pending"))
        ).all()
    return {str(j.dedupe_key).split(":", 2)[2]: j.run_at for j in rows}


async def digests(core, chat_id: str) -> list[str]:
    async with core.sessions() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id)
            )
        ).all()
    return [r.payload["text"] for r in rows if r.payload.get("text", "").startswith("🗓")]


async def new_case(core, **kwargs) -> Case:
    case = await make_case(core, cooperating=(), **kwargs)
    async with core.sessions() as session, session.begin():
        row = await session.get(Case, case.id)
        assert row is not None
        await deadline_jobs.replan(session, core, row)
    return case


# ---- rules ----------------------------------------------------------------------------------------------


def test_sample_rules_name_a_supervisor_and_reminder_days(sample_rules: Rules) -> None:
    assert [a.id for a in sample_rules.agencies if a.supervises] == ["noi-chinh"]
    denunciation = next(p for p in sample_rules.deadlines if p.id == "denunciation")
    assert denunciation.remind_before == [3, 1, 0] and denunciation.waiting_days == 10


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("    remind_before: [3, -1]\n", "reminder days must not be negative (got -1)"),
        ("    remind_before: [2, 1, 2]\n", "reminder day 2 is listed twice"),
        ("    waiting_days: 0\n", "waiting_days: Input should be greater than 0"),
        ("    remind_before: [soon]\n", "remind_before.0: Input should be a valid integer"),
    ],
)
def test_check_rules_reports_bad_reminder_settings_with_their_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, message: str
) -> None:
    sample = (ROOT / "rules" / "quang-ninh.yaml").read_text(encoding="utf-8")
    anchor = "    valid_from: 2012-07-01\n"
    line = sample[: sample.index(anchor) + len(anchor)].count("\n") + 1
    path = tmp_path / "rules.yaml"
    path.write_text(sample.replace(anchor, anchor + setting, 1), encoding="utf-8")
    assert main(["check-rules", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert any(e.startswith(f"{path}:{line}: ") and message in e for e in err), err


# ---- replanning on every deadline change ----------------------------------------------------------------


async def test_a_submitted_case_gets_its_reminders_and_overdue_job(core) -> None:
    core.clock = Clock(movable=True, start=local(2027, 1, 27))
    draft = Draft(kind="denunciation", summary="Cán bộ địa chính thu tiền để cấp sổ đỏ nhanh")
    async with core.sessions() as session, session.begin():
        filed = await submit(session, core, Citizen("telegram", "7001", "7001"), draft)
    assert filed.case.due_on == dt.date(2027, 2, 12)
    jobs = await pending(core, filed.case.id)
    assert jobs == {
        "classify:2027-02-12:remind:3": local(2027, 2, 2, 8),
        "classify:2027-02-12:remind:1": local(2027, 2, 11, 8),
        "classify:2027-02-12:remind:0": local(2027, 2, 12, 8),
        "classify:2027-02-12:overdue:2027-02-15": local(2027, 2, 15, 8),
    }


async def test_each_deadline_change_moves_or_cancels_the_jobs(core) -> None:
    core.clock = Clock(movable=True, start=local(2027, 1, 27))
    await bind_groups(core)
    lead = officer("thanh-tra")
    case = await new_case(core, stage="classify", due_on=dt.date(2027, 2, 12))

    await acts.accept(core, lead, case.id, (await load(core, case.id)).version)
    jobs = await pending(core, case.id)
    assert set(jobs) == {
        "resolve:2027-02-26:remind:3",
        "resolve:2027-02-26:remind:1",
        "resolve:2027-02-26:remind:0",
        "resolve:2027-02-26:overdue:2027-03-01",
    }

    await acts.request_info(core, lead, case.id, None, "Ông/Bà cho biết thêm thời gian?")
    jobs = await pending(core, case.id)
    assert list(jobs) == [f"waiting:{(await load(core, case.id)).paused_at.isoformat()}:10"]  # type: ignore
    assert jobs.popitem()[1] == local(2027, 2, 11, 8), "10 days after 27/01 is Tết: the next working morning"

    await acts.transfer(core, lead, case.id, None, "ubkt", "Đảng viên vi phạm")
    jobs = await pending(core, case.id)
    assert {k.split(":")[0] for k in jobs} == {"classify"}, "the new lead's acceptance stage"

    await acts.reject(core, officer("ubkt"), case.id, None, "anonymous", "Không rõ nội dung")
    assert await pending(core, case.id) == {}


async def test_extend_and_resolve_replan(core) -> None:
    core.clock = Clock(movable=True, start=local(2027, 3, 1))
    await bind_groups(core)
    lead = officer("thanh-tra")
    case = await new_case(core, stage="classify", due_on=dt.date(2027, 3, 10))
    await acts.accept(core, lead, case.id, (await load(core, case.id)).version)
    await acts.extend(core, lead, case.id, None, "Phức tạp")
    due = (await load(core, case.id)).due_on
    assert due == dt.date(2027, 5, 4), "31/03 + 30 days is 30/04, a holiday, then 1/5 and a weekend"
    jobs = await pending(core, case.id)
    assert jobs and all(k.startswith(f"resolve:{due.isoformat()}:") for k in jobs)  # type: ignore[union-attr]
    await acts.resolve(core, lead, case.id, None, "Đã giải quyết")
    assert await pending(core, case.id) == {}


# ---- quiet hours and downtime ---------------------------------------------------------------------------


async def test_a_bot_back_at_night_waits_for_the_morning_and_sends_one_digest(core) -> None:
    """Down from Tuesday to Saturday night: the missed jobs run once at start, nothing goes out at night
    or on Sunday, and on Monday morning each group gets one digest with every line."""
    core.clock = Clock(movable=True, start=local(2027, 3, 1))
    await bind_groups(core)
    for n, due in enumerate((dt.date(2027, 3, 3), dt.date(2027, 3, 4), dt.date(2027, 3, 5))):
        await new_case(core, code=f"ABCD-000{n}", stage="classify", due_on=due)
    await digest.on_start(core)
    runner = JobRunner(core.sessions, deadline_jobs.job_handlers(core), "w", clock=core.clock.now)
    core.clock.set(local(2027, 3, 6, 23))  # Saturday 23:00
    ran = 0
    while batch := await runner.run_once():
        ran += batch
    assert ran > 0
    assert await digests(core, CHATS["thanh-tra"]) == [], "nothing at night"
    core.clock.set(local(2027, 3, 7, 12))  # Sunday noon
    while await runner.run_once():
        pass
    assert await digests(core, CHATS["thanh-tra"]) == [], "nothing on a day off"
    core.clock.set(local(2027, 3, 8, 8, 6))  # Monday morning
    while await runner.run_once():
        pass
    sent = await digests(core, CHATS["thanh-tra"])
    assert len(sent) == 1
    assert "3 vụ việc quá hạn" in sent[0]
    assert all(f"ABCD-000{n}" in sent[0] for n in range(3))
    assert sent[0].count("ABCD-0000") == 1, "missed reminders of a day already overdue are not repeated"
    assert len(await digests(core, CHATS["noi-chinh"])) == 1


async def test_an_action_on_an_overdue_case_keeps_the_daily_overdue_notice(core) -> None:
    core.clock = Clock(movable=True, start=local(2027, 3, 1))
    await bind_groups(core)
    case = await new_case(core, stage="classify", due_on=dt.date(2027, 3, 3))
    runner = JobRunner(core.sessions, deadline_jobs.job_handlers(core), "w", clock=core.clock.now)
    core.clock.set(local(2027, 3, 4, 9))  # Thursday: the first overdue notice ran at 08:00
    while await runner.run_once():
        pass
    await acts.watch(core, officer("thanh-tra"), case.id, None)
    assert list(await pending(core, case.id)) == ["classify:2027-03-03:overdue:2027-03-05"]
    for minute in (30, 40):  # the notice at 08:30 goes out in a digest within five minutes
        core.clock.set(local(2027, 3, 5, 8, minute))
        while await runner.run_once():
            pass
    [sent] = await digests(core, CHATS["thanh-tra"])  # Thursday's, never sent, folds into Friday's
    assert "quá 2 ngày làm việc" in sent and "quá 1 ngày" not in sent


async def test_digest_time_sets_the_working_morning(core) -> None:
    assert digest.morning(core, dt.date(2027, 2, 5)) == local(2027, 2, 11, 8), "Tết: the first morning after"
    core.settings.digest_time = dt.time(7, 30)
    assert digest.morning(core, dt.date(2027, 3, 2)) == local(2027, 3, 2, 7, 30)
    assert digest.daily_slot(core, dt.date(2027, 3, 6)) == local(2027, 3, 8, 7, 35), "Saturday: Monday"


async def test_referring_to_investigators_moves_the_reminders_to_the_new_lead(core) -> None:
    core.clock = Clock(movable=True, start=local(2027, 3, 1))
    await bind_groups(core)
    case = await new_case(core, stage="classify", due_on=dt.date(2027, 3, 10))
    await acts.refer_to_investigators(core, officer("thanh-tra"), case.id, None, "Có dấu hiệu tội phạm")
    row = await load(core, case.id)
    assert row.lead_agency_id == "cong-an" and row.stage == "verify"
    jobs = await pending(core, case.id)
    assert jobs and all(k.startswith(f"verify:{row.due_on.isoformat()}:") for k in jobs)  # type: ignore[union-attr]
    runner = JobRunner(core.sessions, deadline_jobs.job_handlers(core), "w", clock=core.clock.now)
    for minutes in (1, 11):  # the reminder, then the digest it asked for
        core.clock.set(digest.daily_slot(core, row.due_on) + dt.timedelta(minutes=minutes))  # type: ignore
        while await runner.run_once():
            pass
    sent = await digests(core, CHATS["cong-an"])
    assert sent and "hôm nay" in sent[-1] and await digests(core, CHATS["thanh-tra"]) == []


# ---- missed mornings fold into one digest ---------------------------------------------------------------


async def _run_due(runner: JobRunner) -> None:
    while await runner.run_once():
        pass


async def test_a_clock_moved_from_morning_to_morning_never_replays_a_missed_line(core) -> None:
    """As in the demo: the clock is moved to 08:00 of a later date before each morning's digest (08:05)
    went out. The digest that goes states the case as it stands that day, once."""
    core.clock = Clock(movable=True, start=local(2026, 12, 14))
    await bind_groups(core)
    await new_case(core, stage="classify", due_on=dt.date(2026, 12, 18))  # Friday
    await digest.on_start(core)
    runner = JobRunner(core.sessions, deadline_jobs.job_handlers(core), "w", clock=core.clock.now)
    expected = {15: None, 17: "còn 1 ngày làm việc", 18: "hạn hôm nay 18/12/2026", 21: "quá 1 ngày làm việc"}
    mornings = 0
    for day, words in expected.items():
        core.clock.set(local(2026, 12, day, 8))
        await _run_due(runner)
        sent = await digests(core, CHATS["thanh-tra"])
        if words is None:  # the first morning: its digest would go at 08:05
            assert sent == []
            continue
        mornings += 1
        assert len(sent) == mornings, sent  # one digest each morning
        assert sent[-1].startswith(f"🗓 Nhắc hạn xử lý ngày {day}/12/2026"), sent[-1]
        assert sent[-1].count("ABCD-EFGH") == 1 and words in sent[-1], sent[-1]


async def test_stopped_between_the_overdue_notice_and_its_digest_each_group_hears_of_the_case_once(
    core,
) -> None:
    """The overdue notice ran on Monday at 08:00 and the bot stopped before the digest; back on Tuesday,
    the lead and the supervisor each get one line: two working days late, the supervisor's an
    escalation, since it was never told."""
    core.clock = Clock(movable=True, start=local(2026, 12, 18, 10))
    await bind_groups(core)
    await new_case(core, stage="classify", due_on=dt.date(2026, 12, 18))
    await digest.on_start(core)
    runner = JobRunner(core.sessions, deadline_jobs.job_handlers(core), "w", clock=core.clock.now)
    core.clock.set(local(2026, 12, 21, 8, 1))
    await _run_due(runner)
    assert await digests(core, CHATS["thanh-tra"]) == []  # stopped here, before 08:05
    core.clock.set(local(2026, 12, 22, 9, 30))
    await _run_due(runner)
    [lead] = await digests(core, CHATS["thanh-tra"])
    assert lead.count("ABCD-EFGH") == 1 and "quá 2 ngày làm việc" in lead, lead
    [supervisor] = await digests(core, CHATS["noi-chinh"])
    assert supervisor.count("ABCD-EFGH") == 1, supervisor
    assert "đôn đốc" in supervisor and "quá 2 ngày làm việc" in supervisor, supervisor


async def test_a_digest_waits_for_the_lease_of_a_dead_runner_on_its_lines(core) -> None:
    """A runner died holding the morning's overdue job: the digest does not go without its line, nor
    spin while it waits; when the lease runs out the job is taken over and one digest says it."""
    core.clock = Clock(movable=True, start=local(2026, 12, 18, 10))
    await bind_groups(core)
    await new_case(core, stage="classify", due_on=dt.date(2026, 12, 18))
    await digest.on_start(core)
    core.clock.set(local(2026, 12, 21, 8, 6))
    async with core.sessions() as session:
        held = await claim_jobs(session, "dead", 1, 300, core.clock.now())
    assert [j.kind for j in held] == [deadline_jobs.OVERDUE]
    runner = JobRunner(core.sessions, deadline_jobs.job_handlers(core), "w", clock=core.clock.now)
    assert await runner.run_once() == 1
    assert await runner.run_once() == 0, "the digest is put off until the lease ends, not retried at once"
    assert await digests(core, CHATS["thanh-tra"]) == []
    async with core.sessions() as session:
        waiting = await session.scalar(select(Job).where(Job.kind == digest.KIND, Job.status == "pending"))
    assert waiting is not None and waiting.attempts == 0
    assert waiting.run_at == held[0].claimed_until
    core.clock.set(local(2026, 12, 21, 8, 12))
    await _run_due(runner)
    [sent] = await digests(core, CHATS["thanh-tra"])
    assert "quá 1 ngày làm việc" in sent


async def test_a_waiting_line_from_an_earlier_question_is_not_said_of_the_next_one(core) -> None:
    """Ten days' wait was noted at 08:00; before its digest the citizen answered and the officer asked
    again: the digest does not say the case has waited ten days."""
    core.clock = Clock(movable=True, start=local(2026, 12, 1))
    await bind_groups(core)
    lead = officer("thanh-tra")
    case = await new_case(core, stage="classify", due_on=dt.date(2026, 12, 10))
    await acts.request_info(core, lead, case.id, None, "Ông/Bà gửi thêm biên lai?")
    runner = JobRunner(core.sessions, deadline_jobs.job_handlers(core), "w", clock=core.clock.now)
    core.clock.set(local(2026, 12, 11, 8, 1))
    await _run_due(runner)  # the wait is noted for the 08:05 digest
    question = (await sealed.rows_to(core, CITIZEN))[-1]  # the citizen's rows are sealed, keyed by a hash
    await mark_sent(core, question.id, "9001")
    await citizen_answer(core, channel="telegram", user_id=CITIZEN, chat_id=CITIZEN, replied_to="9001",
                         text="Tôi gửi biên lai")
    await acts.request_info(core, lead, case.id, None, "Biên lai ngày nào?")
    core.clock.set(local(2026, 12, 11, 8, 10))
    await _run_due(runner)
    assert not [d for d in await digests(core, CHATS["thanh-tra"]) if "đã chờ" in d]


async def test_a_watched_overdue_case_is_one_line_of_the_secretariats_digest(core) -> None:
    core.clock = Clock(movable=True, start=local(2026, 12, 17))
    await bind_groups(core)
    case = await new_case(core, stage="classify", due_on=dt.date(2026, 12, 18))
    await acts.watch(core, officer("thanh-tra"), case.id, None)
    await digest.on_start(core)
    runner = JobRunner(core.sessions, deadline_jobs.job_handlers(core), "w", clock=core.clock.now)
    core.clock.set(local(2026, 12, 21, 8, 10))
    await _run_due(runner)
    [sent] = await digests(core, CHATS["noi-chinh"])
    assert sent.count("ABCD-EFGH") == 1, sent
    assert _line_of(sent, "ABCD-EFGH").endswith("quá 1 ngày làm việc · 👁 diện theo dõi, chỉ đạo"), sent
    assert "đôn đốc" in sent and "vụ việc diện theo dõi" not in sent, sent


def _line_of(text: str, code: str) -> str:
    [line] = [line for line in text.split("\n") if code in line]
    return line
