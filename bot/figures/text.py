"""Scorecards as chat text: one agency in full, or all agencies side by side for the secretariat."""

from __future__ import annotations

import datetime as dt

from bot.figures.scorecard import Durations, Scorecard, total
from bot.i18n import fmt_date, t
from bot.rules import Rules


def label(key: str, locale: str = "vi") -> str:
    """A locale text, or the key's last part when there is none (a status another module added)."""
    try:
        return t(key, locale)
    except KeyError:
        return key.rsplit(".", 1)[-1]


def number(value: float | None, locale: str = "vi", digits: int = 1) -> str:
    """A figure as people write it: no needless decimals, a comma in Vietnamese, a dash when missing."""
    if value is None:
        return t("figures.none", locale)
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else str(round(value))
    return text.replace(".", ",") if locale == "vi" else text


def percent(value: float | None, locale: str = "vi") -> str:
    return t("figures.none", locale) if value is None else f"{number(value, locale)}%"


def agency_name(rules: Rules, agency_id: str, locale: str = "vi") -> str:
    if agency_id == "all":
        return t("figures.all", locale)
    spec = rules.agency(agency_id)
    return (spec.short or spec.name).get(locale)


def field_name(rules: Rules, field_id: str, locale: str = "vi") -> str:
    if not field_id:
        return t("figures.no_field", locale)
    try:
        return rules.field(field_id).name.get(locale)
    except KeyError:
        return field_id


def _items(pairs: dict[str, int], name: object) -> str:
    ordered = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{name(k)} {v}" for k, v in ordered)  # type: ignore[operator]


def _durations(key: str, d: Durations, locale: str) -> str:
    return t(key, locale, median=number(d.median, locale), p90=number(d.p90, locale), n=d.count)


def scorecard_text(rules: Rules, card: Scorecard, locale: str = "vi") -> str:
    """One agency's figures, a line each."""
    lines = [
        t("figures.title", locale, agency=agency_name(rules, card.agency_id, locale),
          start=fmt_date(card.start), end=fmt_date(card.end)),
        t("figures.received", locale, n=card.received),
    ]
    if card.received_by_kind:
        lines.append(t("figures.by_kind", locale,
                       items=_items(card.received_by_kind, lambda k: label(f"kind.{k}", locale))))
    if card.received_by_field:
        lines.append(t("figures.by_field", locale,
                       items=_items(card.received_by_field, lambda f: field_name(rules, f, locale))))
    lines += [
        t("figures.accepted", locale, n=card.accepted),
        t("figures.transferred", locale, into=card.transferred_in, out=card.transferred_out),
        t("figures.resolved", locale, n=card.resolved, on_time=card.resolved_on_time,
          rate=percent(card.on_time_rate, locale)),
        t("figures.rejected", locale, n=card.rejected),
    ]
    if card.rejected_by_reason:
        lines.append(t("figures.reasons", locale, items=_items(
            card.rejected_by_reason, lambda r: label(f"officer.reject.{r}", locale))))
    lines += [
        t("figures.referred", locale, n=card.referred),
        t("figures.merged", locale, n=card.merged),
        t("figures.open", locale, n=card.open_now, overdue=card.overdue_now, watched=card.watched_now),
        _durations("figures.first_action", card.first_action, locale),
        _durations("figures.resolution", card.resolution, locale),
    ]
    return "\n".join(lines)


def side_by_side_text(rules: Rules, cards: list[Scorecard], start: dt.date, end: dt.date,
                      locale: str = "vi") -> str:
    """All agencies in a compact table (a line each, monospace-free), then the total in full."""
    lines = [t("figures.title_all", locale, start=fmt_date(start), end=fmt_date(end)),
             t("figures.table_head", locale)]
    for card in cards:
        lines.append(" | ".join([
            agency_name(rules, card.agency_id, locale), str(card.received), str(card.accepted),
            str(card.resolved), percent(card.on_time_rate, locale), str(card.overdue_now),
            str(card.open_now),
        ]))
    return "\n".join(lines) + "\n\n" + scorecard_text(rules, total(cards), locale)
