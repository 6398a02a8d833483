"""The Vietnamese working-day calendar, checked against the real 2026-2027 calendar worked out by hand.

2026: Tết off Mon 16 - Fri 20 Feb; Hùng Kings' day Sun 26 Apr, off Mon 27 Apr instead; 30/4 Thu and
1/5 Fri off; 2/9 break Mon 31 Aug - Wed 2 Sep, with Sat 22 Aug worked in exchange for Mon 31 Aug.
2027: lunar new year on Sat 6 Feb; the days off are Thu 4 - Wed 10 Feb (Saturday's holiday moved to the
Thursday before, Sunday's to the Wednesday after), as the `holidays` package estimates them.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfoNotFoundError

import pytest

from bot.workdays import WorkCalendar

D = dt.date.fromisoformat


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


@pytest.mark.parametrize("day", ["2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20"])
def test_tet_2026_weekdays_are_days_off(cal: WorkCalendar, day: str) -> None:
    assert not cal.is_working_day(D(day))


def test_working_days_either_side_of_tet_2026(cal: WorkCalendar) -> None:
    assert cal.is_working_day(D("2026-02-13"))  # Friday before Tết
    assert cal.is_working_day(D("2026-02-23"))  # Monday after Tết


def test_two_working_days_from_thursday_before_tet_2026_skip_the_whole_break(cal: WorkCalendar) -> None:
    # Thu 12 Feb: Fri 13 is day 1, then nothing until Mon 23 (day 2).
    assert cal.add_working_days(D("2026-02-12"), 2) == D("2026-02-23")


def test_seven_working_days_across_tet_2026(cal: WorkCalendar) -> None:
    # Tue 10 Feb: Wed 11, Thu 12, Fri 13, (break), Mon 23, Tue 24, Wed 25, Thu 26.
    assert cal.add_working_days(D("2026-02-10"), 7) == D("2026-02-26")


def test_only_one_working_day_between_friday_before_and_monday_after_tet_2026(cal: WorkCalendar) -> None:
    assert cal.working_days_between(D("2026-02-13"), D("2026-02-23")) == 1


@pytest.mark.parametrize("day", ["2027-02-04", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10"])
def test_tet_2027_weekdays_are_days_off(cal: WorkCalendar, day: str) -> None:
    assert not cal.is_working_day(D(day))


def test_seven_working_days_across_tet_2027(cal: WorkCalendar) -> None:
    # Tue 2 Feb 2027: Wed 3 (1), break Thu 4 - Wed 10, Thu 11, Fri 12, Mon 15, Tue 16, Wed 17, Thu 18 (7).
    assert cal.add_working_days(D("2027-02-02"), 7) == D("2027-02-18")


def test_hung_kings_day_on_sunday_2026_gives_monday_off(cal: WorkCalendar) -> None:
    # Fri 24 Apr 2026 + 1 working day: Sat, Sun (26, the holiday), Mon 27 (day off instead) -> Tue 28.
    assert not cal.is_working_day(D("2026-04-27"))
    assert cal.add_working_days(D("2026-04-24"), 1) == D("2026-04-28")


def test_30_april_1_may_2026_break(cal: WorkCalendar) -> None:
    # Wed 29 Apr + 1: Thu 30/4 and Fri 1/5 are holidays, then the weekend -> Mon 4 May.
    assert not cal.is_working_day(D("2026-04-30"))
    assert not cal.is_working_day(D("2026-05-01"))
    assert cal.add_working_days(D("2026-04-29"), 1) == D("2026-05-04")


def test_national_day_2026_break_and_its_swapped_day(cal: WorkCalendar) -> None:
    for day in ("2026-08-31", "2026-09-01", "2026-09-02"):
        assert not cal.is_working_day(D(day)), day
    # Fri 28 Aug + 1: Sat, Sun, Mon 31 (swapped), Tue 1/9, Wed 2/9 -> Thu 3 Sep.
    assert cal.add_working_days(D("2026-08-28"), 1) == D("2026-09-03")


def test_make_up_saturday_22_august_2026_is_a_working_day(cal: WorkCalendar) -> None:
    assert cal.is_working_day(D("2026-08-22"))
    assert cal.day_off_name(D("2026-08-22")) is None
    # Fri 21 Aug + 1 working day is that Saturday, not Monday 24.
    assert cal.add_working_days(D("2026-08-21"), 1) == D("2026-08-22")
    # Mon 17 - Sun 23 Aug: Tue-Fri (4) plus the make-up Saturday.
    assert cal.working_days_between(D("2026-08-17"), D("2026-08-23")) == 5


def test_ordinary_saturday_is_not_a_working_day(cal: WorkCalendar) -> None:
    assert not cal.is_working_day(D("2026-08-29"))


def test_counting_from_a_friday_starts_on_monday(cal: WorkCalendar) -> None:
    # Fri 13 Mar 2026 (no holiday near): day 1 is Mon 16, day 5 is Fri 20.
    assert cal.add_working_days(D("2026-03-13"), 1) == D("2026-03-16")
    assert cal.add_working_days(D("2026-03-13"), 5) == D("2026-03-20")
    # One calendar day after a Friday is Saturday, so the period ends on Monday.
    assert cal.add_calendar_days(D("2026-03-13"), 1) == D("2026-03-16")


def test_calendar_deadline_on_a_sunday_moves_to_monday(cal: WorkCalendar) -> None:
    # Thu 12 Mar 2026 + 10 days = Sun 22 Mar -> Mon 23 Mar.
    assert cal.add_calendar_days(D("2026-03-12"), 10) == D("2026-03-23")


def test_calendar_deadline_on_a_holiday_moves_past_the_break(cal: WorkCalendar) -> None:
    # Mon 20 Apr 2026 + 10 days = Thu 30/4 -> Fri 1/5, Sat, Sun -> Mon 4 May.
    assert cal.add_calendar_days(D("2026-04-20"), 10) == D("2026-05-04")


def test_calendar_deadline_on_a_working_day_stays(cal: WorkCalendar) -> None:
    # Tue 10 Mar 2026 + 30 days = Thu 9 Apr 2026.
    assert cal.add_calendar_days(D("2026-03-10"), 30) == D("2026-04-09")


def test_months_end_on_the_last_day_of_a_shorter_month_then_roll(cal: WorkCalendar) -> None:
    # 31 Jan 2026 + 1 month = 28 Feb 2026 (Saturday) -> Mon 2 Mar.
    assert cal.add_months(D("2026-01-31"), 1) == D("2026-03-02")


def test_months_landing_in_tet_2027_roll_past_it(cal: WorkCalendar) -> None:
    # 6 Dec 2026 + 2 months = Sat 6 Feb 2027, lunar new year -> first working day Thu 11 Feb.
    assert cal.add_months(D("2026-12-06"), 2) == D("2027-02-11")


def test_next_working_day_is_strictly_after(cal: WorkCalendar) -> None:
    assert cal.next_working_day(D("2026-03-16")) == D("2026-03-17")  # Mon -> Tue
    assert cal.next_working_day(D("2026-02-13")) == D("2026-02-23")  # Fri before Tết -> after it
    assert cal.roll_forward(D("2026-03-16")) == D("2026-03-16")


def test_working_days_between_is_zero_for_the_same_day_and_negative_backwards(cal: WorkCalendar) -> None:
    assert cal.working_days_between(D("2026-03-16"), D("2026-03-16")) == 0
    # Fri 20 Mar back to Fri 13 Mar: 5 working days, counted negative.
    assert cal.working_days_between(D("2026-03-20"), D("2026-03-13")) == -5


def test_new_year_2027_is_a_day_off(cal: WorkCalendar) -> None:
    # Thu 31 Dec 2026 + 1: Fri 1 Jan 2027 off, weekend -> Mon 4 Jan.
    assert cal.add_working_days(D("2026-12-31"), 1) == D("2027-01-04")


def test_day_off_names_say_why(cal: WorkCalendar) -> None:
    assert "Tết" in (cal.day_off_name(D("2026-02-17")) or "")
    assert cal.day_off_name(D("2026-03-14")) == "Nghỉ cuối tuần"
    assert cal.day_off_name(D("2026-03-16")) is None


def test_province_may_declare_an_extra_day_off() -> None:
    cal = WorkCalendar(extra_days_off=[D("2026-03-16")])
    # Fri 13 Mar + 1: Mon 16 is now off -> Tue 17.
    assert cal.add_working_days(D("2026-03-13"), 1) == D("2026-03-17")


def test_province_may_declare_an_extra_working_day() -> None:
    cal = WorkCalendar(extra_working_days=[D("2026-03-14")])
    assert cal.add_working_days(D("2026-03-13"), 1) == D("2026-03-14")


def test_a_day_cannot_be_both_off_and_working() -> None:
    with pytest.raises(ValueError, match="2026-03-14"):
        WorkCalendar(extra_days_off=[D("2026-03-14")], extra_working_days=[D("2026-03-14")])


def test_today_is_the_local_date_of_the_timezone() -> None:
    # UTC+14 and UTC-12 are 26 hours apart, so their dates always differ.
    assert WorkCalendar("Pacific/Kiritimati").today() > WorkCalendar("Etc/GMT+12").today()


def test_unknown_timezone_is_refused() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        WorkCalendar("Mars/Olympus_Mons")


def test_negative_working_days_are_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add_working_days(D("2026-03-13"), -1)
