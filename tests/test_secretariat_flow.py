"""The secretariat as a new user meets it: bind two groups, start on the sample rules, and follow the
six-monthly review with a movable clock through Telegram updates: reminders at the right local times,
attendance by button, an agenda with the right figures, a decision recorded, reminded, closed, and on the
next agenda."""

from __future__ import annotations

import datetime as dt
import io

from aiogram.methods import AnswerCallbackQuery
from aiogram.types import ForceReply
from docx import Document
from sqlalchemy import select

from bot import cards
from bot.secretariat import on_start
from handlers.telegram import build_dispatcher
from storage.models import AuditEvent, Case, Decision
from tests import tg
from tests.officer_kit import load, make_case
from tests.secretariat_kit import (
    NOI_CHINH,
    THANH_TRA,
    button_data,
    file_bytes,
    jobs_of,
    local,
    meeting_of,
    movable,
    outbox,
    prompt_id,
    run_jobs_until,
    texts,
)

ADMIN = 1000
SECRETARY, INSPECTOR = 601, 602


async def _cases(core) -> dict[str, int]:
    """Cases of the two agencies: two received in the period by the Inspectorate (one watched and
    overdue), one resolved on time by the Internal Affairs Commission, one older still open."""
    old = await make_case(core, code="CU00-0001", lead="thanh-tra", cooperating=())
    new = await make_case(core, code="MOI0-0001", lead="thanh-tra", cooperating=())
    late = await make_case(core, code="TRE0-0001", lead="thanh-tra", cooperating=())
    done = await make_case(core, code="XONG-0001", lead="noi-chinh", cooperating=(), kind="corruption_tip")
    async with core.sessions() as session, session.begin():
        for case_id, received, due in (
            (new.id, dt.date(2026, 11, 20), dt.date(2026, 12, 1)),
            (late.id, dt.date(2026, 7, 1), dt.date(2026, 11, 30)),
            (done.id, dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        ):
            case = await session.get(Case, case_id)
            case.received_on, case.due_on = received, due
        (await session.get(Case, late.id)).watched = True
        resolved = await session.get(Case, done.id)
        resolved.status = "resolved"
        session.add(
            AuditEvent(
                case_id=done.id,
                actor_type="officer",
                agency_id="noi-chinh",
                action="resolved",
                at=local(2026, 11, 2, 9),
                before={"due_on": "2026-12-31"},
            )
        )
    return {"old": old.id, "new": new.id, "late": late.id, "done": done.id}


def _sent_markup(bot: tg.MockedBot):
    return bot.sent[-1].reply_markup


async def _press(dp, bot, chat: int, user: int, data: str) -> None:
    await dp.feed_update(bot, tg.update(tg.callback_query(user, data, chat_id=chat)))
    answer = bot.calls(AnswerCallbackQuery)[-1]
    assert not answer.show_alert, answer.text


async def _answer_prompt(core, dp, bot, chat: int, user: int, text: str) -> str:
    """Reply to the bot's prompt as a person in the group; returns the bot's answer."""
    prompt = bot.sent[-1]
    assert isinstance(prompt.reply_markup, ForceReply), prompt.text
    before = len(bot.sent)
    asked = await prompt_id(core, str(chat), user)
    await dp.feed_update(bot, tg.update(tg.reply(chat, user, asked, text, to_text=prompt.text)))
    assert len(bot.sent) == before + 1
    return bot.sent[-1].text


async def test_the_six_monthly_review_from_binding_to_the_next_agenda(core):
    movable(core)
    dp, bot = build_dispatcher(core), tg.MockedBot()
    for chat, agency in ((NOI_CHINH, "noi-chinh"), (THANH_TRA, "thanh-tra")):
        await dp.feed_update(bot, tg.update(tg.group_message(int(chat), ADMIN, f"/bind {agency}")))
    ids = await _cases(core)
    accept = tg.case_button(
        core, "thanh-tra", ids["new"], (await load(core, ids["new"])).version, cards.ACCEPT
    )
    await _press(dp, bot, int(THANH_TRA), INSPECTOR, accept)
    await on_start(core)
    review = await meeting_of(core)

    # reminders: nothing before 08:00 local a week before, then one in each group
    await run_jobs_until(core, local(2026, 12, 10, 7, 59))
    assert not [t for t in await texts(core, THANH_TRA) if "Nhắc lịch họp" in t]
    await run_jobs_until(core, local(2026, 12, 10, 8, 1))
    for chat in (NOI_CHINH, THANH_TRA):
        [reminder] = [t for t in await texts(core, chat) if "Nhắc lịch họp (còn 7 ngày)" in t]
        assert "08:00 17/12/2026" in reminder
    done = {j.payload["offset"]: j for j in await jobs_of(core, f"meeting:{review.id}:v0:remind")}
    assert done["7d"].status == "done" and done["7d"].run_at == local(2026, 12, 10, 8)

    # the agenda went out with the first reminder, with the figures since the June review
    [agenda] = [t for t in await texts(core, THANH_TRA) if t.startswith("📋 Chương trình họp")]
    assert "Số liệu từ 18/06/2026 đến 10/12/2026" in agenda
    inspectorate = agenda.split("• Thanh tra tỉnh")[1].split("• ")[0]
    assert (
        "Tiếp nhận 2; thụ lý 1; nhận chuyển đến 0; chuyển đi 0; giải quyết xong 0; từ chối 0" in inspectorate
    )
    assert "Đang quá hạn 2" in inspectorate  # the watched case and the old one
    assert "Diện theo dõi, chỉ đạo 1" in inspectorate
    assert (
        "Hồ sơ tồn đọng lâu nhất: CU00-0001 (02/03/2026), TRE0-0001 (01/07/2026), MOI0-0001 (20/11/2026)"
        in inspectorate
    )
    commission = agenda.split("• Ban Nội chính")[1]
    assert "Tiếp nhận 1;" in commission and "giải quyết xong 1" in commission
    assert "giải quyết đúng hạn 100%" in commission
    first = core.calendar.working_days_between(dt.date(2026, 10, 1), dt.date(2026, 11, 2))
    assert f"xử lý đầu tiên: {first}" in commission
    assert "Nguyễn Thị Mai" not in agenda and "0912345678" not in agenda
    docx, invitation, ics = await outbox(core, THANH_TRA, "file")
    assert invitation.payload["name"] == f"giay-moi-hop-{review.id}.docx"
    document = Document(io.BytesIO(file_bytes(docx)))
    [table] = [tb for tb in document.tables if tb.rows[0].cells[0].text == "Cơ quan"]
    assert [c.text for c in table.rows[1].cells][:3] == ["Ban Nội chính", "1", "0"]
    assert [c.text for c in table.rows[2].cells][:3] == ["Thanh tra tỉnh", "2", "1"]
    assert b"DTSTART:20261217T010000Z" in file_bytes(ics)

    # attendance by button: the Inspectorate says who attends; the chair's group sees it
    [reminder] = [m for m in await outbox(core, THANH_TRA, "text") if "còn 7 ngày" in m.payload["text"]]
    await _press(dp, bot, int(THANH_TRA), INSPECTOR, button_data(reminder, 0))
    thanks = await _answer_prompt(
        core, dp, bot, int(THANH_TRA), INSPECTOR, "Ông Lê Văn Hùng, Phó Chánh Thanh tra tỉnh"
    )
    assert "Đã ghi nhận thành phần dự họp" in thanks
    [card] = [t for t in await texts(core, NOI_CHINH) if "Xác nhận dự họp:" in t]
    assert "✅ Thanh tra tỉnh: dự họp — Ông Lê Văn Hùng, Phó Chánh Thanh tra tỉnh" in card
    assert "⏳ Ban Nội chính: chưa xác nhận" in card

    # a day before: one nudge to the agency that has not answered; the secretariat sees the list
    await run_jobs_until(core, local(2026, 12, 16, 10, 1))
    assert len([t for t in await texts(core, NOI_CHINH) if t.startswith("⏰ Cơ quan chưa xác nhận")]) == 1
    assert not [t for t in await texts(core, THANH_TRA) if t.startswith("⏰ Cơ quan chưa xác nhận")]
    assert any("các cơ quan chưa xác nhận: Ban Nội chính" in t for t in await texts(core, NOI_CHINH))
    await run_jobs_until(core, local(2026, 12, 17, 7, 1))
    assert len([t for t in await texts(core, THANH_TRA) if "Nhắc lịch họp (còn 1 giờ)" in t]) == 1

    # after the meeting the secretary records a decision from the meeting card
    core.clock.set(local(2026, 12, 17, 11))
    [card_row] = [m for m in await outbox(core, NOI_CHINH, "text") if "Xác nhận dự họp:" in m.payload["text"]]
    labels = {b["text"]: tg.wire(b) for row in card_row.payload["buttons"] for b in row}
    await _press(dp, bot, int(NOI_CHINH), SECRETARY, labels["📝 Ghi kết luận"])
    await _answer_prompt(
        core, dp, bot, int(NOI_CHINH), SECRETARY, "Rà soát, báo cáo các vụ việc tồn đọng trên 6 tháng"
    )
    owners = {b.text: b.callback_data for row in _sent_markup(bot).inline_keyboard for b in row}
    await _press(dp, bot, int(NOI_CHINH), SECRETARY, owners["Thanh tra tỉnh"])
    recorded = await _answer_prompt(core, dp, bot, int(NOI_CHINH), SECRETARY, "24/12/2026")
    assert "giao Thanh tra tỉnh, hạn 24/12/2026" in recorded
    [given] = [
        m for m in await outbox(core, THANH_TRA, "text") if m.payload["text"].startswith("📝 Kết luận")
    ]
    assert "Rà soát, báo cáo các vụ việc tồn đọng" in given.payload["text"]

    # reminded the working day before it is due, then every working day while overdue
    await run_jobs_until(core, local(2026, 12, 23, 8, 1))
    assert len([t for t in await texts(core, THANH_TRA) if t.startswith("⏰ Kết luận sắp đến hạn")]) == 1
    await run_jobs_until(core, local(2026, 12, 25, 8, 1))
    await run_jobs_until(core, local(2026, 12, 28, 8, 1))
    overdue = [t for t in await texts(core, THANH_TRA) if t.startswith("❗ Kết luận đã quá hạn")]
    assert [o.split(" (")[0] for o in overdue] == [
        "❗ Kết luận đã quá hạn 1 ngày làm việc",
        "❗ Kết luận đã quá hạn 2 ngày làm việc",
    ]

    # the next meeting's agenda (the yearly briefing, built with its first reminder) carries it
    await run_jobs_until(core, local(2026, 12, 29, 8, 1))
    [briefing] = [t for t in await texts(core, THANH_TRA) if t.startswith("📋 Chương trình họp: Giao ban")]
    decisions_part = briefing.split("II.")[1].split("III.")[0]
    assert (
        "Rà soát, báo cáo các vụ việc tồn đọng trên 6 tháng — Thanh tra tỉnh, hạn 24/12/2026"
        in decisions_part
    )

    # the owner closes it with a result; reminders stop; the secretariat is told
    reminded = len([t for t in await texts(core, THANH_TRA) if t.startswith("❗ Kết luận đã quá hạn")])
    assert reminded == 3
    await _press(dp, bot, int(THANH_TRA), INSPECTOR, button_data(given))
    closed = await _answer_prompt(
        core, dp, bot, int(THANH_TRA), INSPECTOR, "Đã rà soát 12 vụ việc, báo cáo số 45/BC"
    )
    assert "đóng kết luận" in closed
    assert any("Thanh tra tỉnh đã thực hiện xong" in t and "45/BC" in t for t in await texts(core, NOI_CHINH))
    await run_jobs_until(core, local(2026, 12, 31, 8, 1))
    assert (
        len([t for t in await texts(core, THANH_TRA) if t.startswith("❗ Kết luận đã quá hạn")]) == reminded
    )
    async with core.sessions() as session:
        decision = (await session.execute(select(Decision))).scalar_one()
        actions = {e.action for e in (await session.execute(select(AuditEvent))).scalars()}
    assert decision.status == "closed" and decision.result.startswith("Đã rà soát")
    assert {
        "meeting_scheduled",
        "meeting_reminded",
        "meeting_attends",
        "meeting_nudged",
        "meeting_agenda_built",
        "decision_recorded",
        "decision_closed",
    } <= actions
