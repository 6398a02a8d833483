"""A citizen's words cannot pass for the bot's own fields. An anonymous story carrying lines shaped like the
card's fields ("Người gửi: ...", "Trạng thái: ...", "Cơ quan chủ trì: ...") reaches the agencies with those
lines set apart: on Telegram inside a quoted block (an entity a plain message cannot carry), on Zalo and in
plain texts behind a mark on every line, and always after the bot's own fields."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from cryptography.fernet import Fernet
from docx import Document as DocxDocument
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cards import card_text
from bot.cases import Citizen as Citizen_
from bot.cases import Draft, submit
from bot.delivery.filestore import LocalFileStore
from bot.delivery.ratelimit import Limits
from bot.delivery.sender import Sender
from bot.figures.report import build as build_report
from bot.figures.writers import FORMATS, render
from bot.i18n import t
from bot.intake import Intake
from bot.privacy import Privacy
from bot.quoting import MARK, Block, plain, quote
from bot.secretariat.agenda import build as build_agenda
from bot.secretariat.agenda import render as render_agenda
from bot.secretariat.documents import agenda_docx
from handlers.telegram.sender import TelegramTransport, quoted_parts
from handlers.zalo.client import ZaloClient
from handlers.zalo.receiver import ZaloReceiver
from handlers.zalo.transport import ZaloTransport
from runner.app import App, start
from runner.settings import AppSettings as Settings
from simulator.botapi import FakeBotAPI, quoted_spans
from simulator.zalo import TOKEN, FakeZaloAPI
from storage.models import AgencyChat, Case, Meeting
from tests import tg
from tests.conftest import SAMPLE_RULES
from tests.officer_kit import CHATS
from tests.test_e2e_citizen import USER, Citizen
from tests.test_e2e_zalo import number_of

FORGED = (
    "Người gửi: Nguyễn Văn An, SĐT 0912345678",
    "Trạng thái: Đã giải quyết xong",
    "Cơ quan chủ trì: Tòa án nhân dân tỉnh",
    "Thời hạn (Thụ lý): 31/12/2030",
)
STORY = ("Chủ tịch xã nhận hối lộ 200 triệu đồng để cấp giấy chứng nhận quyền sử dụng đất cho doanh "
         "nghiệp.\n" + "\n".join(FORGED))
SUBJECT = "Chủ tịch xã\nCơ quan chủ trì: Tòa án nhân dân tỉnh"
WHEN = "tháng trước\nTrạng thái: Đã giải quyết xong"
OFFICER = 501
ZALO_CITIZEN = "zc-forger"
T = 10.0


def label_lines() -> set[str]:
    """The bot's own lines that stand among the citizen's quoted words on a card."""
    return {t(f"officer.card.{key}") for key in ("words", "subject", "occurred", "summary")}


def as_shown(message: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """What a Telegram client shows of a message: the lines outside quotes before the first quote, the
    lines outside quotes after it, and the quoted parts."""
    units = str(message.get("text") or "").encode("utf-16-le")
    spans = sorted((e["offset"], e["offset"] + e["length"]) for e in message.get("entities") or []
                   if e["type"] == "blockquote")
    pieces, at = [], 0
    for begin, end in spans:
        pieces.append(units[2 * at: 2 * begin].decode("utf-16-le"))
        at = end
    pieces.append(units[2 * at:].decode("utf-16-le"))
    lines = [[line for line in piece.split("\n") if line.strip()] for piece in pieces]
    return lines[0], [line for piece in lines[1:] for line in piece], quoted_spans(message)


def assert_set_apart(message: dict[str, Any], forged: tuple[str, ...] = FORGED) -> None:
    """Every forged line is shown quoted, none as a line of the bot's."""
    before, after, quotes = as_shown(message)
    for line in forged:
        assert not [shown for shown in before + after if line in shown], f"{line!r} shown as the bot's"
        assert any(line in q for q in quotes), f"{line!r} not quoted"


def assert_card(message: dict[str, Any], status: str) -> None:
    """The card's fields come first and are the bot's; after the citizen's first word, only labels."""
    assert_set_apart(message)
    before, after, _ = as_shown(message)
    assert t("officer.card.anonymous") in before
    assert t("officer.card.status", status=t(f"status.{status}")) in before
    assert any(line.startswith(t("officer.card.lead", lead="")) for line in before)
    assert set(after) <= label_lines(), f"the bot's fields after the citizen's words: {after}"


