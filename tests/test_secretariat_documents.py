"""What the secretariat prints and imports, read back: the agenda DOCX, the .ics invitation, their delivery
to Telegram as files, and `python -m bot meetings`."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json

from aiogram.methods import SendDocument
from aiogram.types import BufferedInputFile
from docx import Document
from icalendar import Calendar

from bot.cli import main
from bot.delivery.transport import Delivery
from bot.officer import Actor
from bot.secretariat import agenda, attendance, documents, meetings, schedules
from handlers.telegram.sender import TelegramTransport
from storage.models import Decision, Meeting
from tests import tg
from tests.secretariat_kit import NOI_CHINH, START, THANH_TRA, bind, local, meeting_of, movable

SECRETARY = Actor(channel="telegram", chat_id=NOI_CHINH, user_id="601", name="Chánh Văn phòng")
INSPECTOR = Actor(channel="telegram", chat_id=THANH_TRA, user_id="602", name="Thanh tra viên")


def _event(ics: bytes):
    [event] = Calendar.from_ical(ics).walk("VEVENT")
    return event


async def test_the_invitation_imports_and_follows_reschedules_and_cancellation(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    review = await meeting_of(core)
    event = _event(documents.invitation_ics(core, review))
    assert str(event["SUMMARY"]).startswith("Họp đánh giá kết quả chương trình phối hợp")
    assert event.decoded("DTSTART") == local(2026, 12, 17)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(hours=2)
    assert str(event["UID"]) == f"meeting-{review.id}@quang-ninh" and int(event["SEQUENCE"]) == 0
    async with core.sessions() as session, session.begin():
        meeting = await session.get(Meeting, review.id)
        await meetings.reschedule(
            session, core, SECRETARY, "noi-chinh", meeting, local(2026, 12, 18, 14), "trùng lịch", START
        )
        moved = _event(documents.invitation_ics(core, meeting))
        await meetings.cancel(session, core, SECRETARY, "noi-chinh", meeting, "hoãn", START)
        cancelled = Calendar.from_ical(documents.invitation_ics(core, meeting))
    assert moved.decoded("DTSTART") == local(2026, 12, 18, 14) and int(moved["SEQUENCE"]) == 1
    assert str(cancelled["METHOD"]) == "CANCEL"
    assert str(cancelled.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


async def test_the_agenda_document_holds_the_figures_decisions_and_items(core):
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    review = await meeting_of(core)
    async with core.sessions() as session, session.begin():
        meeting = await session.get(Meeting, review.id)
        meeting.items = ["Đánh giá việc trao đổi thông tin giữa hai cơ quan"]
        earlier = Meeting(
            schedule_id="adhoc-x",
            title="Họp cũ",
            scheduled_for=dt.date(2026, 9, 1),
            starts_at=local(2026, 9, 1),
            agencies=["noi-chinh"],
            items=[],
            remind_days_before=[],
            version=0,
            status="planned",
        )
        session.add(earlier)
        await session.flush()
        session.add(
            Decision(
                meeting_id=earlier.id,
                text="Thanh tra tỉnh báo cáo tiến độ",
                owner_agency_id="thanh-tra",
                due_on=dt.date(2026, 11, 30),
            )
        )
        await session.flush()
        await attendance.answer(
            session, core, INSPECTOR, "thanh-tra", meeting, True, "Ông A, Chánh Thanh tra", START
        )
        built = await agenda.build(session, core, meeting, START)
    doc = Document(io.BytesIO(documents.agenda_docx(core, built)))
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[paragraphs.index("CHƯƠNG TRÌNH") + 1].startswith("Họp đánh giá kết quả")
    assert "Thời gian: 08:00 17/12/2026" in paragraphs
    assert "Chủ trì: Ban Nội chính Tỉnh ủy" in paragraphs
    assert "Thanh tra tỉnh báo cáo tiến độ — Thanh tra tỉnh, hạn 30/11/2026" in paragraphs
    assert "Đánh giá việc trao đổi thông tin giữa hai cơ quan" in paragraphs
    [figures] = [tb for tb in doc.tables if tb.rows[0].cells[0].text == "Cơ quan"]
    assert [c.text for c in figures.rows[0].cells][:3] == ["Cơ quan", "Tiếp nhận", "Thụ lý"]
    assert [r.cells[0].text for r in figures.rows[1:]] == ["Ban Nội chính", "Thanh tra tỉnh"]


async def test_a_generated_file_is_sent_to_telegram_as_a_document():
    bot = tg.MockedBot()
    payload = {"name": "hop-1.ics", "data": "QkVHSU46VkNBTEVOREFS", "caption": "Giấy mời"}
    result = await TelegramTransport(bot).deliver(
        Delivery(id=1, channel="telegram", chat_id="-1002", kind="file", payload=payload)
    )
    assert result.message_id
    [call] = bot.calls(SendDocument)
    assert isinstance(call.document, BufferedInputFile)
    assert call.document.filename == "hop-1.ics" and call.document.data == b"BEGIN:VCALENDAR"
    assert call.caption == "Giấy mời"


async def test_the_meetings_command_lists_stored_and_scheduled_occurrences(db_url, monkeypatch, capsys, core):
    monkeypatch.setenv("DATABASE_URL", db_url)

    async def cli(*args: str) -> int:
        return await asyncio.to_thread(main, ["meetings", *args])

    assert await cli("--from", "2026-06-01", "--to", "2026-12-31", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(o["date"], o["time"], o["id"]) for o in listed] == [
        ("2026-06-18", "08:00", None),
        ("2026-12-17", "08:00", None),
    ]
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    review = await meeting_of(core)
    async with core.sessions() as session, session.begin():
        meeting = await session.get(Meeting, review.id)
        await attendance.answer(session, core, INSPECTOR, "thanh-tra", meeting, True, "Ông A", START)
    assert await cli("--from", "2026-12-01", "--to", "2027-01-31", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(o["date"], o["id"] is not None, o["status"]) for o in listed] == [
        ("2026-12-17", True, "planned"),
        ("2027-01-12", True, "planned"),
    ]
    assert listed[0]["id"] == review.id and listed[0]["attending"] == ["thanh-tra"]
    assert await cli("--from", "2026-12-01", "--to", "2027-01-31") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2026-12-17 08:00  planned") and "+1/-0/2" in lines[0]
    assert await cli("--from", "2027-01-31", "--to", "2027-01-01") == 2
