"""The periodic report as a document: DOCX (python-docx), XLSX (openpyxl), CSV or Markdown.

Laid out like the agencies' own periodic reports: a title and period, a paragraph of the totals, the
figures by agency, the charts, targets met and missed, and the oldest open cases; ready to edit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from docx import Document
from docx.shared import Cm
from openpyxl import Workbook
from openpyxl.drawing.image import Image

from bot.figures.report import CaseRow, Report
from bot.figures.scorecard import Scorecard
from bot.figures.targets import TargetResult
from bot.figures.text import agency_name, field_name, label, number, percent
from bot.i18n import fmt_date, t
from bot.rules import Rules

FORMATS = ("docx", "xlsx", "csv", "md")
FIGURE_COLUMNS = ("agency", "received", "accepted", "transferred_in", "transferred_out", "resolved",
                  "on_time", "on_time_rate", "rejected", "referred", "merged", "open", "overdue", "watched",
                  "first_median", "first_p90", "resolution_median", "resolution_p90")
CASE_COLUMNS = ("code", "kind", "field", "place", "status", "lead", "received_on", "due_on", "closed_on")
TARGET_COLUMNS = ("target", "agency", "unit", "goal", "achieved", "ratio", "result")
OLDEST_COLUMNS = ("code", "kind", "lead", "status", "received_on", "due_on", "days_open")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def figure_values(rules: Rules, card: Scorecard, locale: str) -> list[Any]:
    """A scorecard as the row of the figures table (numbers stay numbers; None where undefined)."""
    return [
        agency_name(rules, card.agency_id, locale), card.received, card.accepted, card.transferred_in,
        card.transferred_out, card.resolved, card.resolved_on_time, _round(card.on_time_rate), card.rejected,
        card.referred, card.merged, card.open_now, card.overdue_now, card.watched_now,
        _round(card.first_action.median), _round(card.first_action.p90), _round(card.resolution.median),
        _round(card.resolution.p90),
    ]


def _case_values(rules: Rules, row: CaseRow, locale: str) -> list[Any]:
    return [row.code, label(f"kind.{row.kind}", locale), field_name(rules, row.field or "", locale),
            row.place or "", label(f"status.{row.status}", locale), agency_name(rules, row.lead, locale),
            row.received_on, row.due_on, row.closed_on]


def _oldest_values(rules: Rules, row: CaseRow, locale: str) -> list[Any]:
    return [row.code, label(f"kind.{row.kind}", locale), agency_name(rules, row.lead, locale),
            label(f"status.{row.status}", locale), fmt_date(row.received_on), fmt_date(row.due_on),
            row.days_open]


def _target_values(rules: Rules, result: TargetResult, locale: str) -> list[Any]:
    verdict = t("figures.report.met" if result.met else "figures.report.missed", locale)
    unit = t("figures.unit.cases" if result.target.counts else "figures.unit.percent", locale)
    return [result.target.title.get(locale), agency_name(rules, result.agency_id, locale), unit,
            result.goal, _round(result.achieved), _round(result.ratio), verdict]


def _heads(columns: tuple[str, ...], locale: str) -> list[str]:
    return [t(f"figures.col.{c}", locale) for c in columns]


def summary(report: Report, locale: str) -> str:
    o = report.overall
    return t("figures.report.summary", locale, received=o.received, accepted=o.accepted,
             transferred=o.transferred_out, resolved=o.resolved, rate=percent(o.on_time_rate, locale),
             rejected=o.rejected, referred=o.referred, open=o.open_now, overdue=o.overdue_now)


def _cell(value: Any, locale: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return number(value, locale)
    if hasattr(value, "strftime"):
        return fmt_date(value)
    return str(value)


# ---- writers --------------------------------------------------------------------------------------------


def chart_file(stem: str, name: str) -> str:
    """The file a chart is written to beside a Markdown or CSV report named `stem`."""
    return f"{stem}-{name}.png"


def to_markdown(report: Report, rules: Rules, locale: str = "vi", stem: str = "report") -> bytes:
    """Markdown; the charts, if drawn, are linked as PNG files beside it (see `chart_file`)."""
    def table(heads: list[str], rows: list[list[Any]]) -> list[str]:
        lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
        lines += ["| " + " | ".join(_cell(v, locale).replace("|", "/") for v in row) + " |" for row in rows]
        return lines

    out = [f"# {t('figures.report.title', locale)}", "",
           t("figures.report.period", locale, start=fmt_date(report.start), end=fmt_date(report.end)),
           t("figures.report.made", locale, day=fmt_date(report.made)), "",
           f"## {t('figures.report.figures', locale)}", "", summary(report, locale), ""]
    rows = [figure_values(rules, c, locale) for c in [*report.cards, report.overall]]
    out += [*table(_heads(FIGURE_COLUMNS, locale), rows), ""]
    if report.charts:
        out += [f"## {t('figures.report.charts', locale)}", ""]
        out += [f"![{t(f'figures.chart.{name}', locale)}]({chart_file(stem, name)})"
                for name in report.charts]
        out.append("")
    out += [f"## {t('figures.report.targets', locale)}", ""]
    if report.targets:
        targets = [_target_values(rules, r, locale) for r in report.targets]
        out += table(_heads(TARGET_COLUMNS, locale), targets)
    else:
        out.append(t("figures.report.no_targets", locale))
    out += ["", f"## {t('figures.report.oldest', locale)}", ""]
    if report.oldest:
        oldest = [_oldest_values(rules, r, locale) for r in report.oldest]
        out += table(_heads(OLDEST_COLUMNS, locale), oldest)
    else:
        out.append(t("figures.report.no_oldest", locale))
    return ("\n".join(out) + "\n").encode("utf-8")


def to_csv(report: Report, rules: Rules, locale: str = "vi") -> bytes:
    """The figures table; UTF-8 with a byte-order mark so spreadsheets read the Vietnamese letters."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_heads(FIGURE_COLUMNS, locale))
    for card in [*report.cards, report.overall]:
        writer.writerow(["" if v is None else v for v in figure_values(rules, card, locale)])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(report: Report, rules: Rules, locale: str = "vi") -> bytes:
    """Sheets: the figures (with targets below), the cases of the period (no reporter, ever) and, when
    drawn, the charts."""
    book = Workbook()
    sheet = book.active
    sheet.title = t("figures.report.sheet_figures", locale)
    sheet.append([t("figures.report.title", locale)])
    sheet.append([t("figures.report.period", locale, start=fmt_date(report.start), end=fmt_date(report.end))])
    sheet.append([])
    sheet.append(_heads(FIGURE_COLUMNS, locale))
    for card in [*report.cards, report.overall]:
        sheet.append(figure_values(rules, card, locale))
    sheet.append([])
    sheet.append(_heads(TARGET_COLUMNS, locale))
    for result in report.targets:
        sheet.append(_target_values(rules, result, locale))
    sheet.column_dimensions["A"].width = 28
    cases = book.create_sheet(t("figures.report.sheet_cases", locale))
    cases.append(_heads(CASE_COLUMNS, locale))
    for row in report.cases:
        cases.append(_case_values(rules, row, locale))
    for column in ("G", "H", "I"):
        for cell in cases[column][1:]:
            cell.number_format = "DD/MM/YYYY"
    if report.charts:
        drawn = book.create_sheet(t("figures.report.sheet_charts", locale))
        for n, (name, png) in enumerate(report.charts.items()):
            drawn.cell(row=1 + 32 * n, column=1, value=t(f"figures.chart.{name}", locale))
            picture = Image(io.BytesIO(png))
            drawn.add_image(picture, f"A{2 + 32 * n}")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_docx(report: Report, rules: Rules, locale: str = "vi") -> bytes:
    doc = Document()
    doc.add_heading(t("figures.report.title", locale), level=1)
    period = t("figures.report.period", locale, start=fmt_date(report.start), end=fmt_date(report.end))
    doc.add_paragraph(period)
    doc.add_paragraph(t("figures.report.made", locale, day=fmt_date(report.made)))
    doc.add_heading(t("figures.report.figures", locale), level=2)
    doc.add_paragraph(summary(report, locale))
    doc.add_paragraph(t("figures.report.by_agency", locale))
    _docx_table(doc, _heads(FIGURE_COLUMNS, locale),
                [figure_values(rules, c, locale) for c in [*report.cards, report.overall]], locale)
    if report.charts:
        doc.add_heading(t("figures.report.charts", locale), level=2)
        for png in report.charts.values():
            doc.add_picture(io.BytesIO(png), width=Cm(16))
    doc.add_heading(t("figures.report.targets", locale), level=2)
    if report.targets:
        _docx_table(doc, _heads(TARGET_COLUMNS, locale),
                    [_target_values(rules, r, locale) for r in report.targets], locale)
    else:
        doc.add_paragraph(t("figures.report.no_targets", locale))
    doc.add_heading(t("figures.report.oldest", locale), level=2)
    if report.oldest:
        _docx_table(doc, _heads(OLDEST_COLUMNS, locale),
                    [_oldest_values(rules, r, locale) for r in report.oldest], locale)
    else:
        doc.add_paragraph(t("figures.report.no_oldest", locale))
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _docx_table(doc: Any, heads: list[str], rows: list[list[Any]], locale: str) -> None:
    table = doc.add_table(rows=1, cols=len(heads))
    table.style = "Table Grid"
    for cell, head in zip(table.rows[0].cells, heads, strict=True):
        cell.text = head
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = _cell(value, locale)


WRITERS: dict[str, Callable[[Report, Rules, str], bytes]] = {
    "docx": to_docx, "xlsx": to_xlsx, "csv": to_csv, "md": to_markdown,
}


def render(report: Report, rules: Rules, fmt: str, locale: str = "vi", *, stem: str = "report") -> bytes:
    """The report in one of FORMATS; ValueError for another. `stem` names the chart files a Markdown
    report links to."""
    if fmt not in WRITERS:
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    if fmt == "md":
        return to_markdown(report, rules, locale, stem)
    return WRITERS[fmt](report, rules, locale)
