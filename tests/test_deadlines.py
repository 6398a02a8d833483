"""Deadline policies of the sample rules and the stage arithmetic, against dates worked out by hand.

Calendar facts used (2026): Tết off Mon 16 - Fri 20 Feb; 30/4 Thu and 1/5 Fri off; Sat 22 Aug worked in
exchange for Mon 31 Aug; 1-2 Sep off. 2027: Tết off Thu 4 - Wed 10 Feb. "ngày" = calendar days,
"ngày làm việc" = working days; counting starts the day after receipt.
"""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.rrule import rrulestr

from bot.deadlines import (
    DeadlineError,
    ExtensionLimitError,
    NoPolicyError,
    extend,
    policy_for,
    resume,
    schedule,
    stage_due,
)
from bot.kinds import KINDS
from bot.rules import DeadlinePolicy, Rules, Stage
from bot.workdays import WorkCalendar

D = dt.date.fromisoformat


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def _dues(stages) -> dict[str, dt.date]:
    return {s.stage: s.due for s in stages}


def _stage(rules: Rules, policy_id: str, stage_id: str) -> Stage:
    policy = next(p for p in rules.deadlines if p.id == policy_id)
    return next(s for s in policy.stages if s.id == stage_id)


# --- the sample policies -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("on", ["2022-01-03", "2026-11-23", "2027-06-01"])
def test_every_kind_has_a_policy_with_a_legal_basis(sample_rules: Rules, kind: str, on: str) -> None:
    policy = policy_for(sample_rules, kind, D(on))
    assert kind in policy.kinds
    assert policy.basis.strip()
    assert policy.stages


def test_every_deadline_policy_a_routing_rule_names_exists(sample_rules: Rules) -> None:
    ids = {p.id for p in sample_rules.deadlines}
    assert {r.deadline_policy for r in sample_rules.routing if r.deadline_policy} <= ids


def test_complaint_accepted_within_10_days_resolved_within_30(sample_rules: Rules, cal: WorkCalendar) -> None:
    # Tue 10 Feb 2026 + 10 days = Fri 20 Feb, in Tết -> Mon 23 Feb.
    # Not yet accepted: resolve counts from that latest acceptance date: 23 Feb + 30 days = Wed 25 Mar.
    stages = schedule(sample_rules, "complaint", D("2026-02-10"), cal)
    assert _dues(stages) == {"accept": D("2026-02-23"), "resolve": D("2026-03-25")}
    assert [s.unit for s in stages] == ["calendar_days", "calendar_days"]
    assert [s.estimated for s in stages] == [False, True]


def test_complaint_resolve_counts_from_the_real_acceptance(sample_rules: Rules, cal: WorkCalendar) -> None:
    # Accepted Tue 24 Feb 2026: + 30 days = Thu 26 Mar; complex: + 45 days = Fri 10 Apr.
    stages = schedule(sample_rules, "complaint", D("2026-02-10"), cal, accepted_on=D("2026-02-24"))
    assert _dues(stages)["resolve"] == D("2026-03-26")
    assert not stages[1].estimated
    complex_ = schedule(sample_rules, "complaint", D("2026-02-10"), cal, accepted_on=D("2026-02-24"),
                        complex=True)
    assert _dues(complex_)["resolve"] == D("2026-04-10")
    assert complex_[1].days == 45


def test_denunciation_classified_in_7_working_days_across_tet(sample_rules: Rules, cal: WorkCalendar) -> None:
    # Tue 10 Feb 2026: Wed 11, Thu 12, Fri 13, (Tết), Mon 23, Tue 24, Wed 25, Thu 26 = 7 working days.
    # Resolve: 26 Feb + 30 days = Sat 28 Mar -> Mon 30 Mar.
    stages = schedule(sample_rules, "denunciation", D("2026-02-10"), cal)
    assert _dues(stages) == {"classify": D("2026-02-26"), "resolve": D("2026-03-30")}
    assert stages[0].unit == "working_days"
    assert stages[1].unit == "calendar_days"


