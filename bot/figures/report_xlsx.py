"""The periodic report as a workbook (openpyxl) that prints as it reads on screen.

Each sheet opens with a title row and a row naming the issuer and the period; its header row is bold and
stays in view (frozen) while scrolling; columns are as wide as their content; counts are whole numbers,
shares are percentages (stored as fractions, so formulas work), working days have one decimal; printing
is A4 landscape, one page wide, with the header row repeated on every page.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.documents.form import letterhead
from bot.figures.report import Report
from bot.figures.rows import (
    CASE_COLUMNS,
    FIGURE_COLUMNS,
    TARGET_COLUMNS,
    case_values,
    figure_values,
    heads,
    target_values,
)
from bot.i18n import fmt_date, t
from bot.rules import Rules

WHOLE, PERCENT, DAYS, DATE = "0", "0.0%", "0.0", "DD/MM/YYYY"
HEADER_ROW = 4  # the title, the issuer and period, a blank row, then the header
MAX_WIDTH = 45  # characters; longer texts wrap
CHART_ROWS = 32  # rows a chart takes on the charts sheet
FIGURE_FORMATS: dict[str, str] = {
    **{c: WHOLE for c in FIGURE_COLUMNS[1:]}, "on_time_rate": PERCENT,
    **{c: DAYS for c in ("first_median", "first_p90", "resolution_median", "resolution_p90")},
}
CASE_FORMATS = {"received_on": DATE, "due_on": DATE, "closed_on": DATE}


def _share(value: Any) -> Any:
    """A percent figure (75.0) as the fraction a spreadsheet formats as a percentage (0.75)."""
    return None if value is None else value / 100


def _figure_row(rules: Rules, card: Any, locale: str) -> list[Any]:
    values = figure_values(rules, card, locale)
    rate = FIGURE_COLUMNS.index("on_time_rate")
    values[rate] = _share(values[rate])
    return values


def _target_row(rules: Rules, result: Any, locale: str) -> tuple[list[Any], list[str | None]]:
    """A target's row and its formats: shares as percentages, counts as numbers of cases."""
    values = target_values(rules, result, locale)
    share = not result.target.counts
    for column in ("goal", "achieved", "ratio"):
        i = TARGET_COLUMNS.index(column)
        if share or column == "ratio":
            values[i] = _share(values[i])
    formats = [None, None, None, PERCENT if share else WHOLE, PERCENT if share else DAYS, PERCENT, None]
    return values, formats


def _titled(sheet: Worksheet, title: str, subtitle: str) -> None:
    sheet.append([title])
    sheet.append([subtitle])
    sheet.append([])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"].font = Font(italic=True)


def _header(sheet: Worksheet, labels: Sequence[str]) -> int:
    """A bold header row whose labels wrap; its row number."""
    sheet.append(list(labels))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    return sheet.max_row


def _append(sheet: Worksheet, values: Sequence[Any], formats: Sequence[str | None]) -> None:
    sheet.append(list(values))
    for cell, number_format in zip(sheet[sheet.max_row], formats, strict=False):
        if number_format:
            cell.number_format = number_format


def _shown(value: Any, number_format: str | None) -> str:
    """About what a cell shows, to size its column."""
    if value is None:
        return ""
    if number_format == PERCENT:
        return f"{value * 100:.1f}%"
    if number_format == DATE:
        return "00/00/0000"
    return str(value)


def _fit_columns(sheet: Worksheet, header_rows: set[int]) -> None:
    """Each column as wide as its widest value or its header's longest word, up to MAX_WIDTH (then
    wrapped); the title rows above the first header are left to overflow."""
    widths: dict[int, int] = {}
    for row in sheet.iter_rows(min_row=min(header_rows)):
        for cell in row:
            text = _shown(cell.value, cell.number_format if cell.number_format != "General" else None)
            words = max((len(w) for w in text.split()), default=0)
            need = (words if cell.row in header_rows else len(text)) + 2
            widths[cell.column] = max(widths.get(cell.column, 8), min(need, MAX_WIDTH))
            if len(text) > MAX_WIDTH:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = width


def _print_setup(sheet: Worksheet, repeat_header: bool = True) -> None:
    """A4 landscape, one page wide and as many long as needed, the header row on every page."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    if repeat_header:
        sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
        sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=2)


def _figures_sheet(sheet: Worksheet, report: Report, rules: Rules, locale: str, subtitle: str) -> None:
    _titled(sheet, t("figures.report.title", locale), subtitle)
    header_rows = {_header(sheet, heads(FIGURE_COLUMNS, locale))}
    formats = [FIGURE_FORMATS.get(c) for c in FIGURE_COLUMNS]
    for card in [*report.cards, report.overall]:
        _append(sheet, _figure_row(rules, card, locale), formats)
    sheet[sheet.max_row][0].font = Font(bold=True)  # the total
    if report.targets:
        sheet.append([])
        header_rows.add(_header(sheet, heads(TARGET_COLUMNS, locale)))
        for result in report.targets:
            _append(sheet, *_target_row(rules, result, locale))
    _fit_columns(sheet, header_rows)
    _print_setup(sheet)


def _cases_sheet(sheet: Worksheet, report: Report, rules: Rules, locale: str, subtitle: str) -> None:
    _titled(sheet, t("figures.report.sheet_cases_title", locale), subtitle)
    header = _header(sheet, heads(CASE_COLUMNS, locale))
    formats = [CASE_FORMATS.get(c) for c in CASE_COLUMNS]
    for row in report.cases:
        _append(sheet, case_values(rules, row, locale), formats)
    _fit_columns(sheet, {header})
    _print_setup(sheet)


def _charts_sheet(sheet: Worksheet, report: Report, locale: str, subtitle: str) -> None:
    _titled(sheet, t("figures.report.charts", locale), subtitle)
    for n, (name, png) in enumerate(report.charts.items()):
        top = HEADER_ROW + CHART_ROWS * n
        sheet.cell(row=top, column=1, value=t(f"figures.chart.{name}", locale)).font = Font(bold=True)
        picture = Image(io.BytesIO(png))
        picture.width, picture.height = picture.width * 0.6, picture.height * 0.6
        sheet.add_image(picture, f"A{top + 1}")
    _print_setup(sheet, repeat_header=False)


def to_xlsx(report: Report, rules: Rules, locale: str = "vi") -> bytes:
    """Sheets: the figures (with targets below), the cases of the period (no reporter, ever) and, when
    drawn, the charts."""
    head = letterhead(rules, locale)
    issuer = t("figures.report.issuer_under", locale, issuer=head.issuer, parent=head.parent) if head.parent \
        else head.issuer
    subtitle = t("figures.report.sheet_subtitle", locale, issuer=issuer, start=fmt_date(report.start),
                 end=fmt_date(report.end))
    book = Workbook()
    sheets: list[tuple[str, Callable[[Worksheet], None]]] = [
        ("sheet_figures", lambda s: _figures_sheet(s, report, rules, locale, subtitle)),
        ("sheet_cases", lambda s: _cases_sheet(s, report, rules, locale, subtitle)),
    ]
    if report.charts:
        sheets.append(("sheet_charts", lambda s: _charts_sheet(s, report, locale, subtitle)))
    for n, (name, fill) in enumerate(sheets):
        sheet = book.active if n == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = t(f"figures.report.{name}", locale)
        fill(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
