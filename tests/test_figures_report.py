"""The periodic report from a year of cases: the XLSX and DOCX read back, CSV and Markdown, the charts
rendered, targets against the rules, and no reporter identity anywhere."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import warnings

import pytest
from docx import Document
from matplotlib.image import imread
from openpyxl import load_workbook

from bot.figures import charts, series
from bot.figures.report import build
from bot.figures.targets import evaluate
from bot.figures.writers import render
from tests.conftest import ROOT
from tests.figures_kit import TODAY, YEAR, seed_year

PNG = b"\x89PNG\r\n\x1a\n"
SECRET = ("Nguyễn Văn Tố", "0912345678")


async def _report(core, **kw):
    async with core.sessions() as session, session.begin():
        return await build(session, core.rules, core.calendar, *YEAR, today=TODAY, **kw)


async def test_xlsx_has_the_figures_and_the_cases_and_no_reporter(core) -> None:
    await seed_year(core)
    data = render(await _report(core, with_charts=False), core.rules, "xlsx")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Số liệu", "Vụ việc"]
    figures = list(book["Số liệu"].values)
    head = figures.index(next(r for r in figures if r and r[0] == "Cơ quan"))
    columns = figures[head]
    rows = {r[0]: dict(zip(columns, r, strict=True)) for r in figures[head + 1: head + 11]}
    tt = rows["Thanh tra tỉnh"]
    assert (tt["Tiếp nhận"], tt["Thụ lý"], tt["Giải quyết"], tt["Đúng hạn"]) == (7, 2, 4, 3)
    assert tt["Tỷ lệ đúng hạn (%)"] == 0.75 and tt["Không thụ lý"] == 1 and tt["Chuyển CQĐT"] == 1
    assert tt["Giải quyết, trung vị (ngày LV)"] == 21.0 and tt["Giải quyết, 90% (ngày LV)"] == 28.7
    assert rows["UBKT Tỉnh ủy"]["Chuyển đến"] == 1 and rows["UBKT Tỉnh ủy"]["Quá hạn"] == 1
    total = rows["Tổng cộng"]
    assert (total["Tiếp nhận"], total["Quá hạn"], total["Đang xử lý"]) == (9, 3, 4)
    cases = list(book["Vụ việc"].values)
    assert cases[3][:3] == ("Mã", "Loại", "Lĩnh vực") and len(cases) == 4 + 9  # C8 is from 2025
    flat = " ".join(str(v) for sheet in book for row in sheet.values for v in row if v is not None)
    assert not any(secret in flat for secret in SECRET)
    assert "Cán bộ thu tiền" not in flat  # no citizen's text either


async def test_docx_opens_with_figures_charts_targets_and_oldest_cases(core) -> None:
    await seed_year(core)
    data = render(await _report(core), core.rules, "docx")
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Kết quả tiếp nhận, xử lý tin báo, khiếu nại" in text and "từ 01/01/2026 đến 31/12/2026" in text
    assert "tiếp nhận 9 vụ việc" in text and "giải quyết 4 (75% đúng hạn)" in text
    figures, targets, oldest = (next(tb for tb in doc.tables if tb.rows[0].cells[0].text == head)
                                for head in ("Cơ quan", "Chỉ tiêu", "Mã"))
    by_agency = {r.cells[0].text: [c.text for c in r.cells] for r in figures.rows}
    assert by_agency["Thanh tra tỉnh"][1:8] == ["7", "2", "0", "0", "4", "3", "75"]
    assert by_agency["Tổng cộng"][1] == "9"
    target_rows = [[c.text for c in r.cells] for r in targets.rows[1:]]
    assert ["Giải quyết đúng hạn ít nhất 90% vụ việc khiếu nại", "Thanh tra tỉnh", "%", "90", "100", "111,1",
            "Đạt"] in target_rows
    oldest_rows = [[c.text for c in r.cells] for r in oldest.rows[1:]]
    assert [(r[2], r[4]) for r in oldest_rows] == [  # C7 C4 C6 C5, oldest first
        ("Công an tỉnh", "11/05/2026"), ("UBKT Tỉnh ủy", "07/09/2026"), ("Thanh tra tỉnh", "05/10/2026"),
        ("MTTQ tỉnh", "02/11/2026")]
    assert len(doc.inline_shapes) == 3  # the three charts
    everything = text + " ".join(c.text for tb in doc.tables for r in tb.rows for c in r.cells)
    assert not any(secret in everything for secret in SECRET)


async def test_csv_and_markdown(core) -> None:
    await seed_year(core)
    report = await _report(core, with_charts=False)
    data = render(report, core.rules, "csv")
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "Cơ quan" and rows[-1][:2] == ["Tổng cộng", "9"]
    md = render(report, core.rules, "md", "en").decode()
    assert md.startswith("# REPORT ON RECEIVING") and "| Inspectorate | 7 | 2 |" in md
    with pytest.raises(ValueError):
        render(report, core.rules, "pdf")


async def test_targets_achieved_against_goal(core) -> None:
    await seed_year(core)
    async with core.sessions() as session, session.begin():
        results = await evaluate(session, core.rules, core.calendar, *YEAR, today=TODAY)
    got = {(r.target.id, r.agency_id): (r.done, r.counted, r.met) for r in results}
    # complaints resolved in 2026 by Thanh tra: C1, C8, C10, all on time
    assert got[("khieu-nai-dung-han", "thanh-tra")] == (3, 3, True)
    # denunciations and tips: C2 C6 C7 C9 acted on within 7 working days; C4 (Nội chính) too
    assert got[("to-cao-phan-loai-dung-han", "thanh-tra")] == (4, 4, True)
    assert got[("to-cao-phan-loai-dung-han", "noi-chinh")] == (1, 1, True)
    assert ("to-cao-phan-loai-dung-han", "mttq") not in got  # a petition: not counted


async def test_the_three_charts_render_with_vietnamese_labels(core) -> None:
    await seed_year(core)
    names = {a.id: a.short.vi if a.short else a.name.vi for a in core.rules.agencies}
    async with core.sessions() as session, session.begin():
        statuses = await series.status_by_agency(session, *YEAR)
        months = await series.on_time_by_month(session, core.calendar, *YEAR)
        weeks = await series.intake_by_week(session, *YEAR)
    assert statuses["thanh-tra"] == {"resolved": 3, "rejected": 1, "waiting_info": 1, "merged": 1}
    assert statuses["ubkt"] == {"accepted": 1} and "noi-chinh" not in statuses
    assert len(months) == 12 and months[YEAR[0]] == (1, 1)
    assert months[YEAR[0].replace(month=3)] == (2, 2) and months[YEAR[0].replace(month=7)] == (1, 0)
    assert len(weeks) == 53 and sum(sum(w.values()) for w in weeks.values()) == 9
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph (an unrendered Vietnamese letter) would warn
        pngs = [charts.status_chart(statuses, names), charts.on_time_chart(months, goal=90),
                charts.intake_chart(weeks), charts.status_chart({}, names)]
    for png in pngs:
        assert png.startswith(PNG) and len(png) > 10_000
        image = imread(io.BytesIO(png))
        height, width = image.shape[:2]
        assert width >= 800 and height >= 500
        assert len({tuple(p) for p in image.reshape(-1, image.shape[2])[::97]}) > 20  # not blank


def test_cli_report_contract(tmp_path, db_url) -> None:
    env = {"DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-m", "bot", "report", "--from", "2026-01-01", "--to", "2026-06-30"]
    md = subprocess.run([*run, "--format", "md"], capture_output=True, env=env, cwd=tmp_path, timeout=120)
    assert md.returncode == 0, md.stderr
    text = md.stdout.decode()
    assert "01/01/2026" in text
    for name in ("status", "on_time", "intake"):  # the charts beside the report, linked from it
        png = f"report-2026-01-01-2026-06-30-{name}.png"
        assert f"]({png})" in text and png in md.stderr.decode()
        assert (tmp_path / png).read_bytes().startswith(PNG)
    out = tmp_path / "r.xlsx"
    xlsx = subprocess.run([*run, "--format", "xlsx", "--output", str(out)], capture_output=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert xlsx.returncode == 0
    book = load_workbook(out)
    assert book.sheetnames == ["Số liệu", "Vụ việc", "Biểu đồ"]
    assert len(book["Biểu đồ"]._images) == 3
    bad = subprocess.run([*run[:-1], "2025-01-01", "--format", "md"], capture_output=True, env=env,
                         cwd=tmp_path, timeout=120)
    assert bad.returncode == 2 and b"before" in bad.stderr
    worse = subprocess.run([*run, "--format", "pdf"], capture_output=True, env=env, cwd=tmp_path, timeout=120)
    assert worse.returncode == 2
    one_day = [sys.executable, "-m", "bot", "report", "--from", "2026-03-02", "--to", "2026-03-02"]
    day = subprocess.run([*one_day, "--format", "md"], capture_output=True, env=env, cwd=tmp_path,
                         timeout=120)
    assert day.returncode == 0, day.stderr  # a yearly count target over one day has a goal of nothing


async def test_count_targets_in_the_chat_the_docx_and_the_xlsx(core) -> None:
    from bot.figures.chat import targets_text
    from bot.rules import TargetSpec

    await seed_year(core)
    extra = TargetSpec(id="tt-thu-ly", title={"vi": "Thanh tra thụ lý ít nhất 4 vụ việc mỗi năm"},
                       measure="accepted", count=4, per="year", agencies=["thanh-tra"])
    rules = core.rules.model_copy(update={"targets": [*core.rules.targets, extra]})
    async with core.sessions() as session, session.begin():
        results = await evaluate(session, rules, core.calendar, *YEAR, today=TODAY)
        report = await build(session, rules, core.calendar, *YEAR, today=TODAY, with_charts=False)
    got = {(r.target.id, r.agency_id): (r.achieved, r.goal, r.ratio, r.met) for r in results}
    assert got[("tt-thu-ly", "thanh-tra")] == (2.0, 4, 50.0, False)  # two accepted in the year
    assert got[("bao-thu-ly-don-thu", "bao")] == (0.0, 36, 0.0, False)  # none reached is still a result
    line = "❌ Thanh tra thụ lý ít nhất 4 vụ việc mỗi năm — Thanh tra tỉnh: đạt 2 vụ việc"
    assert f"{line} / chỉ tiêu 4 vụ việc (50% chỉ tiêu)" in targets_text(rules, results)
    doc = Document(io.BytesIO(render(report, rules, "docx")))
    rows = [[c.text for c in r.cells] for tb in doc.tables for r in tb.rows]
    assert ["Thanh tra thụ lý ít nhất 4 vụ việc mỗi năm", "Thanh tra tỉnh", "vụ việc", "4", "2", "50",
            "Chưa đạt"] in rows
    assert ["Giải quyết đúng hạn ít nhất 90% vụ việc khiếu nại", "Thanh tra tỉnh", "%", "90", "100", "111,1",
            "Đạt"] in rows
    book = load_workbook(io.BytesIO(render(report, rules, "xlsx")))
    cells = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    row = ["Thanh tra thụ lý ít nhất 4 vụ việc mỗi năm", "Thanh tra tỉnh", "vụ việc", 4, 2, 0.5, "Chưa đạt"]
    assert row in [c[:7] for c in cells]  # the share of the target as a percentage


async def test_charts_count_in_whole_cases_label_the_target_print_in_grey_and_say_when_empty(core) -> None:
    from PIL import Image

    await seed_year(core)
    names = {a.id: a.short.vi if a.short else a.name.vi for a in core.rules.agencies}
    async with core.sessions() as session, session.begin():
        report = await build(session, core.rules, core.calendar, *YEAR, today=TODAY)
        statuses = await series.status_by_agency(session, *YEAR)
        weeks = await series.intake_by_week(session, *YEAR)
        months = await series.on_time_by_month(session, core.calendar, *YEAR)
    for png in report.charts.values():
        assert Image.open(io.BytesIO(png)).info["dpi"] == pytest.approx((150, 150), abs=0.1)

    def counts_are_whole(ticks, top: float) -> bool:
        shown = [x for x in ticks if 0 <= x <= top]
        return len(shown) >= 2 and all(float(x).is_integer() for x in shown)

    few = charts.status_figure({"thanh-tra": {"new": 1}, "ubkt": {"accepted": 1}}, names).axes[0]
    assert counts_are_whole(few.get_xticks(), few.get_xlim()[1])  # not 0.25 of a case
    status = charts.status_figure(statuses, names).axes[0]
    intake = charts.intake_figure(weeks).axes[0]
    assert counts_are_whole(intake.get_yticks(), intake.get_ylim()[1])
    for ax in (status, intake):
        hatches = [bars.patches[0].get_hatch() for bars in ax.containers]
        assert len(hatches) >= 3 and len(set(hatches)) == len(hatches)  # told apart without colour
        assert all(bars.patches[0].get_edgecolor()[:3] < (0.2, 0.2, 0.2) for bars in ax.containers)
    on_time = charts.on_time_figure(months, goal=90).axes[0]
    assert "Chỉ tiêu 90%" in [text.get_text() for text in on_time.get_legend().get_texts()]
    [target] = [line for line in on_time.get_lines() if line.get_label() == "Chỉ tiêu 90%"]
    assert target.get_linestyle() == "--" and target.get_ydata()[0] == 90
    empty = [charts.status_figure({}, names), charts.on_time_figure({YEAR[0]: (0, 0)}, goal=90),
             charts.intake_figure({YEAR[0]: {}}), charts.status_figure({"bao": {}}, names, "en")]
    said = [[text.get_text() for text in fig.axes[0].texts] for fig in empty]
    assert said == [["Chưa có số liệu"]] * 3 + [["No figures yet"]]
    assert all(not fig.axes[0].containers and not fig.axes[0].get_lines() for fig in empty)