@pytest.fixture
async def app(tmp_path: Path, server: FakeBotAPI) -> AsyncIterator[App]:
    (tmp_path / "data").mkdir()  # an explicit database path must name a folder that exists
    settings = Settings(_env_file=None, bot_token="42:TEST", telegram_api_url=server.url,
                        database_url=f"sqlite+aiosqlite:///{tmp_path}/data/bot.db",
                        rules_file=str(SAMPLE_RULES))
    running = await start(settings)
    async with running.core.sessions() as session, session.begin():
        for agency_id, chat_id in CHATS.items():
            session.add(AgencyChat(agency_id=agency_id, channel="telegram", chat_id=chat_id))
    try:
        yield running
    finally:
        await running.stop()


async def file_anonymously(server: FakeBotAPI, citizen: Citizen) -> str:
    """The citizen files the forged story, with forged lines in who and when too; the receipt's code."""
    await server.wait_for("getUpdates")
    await citizen.say(STORY)
    await citizen.press(t("citizen.btn.proposal_yes"))
    await citizen.press(t("citizen.btn.skip"))  # the place
    await citizen.say(SUBJECT)
    await citizen.say(WHEN)
    await citizen.press(t("citizen.btn.no_files"))
    await citizen.press(t("citizen.btn.anonymous"))
    await citizen.press(t("citizen.btn.send"))
    receipt = next(text for text in reversed(server.texts(USER)) if "Mã tra cứu" in text)
    return re.search(r"Mã tra cứu: (\S+)", receipt).group(1)  # type: ignore[union-attr]


def latest(server: FakeBotAPI, chat: str, contains: str) -> tuple[int, dict[str, Any]]:
    """The newest message in a chat whose text holds `contains`, as the chat shows it now (edits too)."""
    found = [(mid, m) for (cid, mid), m in server.messages.items()
             if cid == chat and contains in m.get("text", "")]
    assert found, f"no message with {contains!r} in {chat}"
    return max(found, key=lambda pair: pair[0])


async def test_on_telegram_the_forged_lines_are_quoted_after_the_bots_fields(app: App,
                                                                             server: FakeBotAPI) -> None:
    code = await file_anonymously(server, Citizen(server))
    async with app.core.sessions() as session:
        case = (await session.execute(select(Case).where(Case.code == code))).scalar_one()
    group = CHATS[case.lead_agency_id]
    await server.wait_for("sendMessage", lambda r: code in r.params.get("text", ""), chat_id=group, timeout=T)
    card_id, card = latest(server, group, "Hồ sơ " + code)
    assert_card(card, "new")
    assert case.subject == SUBJECT and case.occurred == WHEN, "the citizen's words are kept as written"

    # Accepted: the card is edited in place and still sets the words apart.
    accept = {b["text"]: b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row}
    server.push_update(tg.callback_query(OFFICER, accept["✅ Thụ lý"], chat_id=int(group),
                                         message_id=card_id))
    await server.wait_for("editMessageText", chat_id=group, timeout=T)
    assert_card(server.messages[(group, card_id)], "accepted")

    # A question under the card; the answer, with a forged line, comes back quoted under a bot's heading.
    server.push_update(tg.reply(int(group), OFFICER, card_id, "Ông/bà nộp tiền cho ai?"))
    await server.wait_for("sendMessage", lambda r: "nộp tiền cho ai" in r.params.get("text", ""),
                          chat_id=USER, timeout=T)
    question_id, _ = latest(server, str(USER), "nộp tiền cho ai")
    server.push_update(tg.reply(USER, USER, question_id, "Nộp cho cán bộ địa chính\n" + FORGED[1]))
    await server.wait_for("sendMessage", lambda r: "Nộp cho cán bộ" in r.params.get("text", ""),
                          chat_id=group, timeout=T)
    _, answer = latest(server, group, "Nộp cho cán bộ")
    assert_set_apart(answer, (FORGED[1], "Nộp cho cán bộ địa chính"))
    assert as_shown(answer)[0] == [t("officer.relay.answer", code=code)]

    # /case shows the card and the timeline, the citizen's words (the answer too) quoted.
    server.push_update(tg.group_message(int(group), OFFICER, f"/case {code}"))
    await server.wait_for("sendMessage", lambda r: t("officer.case.timeline") in r.params.get("text", ""),
                          chat_id=group, timeout=T)
    _, shown = latest(server, group, t("officer.case.timeline"))
    assert_set_apart(shown)
    assert not [r for r in server.requests if not r.ok and r.method != "getUpdates"], "all accepted"


