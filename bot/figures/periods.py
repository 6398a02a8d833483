"""The periods figures are asked for: this month, last month, quarter, six months, year, or two dates.

Words are accepted in Vietnamese (with or without marks) and English; a period up to "now" ends today.
"""

from __future__ import annotations

import datetime as dt

from bot.dates import DateError, parse_day
from bot.textnorm import fold


class PeriodError(ValueError):
    """A period that cannot be read; `key` is the locale key of the explanation."""

    def __init__(self, key: str = "figures.period.bad") -> None:
        super().__init__(key)
        self.key = key


_WORDS = {
    "month": ("month", "thang", "thang nay"),
    "last_month": ("last-month", "last month", "thang truoc"),
    "quarter": ("quarter", "quy", "quy nay"),
    "half": ("half", "6m", "six months", "6 thang", "6thang", "sau thang"),
    "year": ("year", "nam", "nam nay"),
}


def parse_date(text: str) -> dt.date:
    """YYYY-MM-DD or dd/mm/yyyy."""
    try:
        return parse_day(text)
    except DateError:
        raise PeriodError("figures.period.bad_date") from None


def parse_period(text: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """(first day, last day) of the period named by `text` (default: this month)."""
    words = " ".join(fold(text or "").replace("_", " ").split())
    parts = (text or "").split()
    if len(parts) == 2 and all(any(c in p for c in "/-") and any(c.isdigit() for c in p) for p in parts):
        start, end = parse_date(parts[0]), parse_date(parts[1])
        if end < start:
            raise PeriodError("figures.period.reversed")
        return start, end
    name = next((n for n, forms in _WORDS.items() if words in forms), None) if words else "month"
    if name == "month":
        return today.replace(day=1), today
    if name == "last_month":
        last = today.replace(day=1) - dt.timedelta(days=1)
        return last.replace(day=1), last
    if name == "quarter":
        return dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    if name == "half":
        return dt.date(today.year, 1 if today.month <= 6 else 7, 1), today
    if name == "year":
        return dt.date(today.year, 1, 1), today
    raise PeriodError()
