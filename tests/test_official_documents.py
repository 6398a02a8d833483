"""The secretariat's documents in the official form, read back with python-docx: the periodic report sent
by /report, the meeting's agenda and invitation sent with the first reminder, in the party form of the
sample rules and in the state form; and the rules' `documents` section as check-rules validates it."""

from __future__ import annotations

import base64
import datetime as dt
import io
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.shared import Cm, Length
from docx.table import Table
from docx.text.paragraph import Paragraph
from openpyxl import load_workbook

from bot.cli import main
from bot.figures.report import build
from bot.figures.writers import render
from bot.rules import DocumentsSpec
from bot.secretariat import agenda, schedules
from handlers.telegram import build_dispatcher
from storage.models import Meeting
from tests import tg
from tests.figures_kit import TODAY, YEAR, seed_year
from tests.officer_kit import CHATS, bind_groups, outbox
from tests.secretariat_kit import NOI_CHINH, START, bind, file_bytes, meeting_of, movable
from tests.test_cli_rules import SMALL, write

SECRETARIAT = int(CHATS["noi-chinh"])
TNR = "Times New Roman"


# ---- reading a document back ------------------------------------------------------------------------


def cm(length: Length | None) -> float:
    assert length is not None
    return round(length.cm, 2)


def font_of(doc: DocxDocument, paragraph: Paragraph, run) -> str | None:
    """The font a run is printed in: its own, else its paragraph style's chain, else the defaults."""
    if run.font.name:
        return run.font.name
    style = paragraph.style
    while style is not None:
        if style.font.name:
            return style.font.name
        style = style.base_style
    fonts = doc.styles.element.find(".//{*}rPrDefault//{*}rFonts")
    return None if fonts is None else fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}hAnsi")


def size_of(doc: DocxDocument, paragraph: Paragraph, run) -> float:
    if run.font.size:
        return run.font.size.pt
    style = paragraph.style
    while style is not None:
        if style.font.size:
            return style.font.size.pt
        style = style.base_style
    return doc.styles["Normal"].font.size.pt


def every_paragraph(doc: DocxDocument) -> list[Paragraph]:
    """Paragraphs of the body and of every table cell, in order."""
    out = list(doc.paragraphs)
    for table in doc.tables:
        out += [p for row in table.rows for cell in row.cells for p in cell.paragraphs]
    return out


def lines(cell) -> list[str]:
    return [p.text for p in cell.paragraphs]


def table_starting(doc: DocxDocument, first_head: str) -> Table:
    return next(tb for tb in doc.tables if tb.rows[0].cells[0].text == first_head)


def section_index(doc: DocxDocument, table: Table) -> int:
    """Which section a table is printed in: the number of section breaks before it."""
    body = list(doc.element.body.iterchildren())
    return sum(1 for el in body[:body.index(table._tbl)] if el.find(".//{*}sectPr") is not None)


def section_of(doc: DocxDocument, table: Table):
    return doc.sections[section_index(doc, table)]


def grid_cm(table: Table) -> list[float]:
    return [int(c.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}w")) / 567
            for c in table._tbl.tblGrid.findall("{*}gridCol")]


def assert_a4_in_times(doc: DocxDocument) -> None:
    first = doc.sections[0]
    assert (cm(first.page_width), cm(first.page_height)) == (21.0, 29.7)
    assert (cm(first.top_margin), cm(first.bottom_margin), cm(first.left_margin), cm(first.right_margin)) \
        == (2.0, 2.0, 3.0, 1.5)
    for paragraph in every_paragraph(doc):
        for run in paragraph.runs:
            if run.text.strip():
                assert font_of(doc, paragraph, run) == TNR, (run.text, font_of(doc, paragraph, run))
    body = [p for p in doc.paragraphs if p.paragraph_format.first_line_indent and p.text]
    assert body and all(13 <= size_of(doc, p, p.runs[0]) <= 14 for p in body)
    assert all(cm(p.paragraph_format.first_line_indent) == 1.27 for p in body)


def assert_numbered_from_page_two(doc: DocxDocument) -> None:
    first = doc.sections[0]
    assert first.different_first_page_header_footer
    assert "PAGE" in first.header._element.xml and "PAGE" not in first.first_page_header._element.xml
    assert all(not s.different_first_page_header_footer for s in doc.sections[1:])


def closing(doc: DocxDocument) -> tuple[list[str], list[Paragraph]]:
    """The recipients (left) and the signer's paragraphs (right) of the last layout row."""
    left, right = doc.tables[-1].rows[0].cells
    return lines(left), right.paragraphs


# ---- the periodic report ----------------------------------------------------------------------------


