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
    assert {t.id: t.percent for t in rules.targets} == {"to-cao-phan-loai-dung-han": 100,
                                                        "khieu-nai-dung-han": 90}