def test_complex_denunciation_gets_10_working_days_to_classify(
        sample_rules: Rules, cal: WorkCalendar) -> None:
    # From Thu 26 Feb (day 7): Fri 27 (8), Mon 2 Mar (9), Tue 3 Mar (10).
    stages = schedule(sample_rules, "denunciation", D("2026-02-10"), cal, complex=True)
    assert _dues(stages)["classify"] == D("2026-03-03")


def test_corruption_tip_is_processed_like_a_denunciation_across_tet_2027(
        sample_rules: Rules, cal: WorkCalendar) -> None:
    # Tue 2 Feb 2027: Wed 3 (1), Tết Thu 4 - Wed 10, Thu 11 .. Thu 18 (7).
    # Resolve: 18 Feb + 30 days = Sat 20 Mar 2027 -> Mon 22 Mar.
    stages = schedule(sample_rules, "corruption_tip", D("2027-02-02"), cal)
    assert _dues(stages) == {"classify": D("2027-02-18"), "resolve": D("2027-03-22")}
    assert "Tố cáo" in stages[1].basis and "tham nhũng" in policy_for(
        sample_rules, "corruption_tip", D("2027-02-02")).basis.lower()


def test_crime_report_resolved_within_20_days(sample_rules: Rules, cal: WorkCalendar) -> None:
    # Sun 1 Feb 2026 + 20 days = Sat 21 Feb -> Mon 23 Feb (Tết ended Fri 20).
    assert _dues(schedule(sample_rules, "crime_report", D("2026-02-01"), cal)) == {"verify": D("2026-02-23")}
    # Fri 10 Apr 2026 + 20 days = Thu 30 Apr, a holiday -> Mon 4 May.
    assert _dues(schedule(sample_rules, "crime_report", D("2026-04-10"), cal)) == {"verify": D("2026-05-04")}


def test_complex_crime_report_gets_two_months(sample_rules: Rules, cal: WorkCalendar) -> None:
    # Sun 1 Feb 2026 + 2 months = Wed 1 Apr 2026.
    stages = schedule(sample_rules, "crime_report", D("2026-02-01"), cal, complex=True)
    assert _dues(stages) == {"verify": D("2026-04-01")}
    assert (stages[0].days, stages[0].unit) == (2, "months")


def test_petition_processed_in_10_working_days_counting_the_make_up_saturday(
        sample_rules: Rules, cal: WorkCalendar) -> None:
    # Fri 14 Aug 2026: Mon 17 - Fri 21 (5), Sat 22 make-up (6), Mon 24 - Thu 27 (10).
    assert _dues(schedule(sample_rules, "petition", D("2026-08-14"), cal)) == {"process": D("2026-08-27")}


def test_party_rule_uses_30_working_days(sample_rules: Rules, cal: WorkCalendar) -> None:
    # Fri 14 Aug 2026: Aug 17-21 (5), Sat 22 (6), Aug 24-28 (11), 31/8-2/9 off, Sep 3-4 (13),
    # Sep 7-11 (18), 14-18 (23), 21-25 (28), Mon 28 (29), Tue 29 Sep (30).
    stages = schedule(sample_rules, "denunciation", D("2026-08-14"), cal, rule_id="dang-vien")
    assert _dues(stages) == {"discipline": D("2026-09-29")}
    assert "34-KL/TW" in stages[0].basis


def test_party_rule_falls_back_to_the_kind_after_its_policy_expires(sample_rules: Rules) -> None:
    assert policy_for(sample_rules, "denunciation", D("2031-01-06"), rule_id="dang-vien").id == "denunciation"


def test_rule_without_its_own_policy_uses_the_kind(sample_rules: Rules) -> None:
    assert policy_for(sample_rules, "complaint", D("2026-03-02"), rule_id="khieu-nai-chung").id == "complaint"


# --- validity ----------------------------------------------------------------------------------------