async def _report_by_chat(core) -> DocxDocument:
    movable(core, dt.datetime(2027, 1, 5, 3, tzinfo=dt.UTC))  # made on 5 January 2027
    await bind_groups(core)
    await seed_year(core)
    dp, bot = build_dispatcher(core), tg.MockedBot()
    await dp.feed_update(bot, tg.update(tg.group_message(SECRETARIAT, 501, "/report 01/01/2026 31/12/2026")))
    files = {m.payload["items"][0]["filename"]: base64.b64decode(m.payload["items"][0]["data"])
             for m in await outbox(core, chat_id=str(SECRETARIAT), kind="media")}
    return Document(io.BytesIO(files["bao-cao-2026-01-01-2026-12-31.docx"]))


async def test_the_report_from_the_chat_is_a_party_document_on_a4_in_times(core) -> None:
    doc = await _report_by_chat(core)
    assert_a4_in_times(doc)
    issuer, motto = doc.tables[0].rows[0].cells
    assert lines(issuer) == ["TỈNH ỦY QUẢNG NINH", "BAN NỘI CHÍNH", "*", "Số …-BC/BNC"]
    assert issuer.paragraphs[1].runs[0].bold and not issuer.paragraphs[0].runs[0].bold
    heading = [p for p in motto.paragraphs if p.text]
    assert [p.text for p in heading] == ["ĐẢNG CỘNG SẢN VIỆT NAM", "Quảng Ninh, ngày 05 tháng 01 năm 2027"]
    assert heading[0].runs[0].bold and heading[0].runs[0].underline and heading[1].runs[0].italic
    assert size_of(doc, heading[0], heading[0].runs[0]) == 15
    texts = [p.text for p in doc.paragraphs]
    start = texts.index("BÁO CÁO")
    assert texts[start + 1: start + 4] == ["Kết quả tiếp nhận, xử lý tin báo, khiếu nại, tố cáo, kiến nghị",
                                           "(từ 01/01/2026 đến 31/12/2026)", "-----"]
    assert doc.paragraphs[start].runs[0].bold and doc.paragraphs[start + 1].runs[0].bold
    outline = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert outline == ["I. KẾT QUẢ TIẾP NHẬN, XỬ LÝ", "II. BIỂU ĐỒ", "III. KẾT QUẢ THỰC HIỆN CHỈ TIÊU",
                       "IV. CÁC VỤ VIỆC TỒN ĐỌNG LÂU NHẤT"]
    assert_numbered_from_page_two(doc)
    recipients, signer = closing(doc)
    assert recipients[0] == "Nơi nhận:" and recipients[1] == "- Tỉnh ủy Quảng Ninh (để báo cáo);"
    assert "- Thanh tra tỉnh;" in recipients and recipients[-1] == "- Lưu Văn phòng."
    assert "- Ban Nội chính Tỉnh ủy;" not in recipients  # the issuer does not send to itself
    assert signer[0].text == "TRƯỞNG BAN" and signer[0].runs[0].bold
    assert len(signer) >= 5 and not any(p.text for p in signer[1:5])  # room to sign
    assert len(doc.inline_shapes) == 3


async def test_the_wide_table_is_on_a_landscape_page_with_columns_that_fit(core) -> None:
    doc = await _report_by_chat(core)
    figures = table_starting(doc, "Cơ quan")
    assert len(figures.columns) == 18
    index = section_index(doc, figures)
    section = doc.sections[index]
    assert (cm(section.page_width), cm(section.page_height)) == (29.7, 21.0)
    widths = grid_cm(figures)
    text_width = (section.page_width - section.left_margin - section.right_margin) / Cm(1)
    assert sum(widths) <= text_width + 0.01
    heads = [c.text for c in figures.rows[0].cells]
    agency, accepted = widths[0], widths[heads.index("Thụ lý")]
    assert agency > 1.5 * accepted and min(widths) >= 0.9  # fitted to their content, not all alike
    by_agency = {r.cells[0].text: [c.text for c in r.cells] for r in figures.rows}
    assert by_agency["Thanh tra tỉnh"][1:8] == ["7", "2", "0", "0", "4", "3", "75"]
    assert figures.rows[1].cells[1].paragraphs[0].alignment == 2  # numbers are right-aligned
    assert cm(doc.sections[index + 1].page_width) == 21.0  # the report goes on in portrait
    targets = table_starting(doc, "Chỉ tiêu")
    assert cm(section_of(doc, targets).page_width) == 21.0  # a narrow table stays in portrait
    assert sum(grid_cm(targets)) <= 16.5 + 0.01


