"""The periodic report as a DOCX in the secretariat's official form, ready to number, sign and send.

The heading, number and date, "BÁO CÁO" and its summary line; then the figures (the table by agency on
landscape pages), the charts, the targets and the oldest open cases; then "Nơi nhận" and the signature.
"""

from __future__ import annotations

from bot.documents.form import letterhead
from bot.documents.official import OfficialDocument
from bot.figures.report import Report
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


def recipients(rules: Rules, locale: str) -> list[str]:
    """Who receives the report: the committee above the issuer, to report to, then the other agencies."""
    head = letterhead(rules, locale)
    names = [t("documents.to_report", locale, name=head.parent)] if head.parent else []
    return names + [a.name.get(locale) for a in rules.agencies if not a.secretariat]


def _table(doc: OfficialDocument, columns: tuple[str, ...], rows: list[list[object]], locale: str,
           caption: str | None = None) -> None:
    doc.table(heads(columns, locale), [[cell(v, locale) for v in row] for row in rows], caption)


def to_docx(report: Report, rules: Rules, locale: str = "vi") -> bytes:
    doc = OfficialDocument(letterhead(rules, locale))
    span = t("figures.report.span", locale, start=fmt_date(report.start), end=fmt_date(report.end))
    doc.heading_block("report", report.made, t("figures.report.type", locale),
                      [t("figures.report.subject", locale), span])
    doc.heading(t("figures.report.figures", locale))
    doc.paragraph(summary(report, locale))
    _table(doc, FIGURE_COLUMNS, [figure_values(rules, c, locale) for c in [*report.cards, report.overall]],
           locale, t("figures.report.by_agency", locale))
    if report.charts:
        doc.heading(t("figures.report.charts", locale))
        for name, png in report.charts.items():
            doc.picture(png, t(f"figures.chart.{name}", locale))
    doc.heading(t("figures.report.targets", locale))
    if report.targets:
        _table(doc, TARGET_COLUMNS, [target_values(rules, r, locale) for r in report.targets], locale)
    else:
        doc.paragraph(t("figures.report.no_targets", locale))
    doc.heading(t("figures.report.oldest", locale))
    if report.oldest:
        _table(doc, OLDEST_COLUMNS, [oldest_values(rules, r, locale) for r in report.oldest], locale)
    else:
        doc.paragraph(t("figures.report.no_oldest", locale))
    doc.closing(recipients(rules, locale))
    return doc.to_bytes()