async def test_information_added_later_is_quoted_under_the_bots_heading(app: App, server: FakeBotAPI) -> None:
    citizen = Citizen(server)
    code = await file_anonymously(server, citizen)
    await citizen.say("/mycases")
    await citizen.press(t("citizen.btn.add_info_code", code=code))
    await citizen.say("Biển số xe 14A-12345\n" + FORGED[0])
    await citizen.press(t("citizen.btn.send_info"))
    async with app.core.sessions() as session:
        case = (await session.execute(select(Case).where(Case.code == code))).scalar_one()
    group = CHATS[case.lead_agency_id]
    await server.wait_for("sendMessage", lambda r: "14A-12345" in r.params.get("text", ""), chat_id=group,
                          timeout=T)
    _, added = latest(server, group, "14A-12345")
    assert_set_apart(added, (FORGED[0], "Biển số xe 14A-12345"))
    assert as_shown(added)[0] == [t("citizen.to_agency.added_info", code=code, files=0)]


def test_a_long_story_keeps_every_line_quoted_across_messages() -> None:
    story = "Cán bộ địa chính nhận tiền của nhiều hộ dân để làm sổ đỏ nhanh hơn quy định. " * 120
    blocks = [Block("📋 Hồ sơ ABCD-EFGH\n" + t("officer.card.anonymous")), Block(t("officer.card.summary")),
              quote(story + "\n" + "\n".join(FORGED))]
    parts = quoted_parts(blocks)
    assert len(parts) >= 3
    for part in parts:
        units = len(part.text.encode("utf-16-le")) // 2
        assert units <= 4096 and all(0 <= o and o + n <= units for o, n in part.quotes)
    messages = [{"text": p.text, "entities": [e.model_dump() for e in p.entities() or []]} for p in parts]
    assert_set_apart(messages[-1])
    assert all(as_shown(m)[0] == [] for m in messages[1:]), "the story's later parts are wholly quoted"


def test_line_breaks_of_any_kind_cannot_start_an_unmarked_line() -> None:
    """A platform may show a carriage return, a vertical tab or U+2028 as a new line."""
    breaks = ("\r", "\u2028", "\x0b", "\x85")
    sneaky = "Chủ tịch xã nhận tiền" + "".join(b + line for b, line in zip(breaks, FORGED, strict=True))
    text = plain([Block(t("officer.card.anonymous")), quote(sneaky)])
    lines = re.split(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]", text)
    assert lines[0] == t("officer.card.anonymous")
    assert all(line.startswith(MARK) for line in lines[1:]) and len(lines) == 6
    part = quoted_parts([Block(t("officer.card.anonymous")), quote(sneaky)])[0]
    assert "\r" not in part.text and "\u2028" not in part.text, "Telegram gets plain line breaks only"
    assert_set_apart({"text": part.text, "entities": [e.model_dump() for e in part.entities() or []]})


def assert_marked(text: str) -> None:
    """A plain rendering (Zalo): each forged line only behind the mark, the bot's fields before the
    citizen's first word, and after it only the bot's labels (then the buttons' numbered menu)."""
    card, _, options = text.partition("\n\n1. ")
    lines = card.split("\n")
    for line in FORGED:
        assert not [shown for shown in lines if line in shown and not shown.startswith(MARK)], line
    first = next(i for i, line in enumerate(lines) if line.startswith(MARK.rstrip()))
    before, after = lines[:first], lines[first:]
    assert t("officer.card.anonymous") in before
    assert t("officer.card.status", status=t("status.new")) in before
    assert all(line.startswith(MARK.rstrip()) or line in label_lines() for line in after), after
    assert all(re.match(r"\d+\. ", line) for line in ("1. " + options).split("\n")), "only the menu follows"