def test_kind_before_any_policy_is_in_force_gives_a_clear_error(sample_rules: Rules) -> None:
    # Thông tư 05/2021/TT-TTCP is in force from 15 Nov 2021.
    with pytest.raises(NoPolicyError, match=r"'petition'.*2021-11-14.*2021-11-15"):
        policy_for(sample_rules, "petition", D("2021-11-14"))
    assert policy_for(sample_rules, "petition", D("2021-11-15")).id == "petition"


def test_unknown_kind_and_unknown_rule_are_refused(sample_rules: Rules) -> None:
    with pytest.raises(NoPolicyError, match="unknown kind"):
        policy_for(sample_rules, "gossip", D("2026-03-02"))
    with pytest.raises(DeadlineError, match="no-such-rule"):
        policy_for(sample_rules, "complaint", D("2026-03-02"), rule_id="no-such-rule")


def test_newer_policy_replaces_the_old_one_from_its_start(sample_rules: Rules, cal: WorkCalendar) -> None:
    rules = sample_rules.model_copy(deep=True)
    next(p for p in rules.deadlines if p.id == "complaint").valid_to = D("2026-12-31")
    rules.deadlines.append(DeadlinePolicy.model_validate({
        "id": "complaint-2027", "kinds": ["complaint"], "basis": "a future law", "valid_from": "2027-01-01",
        "stages": [{"id": "accept", "name": {"vi": "Thụ lý"}, "days": 5, "unit": "working_days"}],
    }))
    assert policy_for(rules, "complaint", D("2026-12-31")).id == "complaint"
    # Mon 4 Jan 2027 + 5 working days = Mon 11 Jan.
    assert _dues(schedule(rules, "complaint", D("2027-01-04"), cal)) == {"accept": D("2027-01-11")}


def test_acceptance_before_receipt_is_refused(sample_rules: Rules, cal: WorkCalendar) -> None:
    with pytest.raises(DeadlineError, match="before"):
        schedule(sample_rules, "complaint", D("2026-02-10"), cal, accepted_on=D("2026-02-09"))


# --- extensions --------------------------------------------------------------------------------------

def test_denunciation_may_be_extended_twice_by_30_days(sample_rules: Rules, cal: WorkCalendar) -> None:
    stage = _stage(sample_rules, "denunciation", "resolve")
    # Mon 30 Mar 2026 + 30 days = Wed 29 Apr; + 30 days = Fri 29 May; a third time is refused.
    first = extend(D("2026-03-30"), stage, cal, times_already=0)
    assert first == D("2026-04-29")
    assert extend(first, stage, cal, times_already=1) == D("2026-05-29")
    with pytest.raises(ExtensionLimitError, match="at most 2"):
        extend(D("2026-05-29"), stage, cal, times_already=2)


def test_crime_report_may_be_extended_once_by_two_months(sample_rules: Rules, cal: WorkCalendar) -> None:
    stage = _stage(sample_rules, "crime-report", "verify")
    # Wed 1 Apr 2026 + 2 months = Mon 1 Jun 2026.
    assert extend(D("2026-04-01"), stage, cal, times_already=0) == D("2026-06-01")
    with pytest.raises(ExtensionLimitError, match="at most 1"):
        extend(D("2026-06-01"), stage, cal, times_already=1)


def test_complaint_cannot_be_extended(sample_rules: Rules, cal: WorkCalendar) -> None:
    with pytest.raises(ExtensionLimitError, match="no extension"):
        extend(D("2026-03-25"), _stage(sample_rules, "complaint", "resolve"), cal, times_already=0)


# --- pausing while waiting for the citizen -----------------------------------------------------------

def test_pause_on_a_working_day_stage_adds_the_working_days_paused(cal: WorkCalendar) -> None:
    # Paused Wed 11 Feb 2026, resumed Mon 23 Feb: Thu 12, Fri 13, Mon 23 = 3 working days (Tết not counted).
    # Due Thu 26 Feb + 3 working days = Fri 27, Mon 2, Tue 3 Mar.
    assert resume(D("2026-02-26"), D("2026-02-11"), D("2026-02-23"), "working_days", cal) == D("2026-03-03")


