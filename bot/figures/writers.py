"""The periodic report as a document: DOCX (`report_docx`, in the official form), XLSX (`report_xlsx`),
CSV or Markdown.

Each holds a title and period, a paragraph of the totals, the figures by agency, the charts, targets met
and missed, and the oldest open cases; ready to edit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from bot.figures.report import Report
from bot.figures.report_docx import to_docx
from bot.figures.report_xlsx import to_xlsx
from bot.figures.rows import (
    FIGURE_COLUMNS,
    OLDEST_COLUMNS,
    TARGET_COLUMNS,
    cell,
    figure_values,
    heads,
    oldest_values,
    summary,
    target_values,
)
from bot.i18n import fmt_date, t
from bot.rules import Rules

FORMATS = ("docx", "xlsx", "csv", "md")


# ---- writers --------------------------------------------------------------------------------------------


def chart_file(stem: str, name: str) -> str:
    """The file a chart is written to beside a Markdown or CSV report named `stem`."""
    return f"{stem}-{name}.png"


def to_markdown(report: Report, rules: Rules, locale: str = "vi", stem: str = "report") -> bytes:
    """Markdown; the charts, if drawn, are linked as PNG files beside it (see `chart_file`)."""
    def table(heads: list[str], rows: list[list[Any]]) -> list[str]:
        lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
        lines += ["| " + " | ".join(cell(v, locale).replace("|", "/") for v in row) + " |" for row in rows]
        return lines

    out = [f"# {t('figures.report.title', locale)}", "",
           t("figures.report.period", locale, start=fmt_date(report.start), end=fmt_date(report.end)),
           t("figures.report.made", locale, day=fmt_date(report.made)), "",
           f"## {t('figures.report.figures', locale)}", "", summary(report, locale), ""]
    rows = [figure_values(rules, c, locale) for c in [*report.cards, report.overall]]
    out += [*table(heads(FIGURE_COLUMNS, locale), rows), ""]
    if report.charts:
        out += [f"## {t('figures.report.charts', locale)}", ""]
        out += [f"![{t(f'figures.chart.{name}', locale)}]({chart_file(stem, name)})"
                for name in report.charts]
        out.append("")
    out += [f"## {t('figures.report.targets', locale)}", ""]
    if report.targets:
        targets = [target_values(rules, r, locale) for r in report.targets]
        out += table(heads(TARGET_COLUMNS, locale), targets)
    else:
        out.append(t("figures.report.no_targets", locale))
    out += ["", f"## {t('figures.report.oldest', locale)}", ""]
    if report.oldest:
        oldest = [oldest_values(rules, r, locale) for r in report.oldest]
        out += table(heads(OLDEST_COLUMNS, locale), oldest)
    else:
        out.append(t("figures.report.no_oldest", locale))
    return ("\n".join(out) + "\n").encode("utf-8")


def to_csv(report: Report, rules: Rules, locale: str = "vi") -> bytes:
    """The figures table; UTF-8 with a byte-order mark so spreadsheets read the Vietnamese letters."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(heads(FIGURE_COLUMNS, locale))
    for card in [*report.cards, report.overall]:
        writer.writerow(["" if v is None else v for v in figure_values(rules, card, locale)])
    return buffer.getvalue().encode("utf-8-sig")


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
