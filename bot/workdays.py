"""The Vietnamese working-day calendar that legal deadlines are counted in.

Days off are weekends, the public holidays of the Labour Code (lunar Tết, Hùng Kings' day, 30/4, 1/5, 2/9
and days off given in their place) as the `holidays` package knows them, plus the make-up working
Saturdays the government swaps in ("Ngày nghỉ (thay cho ngày 22/08/2026)" makes Saturday 22/08/2026 a
working day). A province may declare more days off or working days.

Counting follows the Civil Code 2015: a period starts the day after the event (Điều 147) and a period
ending on a day off ends on the next working day (Điều 148 khoản 5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


class WorkCalendar:
    """Working days in Vietnam, in one timezone, with optional provincial exceptions."""

    def __init__(
        self,
        timezone: str = DEFAULT_TIMEZONE,
        *,
        extra_days_off: Iterable[dt.date] = (),
        extra_working_days: Iterable[dt.date] = (),
    ) -> None:
        self.timezone = ZoneInfo(timezone)
        self.extra_days_off = frozenset(extra_days_off)
        self.extra_working_days = frozenset(extra_working_days)
        both = self.extra_days_off & self.extra_working_days
        if both:
            raise ValueError(f"dates both off and working: {', '.join(map(str, sorted(both)))}")
        self._holidays = holidays.country_holidays("VN", language="vi")

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """The local date of `now` (default: this moment) in the calendar's timezone; a server in UTC is
        7 hours behind Hanoi."""
        return (now or dt.datetime.now(dt.UTC)).astimezone(self.timezone).date()

    def is_working_day(self, day: dt.date) -> bool:
        """True on a working day: not a weekend or holiday, or a declared make-up working day."""
        if day in self.extra_working_days:
            return True
        if day in self.extra_days_off:
            return False
        # A make-up Saturday may belong to a swap listed under the next year (27/12/2014 for 2/1/2015).
        self._holidays.get(dt.date(day.year + 1, 1, 1))
        return self._holidays.is_working_day(day)

    def day_off_name(self, day: dt.date) -> str | None:
        """Why a day is off (the holiday's Vietnamese name, or the weekend); None on a working day."""
        if self.is_working_day(day):
            return None
        if day in self.extra_days_off:
            return "Ngày nghỉ của tỉnh"
        return self._holidays.get(day) or "Nghỉ cuối tuần"

    def roll_forward(self, day: dt.date) -> dt.date:
        """The day itself if it is a working day, else the next working day (BLDS 2015 Điều 148.5)."""
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def working_time(self, moment: dt.datetime, opens: dt.time = dt.time(8, 0),
                     closes: dt.time = dt.time(17, 0)) -> dt.datetime:
        """`moment` if it falls in working hours of a working day, else the next opening time (08:00 local
        of the next working day by default), so reminders never arrive at night or on Tết. Returns UTC."""
        local = moment.astimezone(self.timezone)
        day = local.date()
        if self.is_working_day(day) and opens <= local.time() < closes:
            return moment.astimezone(dt.UTC)
        if not self.is_working_day(day) or local.time() >= closes:
            day = self.next_working_day(day)
        return dt.datetime.combine(day, opens, self.timezone).astimezone(dt.UTC)

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        return self.roll_forward(day + dt.timedelta(days=1))

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after `start`; the start day itself never counts (BLDS Điều 147)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    def add_calendar_days(self, start: dt.date, n: int) -> dt.date:
        """`start` plus n days, moved onto the next working day when that is a day off."""
        return self.roll_forward(start + dt.timedelta(days=n))

    def add_months(self, start: dt.date, n: int) -> dt.date:
        """The same day n months later (the month's last day if it has none), rolled onto a working day."""
        return self.roll_forward(start + relativedelta(months=n))

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days after `a` up to and including `b`; negative when `b` is before `a`.

        So `working_days_between(start, add_working_days(start, n)) == n`, and the days left until a
        due date are `working_days_between(today, due)`.
        """
        if b < a:
            return -self.working_days_between(b, a)
        return sum(self.is_working_day(a + dt.timedelta(days=i)) for i in range(1, (b - a).days + 1))