def test_pause_on_a_calendar_day_stage_adds_the_days_paused_and_rolls(cal: WorkCalendar) -> None:
    # Paused 2 -> 12 Mar 2026 = 10 days; due Wed 25 Mar + 10 = Sat 4 Apr -> Mon 6 Apr.
    assert resume(D("2026-03-25"), D("2026-03-02"), D("2026-03-12"), "calendar_days", cal) == D("2026-04-06")


def test_pause_resumed_the_same_day_changes_nothing(cal: WorkCalendar) -> None:
    assert resume(D("2026-03-25"), D("2026-03-02"), D("2026-03-02"), "calendar_days", cal) == D("2026-03-25")


def test_resume_before_the_pause_is_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="before"):
        resume(D("2026-03-25"), D("2026-03-12"), D("2026-03-02"), "working_days", cal)


def test_stage_due_uses_the_complex_limit_only_when_asked(sample_rules: Rules, cal: WorkCalendar) -> None:
    stage = _stage(sample_rules, "complaint", "resolve")
    # Accepted Tue 10 Mar 2026: + 30 = Thu 9 Apr; + 45 = Fri 24 Apr.
    assert stage_due(stage, D("2026-03-10"), cal) == D("2026-04-09")
    assert stage_due(stage, D("2026-03-10"), cal, complex=True) == D("2026-04-24")


# --- output ------------------------------------------------------------------------------------------

def test_stage_json_and_description(sample_rules: Rules, cal: WorkCalendar) -> None:
    accept, resolve = schedule(sample_rules, "complaint", D("2026-02-10"), cal)
    data = accept.to_json()
    assert {k: data[k] for k in ("stage", "due", "days", "unit", "start_from")} == {
        "stage": "accept", "due": "2026-02-23", "days": 10, "unit": "calendar_days",
        "start_from": "2026-02-10"}
    assert "Điều 27" in data["basis"]
    line = accept.describe()
    assert line.startswith("accept ")
    assert "2026-02-23" in line and "10 calendar days from 2026-02-10" in line and "Điều 27" in line
    assert "not known" in resolve.describe()
    assert "not known" not in line


# --- meeting schedules of the sample rules -----------------------------------------------------------

def _occurrences(rules: Rules, meeting_id: str, count: int) -> list[dt.date]:
    meeting = next(m for m in rules.meetings if m.id == meeting_id)
    start = dt.datetime.combine(meeting.start, dt.time(8, 0))
    return [d.date() for d in rrulestr(meeting.rrule, dtstart=start)[:count]]


def test_six_monthly_review_of_noi_chinh_and_thanh_tra(sample_rules: Rules) -> None:
    # Third Thursday of June and December: 18 Jun 2026, 17 Dec 2026, 17 Jun 2027.
    assert _occurrences(sample_rules, "noi-chinh-thanh-tra-6-thang", 3) == [
        D("2026-06-18"), D("2026-12-17"), D("2027-06-17")]


def test_yearly_briefing_chaired_by_noi_chinh_with_all_agencies(sample_rules: Rules) -> None:
    # Second Tuesday of January: 13 Jan 2026, 12 Jan 2027.
    assert _occurrences(sample_rules, "giao-ban-hang-nam", 2) == [D("2026-01-13"), D("2027-01-12")]
    meeting = next(m for m in sample_rules.meetings if m.id == "giao-ban-hang-nam")
    assert meeting.chair == "noi-chinh"
    assert set(meeting.agencies) == {a.id for a in sample_rules.agencies}


def test_meetings_fall_on_working_days(sample_rules: Rules, cal: WorkCalendar) -> None:
    for meeting in sample_rules.meetings:
        for day in _occurrences(sample_rules, meeting.id, 10):
            assert cal.is_working_day(day), (meeting.id, day)
