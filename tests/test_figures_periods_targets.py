"""Periods as officers type them, and targets in the rules file checked with FILE:LINE errors."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from bot.figures.periods import PeriodError, parse_period
from bot.rules import RulesError, load_rules
from tests.conftest import ROOT, SAMPLE_RULES

TODAY = dt.date(2026, 8, 14)


@pytest.mark.parametrize("text, start, end", [
    (None, "2026-08-01", "2026-08-14"),
    ("tháng", "2026-08-01", "2026-08-14"),
    ("thang-truoc", "2026-07-01", "2026-07-31"),
    ("last month", "2026-07-01", "2026-07-31"),
    ("quý", "2026-07-01", "2026-08-14"),
    ("6thang", "2026-07-01", "2026-08-14"),
    ("6 tháng", "2026-07-01", "2026-08-14"),
    ("năm", "2026-01-01", "2026-08-14"),
    ("year", "2026-01-01", "2026-08-14"),
    ("01/01/2026 30/06/2026", "2026-01-01", "2026-06-30"),
    ("2025-12-01 2026-01-31", "2025-12-01", "2026-01-31"),
])
def test_periods(text, start, end) -> None:
    assert parse_period(text, TODAY) == (dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def test_last_month_in_january_is_december() -> None:
    assert parse_period("thang truoc", dt.date(2026, 1, 5)) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))


@pytest.mark.parametrize("text, key", [
    ("hôm qua", "figures.period.bad"),
    ("30/02/2026 01/03/2026", "figures.period.bad_date"),
    ("2026-03-01 2026-02-01", "figures.period.reversed"),
    ("2026-13-01 2026-12-01", "figures.period.bad_date"),
])
def test_bad_periods(text, key) -> None:
    with pytest.raises(PeriodError) as err:
        parse_period(text, TODAY)
    assert err.value.key == key


BAD_TARGETS = """
targets:
  - id: t1
    title: {vi: "Phân loại đúng hạn"}
    measure: first_action_within
    percent: 100
    agencies: [thanh-tra, so-khong-co]
    kinds: [complaint, gossip]
  - id: t1
    title: {vi: "Giải quyết đúng hạn"}
    measure: resolved_on_time
    within_days: 5
    percent: 90
    valid_from: 2026-06-01
    valid_to: 2026-01-01
  - id: t3
    title: {vi: "Quá trăm"}
    measure: resolved_on_time
    percent: 120
"""


def test_targets_are_validated_with_their_lines(tmp_path) -> None:
    text = SAMPLE_RULES.read_text(encoding="utf-8")
    text = text[: text.index("\ntargets:")] + "\n" + BAD_TARGETS
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    base = text.count("\n", 0, text.index("\ntargets:")) + 2  # the line of "targets:" (1-based)
    with pytest.raises(RulesError) as err:
        load_rules(path)
    too_much = "targets.2.percent: Input should be less than or equal to 100"
    assert err.value.problems == [f"{path}:{base + 17}: {too_much}"]
    fixed = text.replace("percent: 120", "percent: 95")
    path.write_text(fixed, encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rules(path)
    problems = "\n".join(err.value.problems)
    assert f"{path}:{base + 7}: duplicate id 't1' in targets" in problems
    assert f"{path}:{base + 5}: unknown agency 'so-khong-co'" in problems
    assert f"{path}:{base + 6}: unknown kind 'gossip'" in problems
    assert f"{path}:{base + 3}: target 't1': first_action_within needs within_days" in problems
    assert f"{path}:{base + 10}: target 't1': within_days only applies to first_action_within" in problems
    assert f"{path}:{base + 13}: target 't1': valid_to 2026-01-01 is before valid_from 2026-06-01" in problems
    run = subprocess.run([sys.executable, "-m", "bot", "check-rules", str(path)], capture_output=True,
                         cwd=ROOT, timeout=120)
    assert run.returncode == 1 and f"{path}:{base + 5}: unknown agency" in run.stderr.decode()


def test_sample_targets_load() -> None:
    rules = load_rules(SAMPLE_RULES)
    assert {t.id: (t.percent, t.count) for t in rules.targets} == {
        "to-cao-phan-loai-dung-han": (100, None), "khieu-nai-dung-han": (90, None),
        "bao-thu-ly-don-thu": (None, 36)}


BAD_COUNT_TARGETS = """
targets:
  - id: c1
    title: {vi: "Thụ lý ít nhất 36 đơn"}
    measure: accepted
    percent: 90
  - id: c2
    title: {vi: "Giải quyết đúng hạn"}
    measure: resolved_on_time
    count: 10
  - id: c3
    title: {vi: "Chuyển đơn"}
    measure: transferred_out
    count: 0
"""


def test_count_targets_are_validated_with_their_lines(tmp_path) -> None:
    text = SAMPLE_RULES.read_text(encoding="utf-8")
    text = text[: text.index("\ntargets:")] + "\n" + BAD_COUNT_TARGETS
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    base = text.count("\n", 0, text.index("\ntargets:")) + 2
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert err.value.problems == [f"{path}:{base + 12}: targets.2.count: Input should be greater than 0"]
    path.write_text(text.replace("count: 0", "count: 8"), encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rules(path)
    problems = "\n".join(err.value.problems)
    assert f"{path}:{base + 3}: target 'c1': accepted is a number of cases: give count" in problems
    assert f"{path}:{base + 4}: target 'c1': accepted is a number of cases: count, not percent" in problems
    assert f"{path}:{base + 7}: target 'c2': resolved_on_time is a share of cases: give percent" in problems
    assert f"{path}:{base + 8}: target 'c2': count and per only apply to a number of cases" in problems


@pytest.mark.parametrize("per, start, end, wanted", [
    ("year", "2026-01-01", "2026-12-31", 36),  # a calendar year is the year's count
    ("year", "2026-01-01", "2026-06-30", 18),  # half of it for six months
    ("year", "2026-07-01", "2026-09-30", 9),  # a quarter
    ("quarter", "2026-01-01", "2026-12-31", 144),
    ("month", "2026-02-01", "2026-02-28", 36),  # February is a month, however short
    ("year", "2026-01-01", "2026-01-10", 1.0),  # ten days of a year's 36: about one
])
def test_a_count_goal_is_scaled_to_the_period(per, start, end, wanted) -> None:
    from bot.figures.targets import goal
    from bot.rules import TargetSpec

    target = TargetSpec(id="t", title={"vi": "x"}, measure="accepted", count=36, per=per)
    assert goal(target, dt.date.fromisoformat(start), dt.date.fromisoformat(end)) == wanted