async def test_the_state_form_and_a_rules_file_without_the_section(core) -> None:
    await seed_year(core)
    async with core.sessions() as session, session.begin():
        report = await build(session, core.rules, core.calendar, *YEAR, today=TODAY, with_charts=False)
    state = core.rules.documents.model_copy(update={"style": "state", "parent": None})
    doc = Document(io.BytesIO(render(report, core.rules.model_copy(update={"documents": state}), "docx")))
    assert_a4_in_times(doc)
    issuer, nation = doc.tables[0].rows[0].cells
    assert [t for t in lines(issuer) if t] == ["BAN NỘI CHÍNH", "Số: …/BC-BNC"]
    state_head = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                  "Quảng Ninh, ngày 31 tháng 12 năm 2026"]
    assert [t for t in lines(nation) if t] == state_head
    motto = next(p for p in nation.paragraphs if p.text.startswith("Độc lập"))
    assert motto.runs[0].bold and motto.runs[0].underline
    recipients, signer = closing(doc)
    label = doc.tables[-1].rows[0].cells[0].paragraphs[0].runs[0]
    assert recipients[0] == "Nơi nhận:" and label.bold and label.italic
    assert recipients[-1] == "- Lưu: VT." and signer[0].text == "TRƯỞNG BAN"
    bare = Document(io.BytesIO(render(report, core.rules.model_copy(update={"documents": None}), "docx")))
    issuer, nation = bare.tables[0].rows[0].cells
    assert [t for t in lines(issuer) if t] == ["BAN NỘI CHÍNH TỈNH ỦY", "Số: …/…"]
    assert lines(nation)[0] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    english = Document(io.BytesIO(render(report, core.rules, "docx", "en")))
    assert lines(english.tables[0].rows[0].cells[1])[0] == "COMMUNIST PARTY OF VIETNAM"
    assert "REPORT" in [p.text for p in english.paragraphs]


# ---- the meeting's agenda and invitation ------------------------------------------------------------


async def test_the_agenda_and_the_invitation_go_out_in_the_same_form(core) -> None:
    movable(core)
    await bind(core)
    await schedules.materialise(core, START)
    review = await meeting_of(core)
    async with core.sessions() as session, session.begin():
        meeting = await session.get(Meeting, review.id)
        meeting.items = ["Đánh giá việc trao đổi thông tin giữa hai cơ quan"]
        await agenda.publish(session, core, meeting, START, reason="test")
    sent = await outbox(core, chat_id=NOI_CHINH, kind="file")
    files = {m.payload["name"]: Document(io.BytesIO(file_bytes(m)))
             for m in sent if m.payload["name"].endswith(".docx")}
    assert set(files) == {f"chuong-trinh-hop-{review.id}.docx", f"giay-moi-hop-{review.id}.docx"}
    program, invitation = files[f"chuong-trinh-hop-{review.id}.docx"], files[f"giay-moi-hop-{review.id}.docx"]
    for doc in (program, invitation):
        assert_a4_in_times(doc)
        assert_numbered_from_page_two(doc)
        assert lines(doc.tables[0].rows[0].cells[1])[0] == "ĐẢNG CỘNG SẢN VIỆT NAM"
        assert "Quảng Ninh, ngày 01 tháng 12 năm 2026" in lines(doc.tables[0].rows[0].cells[1])
    assert lines(program.tables[0].rows[0].cells[0])[-1] == "Số …-CTr/BNC"
    assert lines(invitation.tables[0].rows[0].cells[0])[-1] == "Số …-GM/BNC"
    texts = [p.text for p in program.paragraphs]
    assert texts[texts.index("CHƯƠNG TRÌNH") + 1].startswith("Họp đánh giá kết quả chương trình phối hợp")
    assert "Thời gian: 08:00 17/12/2026" in texts and "Chủ trì: Ban Nội chính Tỉnh ủy" in texts
    assert "Đánh giá việc trao đổi thông tin giữa hai cơ quan" in texts
    figures = table_starting(program, "Cơ quan")
    assert [r.cells[0].text for r in figures.rows[1:]] == ["Ban Nội chính", "Thanh tra tỉnh"]
    assert sum(grid_cm(figures)) <= cm(section_of(program, figures).page_width) - 4.5 + 0.01
    assert closing(program)[0][1:] == ["- Thanh tra tỉnh;", "- Lưu Văn phòng."]
    texts = [p.text for p in invitation.paragraphs]
    assert "GIẤY MỜI" in texts and "Ban Nội chính trân trọng kính mời:" in texts
    assert "Đại diện lãnh đạo Thanh tra tỉnh" in texts and "Thời gian: 08:00 17/12/2026" in texts
    recipients, signer = closing(invitation)
    assert recipients[1:] == ["- Như trên;", "- Lưu Văn phòng."] and signer[0].text == "TRƯỞNG BAN"


# ---- the rules' documents section -------------------------------------------------------------------

DOCUMENTS = ("documents:\n  style: party\n  parent: Tỉnh ủy Demo\n  issuer: Ban Nội chính\n"
             "  symbol: BC-BNC\n  signer_title: Trưởng ban\n  place: Demo\n")


