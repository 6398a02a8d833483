"""The periodic report's tables as rows of values, shared by every format it is written in.

Numbers stay numbers (None where undefined), so a spreadsheet can sum them; `cell` writes a value as
text where a document needs it.
"""

from __future__ import annotations

from typing import Any

from bot.figures.report import CaseRow, Report
from bot.figures.scorecard import Scorecard
from bot.figures.targets import TargetResult
from bot.figures.text import agency_name, field_name, label, number, percent
from bot.i18n import fmt_date, t
from bot.rules import Rules

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


def case_values(rules: Rules, row: CaseRow, locale: str) -> list[Any]:
    return [row.code, label(f"kind.{row.kind}", locale), field_name(rules, row.field or "", locale),
            row.place or "", label(f"status.{row.status}", locale), agency_name(rules, row.lead, locale),
            row.received_on, row.due_on, row.closed_on]


def oldest_values(rules: Rules, row: CaseRow, locale: str) -> list[Any]:
    return [row.code, label(f"kind.{row.kind}", locale), agency_name(rules, row.lead, locale),
            label(f"status.{row.status}", locale), fmt_date(row.received_on), fmt_date(row.due_on),
            row.days_open]


def target_values(rules: Rules, result: TargetResult, locale: str) -> list[Any]:
    verdict = t("figures.report.met" if result.met else "figures.report.missed", locale)
    unit = t("figures.unit.cases" if result.target.counts else "figures.unit.percent", locale)
    return [result.target.title.get(locale), agency_name(rules, result.agency_id, locale), unit,
            result.goal, _round(result.achieved), _round(result.ratio), verdict]


def heads(columns: tuple[str, ...], locale: str) -> list[str]:
    return [t(f"figures.col.{c}", locale) for c in columns]


def summary(report: Report, locale: str) -> str:
    o = report.overall
    return t("figures.report.summary", locale, received=o.received, accepted=o.accepted,
             transferred=o.transferred_out, resolved=o.resolved, rate=percent(o.on_time_rate, locale),
             rejected=o.rejected, referred=o.referred, open=o.open_now, overdue=o.overdue_now)


def cell(value: Any, locale: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return number(value, locale)
    if hasattr(value, "strftime"):
        return fmt_date(value)
    return str(value)