@pytest.mark.parametrize("groups_on", ["telegram", "zalo"])
async def test_a_story_filed_on_zalo_reaches_groups_on_either_platform_set_apart(core, tmp_path: Path,
                                                                                 groups_on: str) -> None:
    core.settings.messages_per_minute = 1000
    async with FakeZaloAPI() as zalo, FakeBotAPI() as server:
        async with core.sessions() as session, session.begin():
            for agency_id, chat_id in CHATS.items():
                session.add(AgencyChat(agency_id=agency_id, channel=groups_on, chat_id=chat_id))
        client = ZaloClient(TOKEN, zalo.url, timeout=5)
        bot = Bot("42:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
        store = LocalFileStore(tmp_path / "files", Privacy(Fernet.generate_key()))
        receiver = ZaloReceiver(core, Intake(core), client, store)
        try:
            async def send(text: str) -> str:
                before = len(zalo.texts(ZALO_CITIZEN))
                await receiver.handle(zalo.push_text(ZALO_CITIZEN, text))
                return "\n".join(zalo.texts(ZALO_CITIZEN)[before:])

            step = await send(number_of(await send(STORY), "citizen.btn.proposal_yes"))
            await send(t("citizen.btn.skip"))  # the place
            await send(SUBJECT)
            step = await send(WHEN)
            step = await send(number_of(step, "citizen.btn.no_files"))
            step = await send(number_of(step, "citizen.btn.anonymous"))
            await send(number_of(step, "citizen.btn.send"))
            transports = {"telegram": TelegramTransport(bot), "zalo": ZaloTransport(client)}
            sender = Sender(core.sessions, transports, "t", privacy=core.privacy, limits=Limits.off())
            while (await sender.run_once()).claimed:
                pass
        finally:
            await client.close()
            await bot.session.close()
    async with core.sessions() as session:
        case = (await session.execute(select(Case))).scalar_one()
    assert case.anonymous and case.summary == STORY
    group = CHATS[case.lead_agency_id]
    if groups_on == "telegram":
        assert_card(latest(server, group, "Hồ sơ " + case.code)[1], "new")
    else:
        cards = [text for text in zalo.texts(group) if case.code in text]
        assert len(cards) == 1
        assert_marked(cards[0])


async def test_documents_never_show_the_forged_lines_as_their_own(core) -> None:
    """The periodic report (DOCX, XLSX, CSV, Markdown) and a meeting's agenda (message and DOCX) carry no
    citizen's words unmarked."""
    async with core.sessions() as session, session.begin():
        filed = await submit(session, core, Citizen_("telegram", "7001", "7001"),
                             Draft(kind="corruption_tip", summary=STORY, subject=SUBJECT, occurred=WHEN))
    received = filed.case.received_on
    async with core.sessions() as session, session.begin():
        report = await build_report(session, core.rules, core.calendar, received - dt.timedelta(days=60),
                                    received, today=received, with_charts=False)
        meeting = Meeting(schedule_id="adhoc-1", title="Giao ban", scheduled_for=received,
                          agencies=[filed.case.lead_agency_id], starts_at=core.clock.now(), items=[])
        session.add(meeting)
        await session.flush()
        agenda = await build_agenda(session, core, meeting, core.clock.now())
    documents = {fmt: _text_of(fmt, render(report, core.rules, fmt)) for fmt in FORMATS}
    documents["agenda"] = render_agenda(core, agenda)
    documents["agenda.docx"] = _text_of("docx", agenda_docx(core, agenda))
    assert filed.case.code in documents["xlsx"], "the case is in the report"
    for name, text in documents.items():
        for line in FORGED:
            unmarked = [shown for shown in text.splitlines() if line in shown and not shown.startswith(MARK)]
            assert unmarked == [], f"{name}: {unmarked}"


def _text_of(fmt: str, data: bytes) -> str:
    """Every text a document holds, one cell or paragraph a line."""
    if fmt == "docx":
        document = DocxDocument(io.BytesIO(data))
        cells = [c.text for table in document.tables for row in table.rows for c in row.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)
    if fmt == "xlsx":
        book = load_workbook(io.BytesIO(data))
        return "\n".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row
                         if c.value is not None)
    return data.decode("utf-8-sig")


async def test_the_citizens_words_quoted_in_why_it_was_routed_stay_on_that_line(core) -> None:
    """The routing explanation quotes the words that matched, which may span the citizen's line break."""
    story = "Chủ tịch xã nhận hối lộôô 200 triệu để cấp giấy chứng nhận\nNgười gửi: Nguyễn Văn An"
    async with core.sessions() as session, session.begin():
        filed = await submit(session, core, Citizen_("telegram", "7001", "7001"),
                             Draft(kind="corruption_tip", summary=story))
    assert "\nNgười gửi" in filed.case.routing["explanation"], "the matched words span the line break"
    async with core.sessions() as session:
        case = await session.get(Case, filed.case.id)
        text = card_text(core, case, case.lead_agency_id, "lead")
    bots = [line for line in text.split("\n") if not line.startswith(MARK.rstrip())]
    assert [line for line in bots if line.startswith("Người gửi")] == [t("officer.card.anonymous")]
    assert any(line.startswith(t("officer.card.routing", explanation="")) and "Người gửi" in line
               for line in bots), "the explanation keeps the words, on its own line"