def test_the_sample_rules_name_the_party_form_of_ban_noi_chinh() -> None:
    from bot.rules import load_rules
    from tests.test_cli_rules import SAMPLE

    spec = load_rules(SAMPLE).documents
    assert isinstance(spec, DocumentsSpec)
    assert (spec.style, spec.issuer.vi, spec.parent and spec.parent.vi, spec.symbol, spec.place.vi) == (
        "party", "Ban Nội chính", "Tỉnh ủy Quảng Ninh", "BC-BNC", "Quảng Ninh")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("  style: party\n", "  style: royal\n", "documents.style: Input should be 'party' or 'state'"),
    ("  symbol: BC-BNC\n", "  symbol: BC BNC\n", "as BC-BNC (got 'BC BNC')"),
    ("  issuer: Ban Nội chính\n", "  issuer: ''\n", "documents.issuer: Value error, must not be empty"),
    ("  parent: Tỉnh ủy Demo\n", "", "the party form puts the issuer under its parent committee"),
    ("  place: Demo\n", "  place: Demo\n  seal: round\n", "unknown key 'seal' (in documents.seal)"),
    ("  signer_title: Trưởng ban\n", "", "missing required key 'signer_title' (in documents.signer_title)"),
])
def test_check_rules_refuses_a_bad_documents_section_with_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, message: str) -> None:
    good = write(tmp_path, SMALL + DOCUMENTS)
    assert main(["check-rules", good]) == 0
    capsys.readouterr()
    text = SMALL + DOCUMENTS.replace(old, new)
    path = write(tmp_path, text)
    assert main(["check-rules", path]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    line = int(err[0].split(":")[1])
    assert err[0].startswith(f"{path}:") and line > text.splitlines().index("documents:")


# ---- the workbook -----------------------------------------------------------------------------------


async def test_the_workbook_has_titles_frozen_bold_headers_formats_fitted_widths_a4_printing(core) -> None:
    await seed_year(core)
    async with core.sessions() as session, session.begin():
        report = await build(session, core.rules, core.calendar, *YEAR, today=TODAY)
    book = load_workbook(io.BytesIO(render(report, core.rules, "xlsx")))
    figures, cases, charts = book["Số liệu"], book["Vụ việc"], book["Biểu đồ"]
    assert figures["A1"].value.startswith("BÁO CÁO KẾT QUẢ TIẾP NHẬN") and figures["A1"].font.b
    subtitle = "Ban Nội chính Tỉnh ủy Quảng Ninh · Kỳ báo cáo: từ 01/01/2026 đến 31/12/2026"
    assert figures["A2"].value == subtitle
    for sheet in (figures, cases):
        assert sheet.freeze_panes == "B5" and all(c.font.b for c in sheet[4] if c.value)
        setup = sheet.page_setup
        assert (int(setup.paperSize), setup.orientation, setup.fitToWidth, setup.fitToHeight) == (
            int(sheet.PAPERSIZE_A4), "landscape", 1, 0)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_title_rows == "$4:$4"
    assert charts.page_setup.orientation == "landscape" and len(charts._images) == 3
    heads = [c.value for c in figures[4]]
    inspectorate = next(r for r in figures.iter_rows(min_row=5) if r[0].value == "Thanh tra tỉnh")
    received, rate, median = (inspectorate[heads.index(h)] for h in (
        "Tiếp nhận", "Tỷ lệ đúng hạn (%)", "Giải quyết, trung vị (ngày LV)"))
    assert (received.value, received.number_format) == (7, "0")
    assert (rate.value, rate.number_format) == (0.75, "0.0%")  # shown as 75,0%
    assert (median.value, median.number_format) == (21.0, "0.0")
    width = {c: figures.column_dimensions[c].width for c in "ABCDEFGHIJKLMNOPQR"}
    assert width["A"] >= len("Ngân hàng Nhà nước") and all(width[c] < width["A"] for c in "BCDEFGH")
    assert all(8 <= w <= 45 for w in width.values())  # none left at the default, none sprawling
    assert cases["G5"].number_format == "DD/MM/YYYY" and cases.column_dimensions["G"].width >= 12
    target_head = next(r for r in figures.iter_rows(min_row=5) if r[0].value == "Chỉ tiêu")
    assert all(c.font.b for c in target_head if c.value)
    complaints = next(r for r in figures.iter_rows(min_row=5)
                      if r[0].value == "Giải quyết đúng hạn ít nhất 90% vụ việc khiếu nại")
    assert [(c.value, c.number_format) for c in complaints[3:6]] == [
        (0.9, "0.0%"), (1.0, "0.0%"), (pytest.approx(1.111), "0.0%")]
