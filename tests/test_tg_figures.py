"""/stats and /report on Telegram: real Updates through the Dispatcher; charts and documents through the
outbox as files, delivered by the Telegram transport as uploads."""

from __future__ import annotations

import base64
import io

from aiogram.methods import SendDocument, SendMessage, SendPhoto
from aiogram.types import BufferedInputFile
from docx import Document
from openpyxl import load_workbook

from bot.delivery.transport import Delivery
from handlers.telegram import build_dispatcher
from handlers.telegram.sender import TelegramTransport
from tests import tg
from tests.figures_kit import seed_year
from tests.officer_kit import CHATS, bind_groups, outbox

SECRETARIAT, INSPECTORATE = int(CHATS["noi-chinh"]), int(CHATS["thanh-tra"])
PNG = b"\x89PNG\r\n\x1a\n"


async def _say(core, chat: int, text: str, language_code: str = "vi") -> str:
    dp, bot = build_dispatcher(core), tg.MockedBot()
    await dp.feed_update(bot, tg.update(tg.group_message(chat, 501, text, language_code=language_code)))
    return bot.calls(SendMessage)[-1].text


async def test_stats_in_the_secretariat_group_shows_every_agency_and_queues_three_charts(core) -> None:
    await bind_groups(core)
    await seed_year(core)
    text = await _say(core, SECRETARIAT, "/stats 01/01/2026 31/12/2026")
    assert "Số liệu các cơ quan, từ 01/01/2026 đến 31/12/2026" in text
    assert "Thanh tra tỉnh | 7 | 2 | 4 | 75% | 0 | 1" in text
    assert "Tiếp nhận: 9" in text and "quá hạn: 3" in text
    assert "✅ Giải quyết đúng hạn ít nhất 90% vụ việc khiếu nại — Thanh tra tỉnh" in text
    photos = [m for m in await outbox(core, chat_id=str(SECRETARIAT), kind="media")]
    assert [m.payload["items"][0]["filename"] for m in photos] == ["status.png", "on_time.png", "intake.png"]
    assert all(base64.b64decode(m.payload["items"][0]["data"]).startswith(PNG) for m in photos)


async def test_stats_in_an_agency_group_shows_its_own_scorecard(core) -> None:
    await bind_groups(core)
    await seed_year(core)
    text = await _say(core, INSPECTORATE, "/stats 2026-03-01 2026-03-31")
    assert text.startswith("📊 Số liệu Thanh tra tỉnh, từ 01/03/2026 đến 31/03/2026")
    assert "Tiếp nhận: 3" in text and "Khiếu nại 3" in text and "Đã giải quyết: 2 (đúng hạn 2, 100%)" in text
    assert "lý do: " in text and "UBKT" not in text
    english = await _say(core, INSPECTORATE, "/stats 2026-03-01 2026-03-31", "en")
    assert english.startswith("📊 Figures of Inspectorate, 2026-03-01".replace("2026-03-01", "01/03/2026"))


async def test_bad_periods_and_unbound_groups_are_answered(core) -> None:
    await bind_groups(core)
    assert "Không đọc được kỳ báo cáo" in await _say(core, INSPECTORATE, "/stats hôm qua")
    assert "Ngày không hợp lệ" in await _say(core, INSPECTORATE, "/stats 31/02/2026 01/03/2026")
    assert "trước ngày bắt đầu" in await _say(core, INSPECTORATE, "/stats 2026-03-01 2026-02-01")
    dp, bot = build_dispatcher(core), tg.MockedBot()
    await dp.feed_update(bot, tg.update(tg.group_message(-4242, 501, "/stats")))
    assert not bot.calls(SendMessage)  # an unbound group is not answered
    assert await outbox(core, kind="media") == []


async def test_report_only_in_the_secretariat_group_as_docx_and_xlsx(core) -> None:
    await bind_groups(core)
    await seed_year(core)
    refused = await _say(core, INSPECTORATE, "/report nam")
    assert "chỉ lập được trong nhóm của cơ quan thường trực" in refused
    assert await outbox(core, kind="media") == []
    text = await _say(core, SECRETARIAT, "/report 01/01/2026 31/12/2026")
    assert "Báo cáo 01/01/2026 – 31/12/2026" in text
    docs = await outbox(core, chat_id=str(SECRETARIAT), kind="media")
    files = {m.payload["items"][0]["filename"]: base64.b64decode(m.payload["items"][0]["data"]) for m in docs}
    assert set(files) == {"bao-cao-2026-01-01-2026-12-31.docx", "bao-cao-2026-01-01-2026-12-31.xlsx"}
    doc = Document(io.BytesIO(files["bao-cao-2026-01-01-2026-12-31.docx"]))
    assert any("tiếp nhận 9 vụ việc" in p.text for p in doc.paragraphs)
    book = load_workbook(io.BytesIO(files["bao-cao-2026-01-01-2026-12-31.xlsx"]))
    assert len(list(book["Vụ việc"].values)) == 3 + 1 + 9  # title, issuer and period, a blank, the header
    # the sender hands the bytes to Telegram as an upload
    bot = tg.MockedBot()
    row = docs[0]
    result = await TelegramTransport(bot).deliver(Delivery(id=row.id, channel="telegram", chat_id=row.chat_id,
                                                           kind=row.kind, payload=row.payload))
    assert result.outcome == "ok"
    sent = bot.calls(SendDocument)[-1]
    assert isinstance(sent.document, BufferedInputFile) and sent.document.filename.endswith(".docx")


async def test_a_chart_is_delivered_as_a_photo_upload() -> None:
    bot = tg.MockedBot()
    png = PNG + b"rest"
    payload = {"items": [{"media": "photo", "data": base64.b64encode(png).decode(), "filename": "s.png",
                          "caption": "Biểu đồ"}]}
    result = await TelegramTransport(bot).deliver(Delivery(id=1, channel="telegram", chat_id="-1001",
                                                           kind="media", payload=payload))
    assert result.outcome == "ok"
    sent = bot.calls(SendPhoto)[-1]
    assert sent.photo.data == png and sent.caption == "Biểu đồ"
