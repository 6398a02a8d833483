"""Loading and validating rules files: every problem is reported with the file and the real line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kinds import KINDS
from bot.rules import Rules, RulesError, load_rules

SAMPLE = Path(__file__).resolve().parent.parent / "rules" / "quang-ninh.yaml"

BASE = """\
province:
  id: demo
  name: {vi: Tỉnh Demo}
agencies:
  - id: thanh-tra
    name: {vi: Thanh tra tỉnh}
    chats: {telegram: "-100123"}
  - id: cong-an
    name: {vi: Công an tỉnh}
fields:
  - id: dat-dai
    name: {vi: Đất đai}
    agencies: [thanh-tra]
    keywords: [đất]
vocabulary:
  toi_pham: [trộm, lừa đảo]
routing:
  - id: toi-pham
    title: {vi: Tội phạm}
    when_any: ['@toi_pham']
    lead: cong-an
  - id: con-lai
    title: {vi: Còn lại}
    lead: thanh-tra
deadlines:
  - id: khieu-nai
    kinds: [complaint]
    basis: Luật Khiếu nại 2011
    valid_from: 2012-07-01
    stages:
      - {id: resolve, name: {vi: Giải quyết}, days: 30, unit: calendar_days}
meetings:
  - id: so-ket
    title: {vi: Sơ kết}
    agencies: [thanh-tra, cong-an]
    chair: thanh-tra
    rrule: "FREQ=MONTHLY;INTERVAL=6"
    start: 2025-01-15
"""


def write(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing `needle`."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def problems(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    return [p.removeprefix(f"{path}:") for p in info.value.problems]


def test_sample_rules_load_and_cover_every_kind() -> None:
    rules = load_rules(SAMPLE)
    assert isinstance(rules, Rules)
    ids = {a.id for a in rules.agencies}
    assert ids == {"noi-chinh", "thanh-tra", "ubkt", "cong-an", "vksnd", "toa-an", "mttq", "bao", "nhnn"}
    assert rules.agency("noi-chinh").secretariat
    assert all(rules.agency(a).name.en for a in ids)
    for kind in KINDS:
        assert any(kind in r.kinds and not r.when_any for r in rules.routing), kind
    assert all(f.agencies and f.keywords for f in rules.fields)


def test_base_is_valid(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, BASE))
    assert [r.id for r in rules.routing] == ["toi-pham", "con-lai"]


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(RulesError) as info:
        load_rules(tmp_path / "nope.yaml")
    assert info.value.problems[0].startswith(f"{tmp_path / 'nope.yaml'}:0: cannot read")
    assert problems(tmp_path, "\n# only a comment\n") == ["1: the file is empty"]


def test_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    text = BASE.replace("keywords: [đất]", "keywords: [đất")
    [problem] = problems(tmp_path, text)
    assert problem.startswith(f"{line_of(text, 'vocabulary:')}:") or problem.startswith(
        f"{line_of(text, 'keywords: [đất')}:")
    assert "YAML syntax error" in problem


def test_unknown_key_and_wrong_type_point_at_their_lines(tmp_path: Path) -> None:
    text = BASE.replace("    lead: cong-an\n", "    lead: cong-an\n    priority: high\n").replace(
        "days: 30", "days: thirty")
    found = problems(tmp_path, text)
    assert f"{line_of(text, 'priority: high')}: unknown key 'priority' (in routing.0.priority)" in found
    assert any(p.startswith(f"{line_of(text, 'days: thirty')}: deadlines.0.stages.0.days") for p in found)


def test_rule_without_lead(tmp_path: Path) -> None:
    text = BASE.replace("    lead: thanh-tra\n", "")
    [problem] = problems(tmp_path, text)
    assert problem == f"{line_of(text, '- id: con-lai')}: missing required key 'lead' (in routing.1.lead)"


def test_empty_lead_is_reported(tmp_path: Path) -> None:
    text = BASE.replace("    lead: thanh-tra\n", "    lead: ''\n")
    line = line_of(text, "lead: ''")
    assert problems(tmp_path, text) == [f"{line}: rule 'con-lai' has no lead agency"]


def test_unknown_agencies_everywhere(tmp_path: Path) -> None:
    text = (BASE.replace("lead: cong-an", "lead: cong-an-tinh")
            .replace("agencies: [thanh-tra]", "agencies: [thanh-tra-so]")
            .replace("chair: thanh-tra", "chair: ubnd")
            .replace("agencies: [thanh-tra, cong-an]", "agencies: [thanh-tra, vksnd]")
            .replace('chats: {telegram: "-100123"}', 'chats: {viber: "-100123"}'))
    found = problems(tmp_path, text)
    assert f"{line_of(text, 'lead: cong-an-tinh')}: unknown agency 'cong-an-tinh'" in found
    assert f"{line_of(text, 'thanh-tra-so')}: unknown agency 'thanh-tra-so'" in found
    assert f"{line_of(text, 'chair: ubnd')}: unknown agency 'ubnd'" in found
    assert f"{line_of(text, '[thanh-tra, vksnd]')}: unknown agency 'vksnd'" in found
    assert any(p.startswith(f"{line_of(text, 'viber')}: unknown channel 'viber'") for p in found)
    assert len(found) == 5


def test_duplicate_ids_and_keys(tmp_path: Path) -> None:
    text = BASE.replace("  - id: cong-an\n", "  - id: thanh-tra\n").replace(
        "    lead: thanh-tra\n", "    lead: thanh-tra\n    lead: cong-an\n")
    found = problems(tmp_path, text)
    assert f"{line_of(text, '- id: thanh-tra', 2)}: duplicate id 'thanh-tra' in agencies" in found
    assert f"{line_of(text, 'lead: cong-an', 2)}: duplicate key 'lead'" in found


def test_unknown_kind_and_vocabulary(tmp_path: Path) -> None:
    text = BASE.replace("when_any: ['@toi_pham']", "when_any: ['@toipham']\n    kinds: [crime]")
    found = problems(tmp_path, text)
    assert any(p.startswith(f"{line_of(text, '@toipham')}: unknown vocabulary reference '@toipham'")
               for p in found)
    assert any(p.startswith(f"{line_of(text, 'kinds: [crime]')}: unknown kind 'crime'") for p in found)


def test_catch_all_followed_by_rule_is_unreachable(tmp_path: Path) -> None:
    catch_all = "  - id: tat-ca\n    title: {vi: Tất cả}\n    lead: thanh-tra\n"
    text = BASE.replace("routing:\n", "routing:\n" + catch_all)
    found = problems(tmp_path, text)
    for rule in ("toi-pham", "con-lai"):
        expected = f"{line_of(text, f'- id: {rule}')}: rule '{rule}' can never fire"
        assert any(p.startswith(expected) for p in found)


def test_identical_rules_are_overlapping(tmp_path: Path) -> None:
    twin = "  - id: toi-pham-2\n    title: {vi: Lặp}\n    when_any: [lừa đảo, trộm]\n    lead: thanh-tra\n"
    text = BASE.replace("  - id: con-lai\n", twin + "  - id: con-lai\n")
    [problem] = problems(tmp_path, text)
    assert problem.startswith(f"{line_of(text, 'toi-pham-2')}: rule 'toi-pham-2' can never fire")
    assert "rule 'toi-pham'" in problem


def test_word_taken_by_earlier_rule_is_reported(tmp_path: Path) -> None:
    rule = "  - id: lua-dao\n    title: {vi: Lừa}\n    when_any: [lừa đảo, giả danh]\n    lead: thanh-tra\n"
    text = BASE.replace("  - id: con-lai\n", rule + "  - id: con-lai\n")
    [problem] = problems(tmp_path, text)
    assert "never fires on 'lừa đảo'" in problem


def test_kind_without_catch_all(tmp_path: Path) -> None:
    kinds = "    kinds: [complaint, denunciation, corruption_tip, petition]\n"
    text = BASE.replace("    lead: thanh-tra\n", kinds + "    lead: thanh-tra\n")
    assert problems(tmp_path, text) == [
        f"{line_of(text, 'routing:')}: kind crime_report: no catch-all rule (one without when_any) "
        "covers it, so a report with none of the words would have no agency"]
    when = "    when_any: ['@toi_pham']\n"
    text = text.replace(when, when + "    kinds: [complaint]\n")
    assert f"{line_of(text, 'routing:')}: kind crime_report: no rule covers it" in problems(tmp_path, text)


def test_field_without_agency(tmp_path: Path) -> None:
    text = BASE.replace("    agencies: [thanh-tra]\n", "")
    assert problems(tmp_path, text) == [
        f"{line_of(text, '- id: dat-dai')}: field 'dat-dai': no agency is competent in it (`agencies`)"]


def test_bad_dates_and_overlapping_policies(tmp_path: Path) -> None:
    start = "    valid_from: 2012-07-01\n"
    text = BASE.replace(start, start + "    valid_to: 2011-01-01\n")
    assert problems(tmp_path, text) == [
        f"{line_of(text, 'valid_to')}: deadline policy 'khieu-nai': valid_to 2011-01-01 is before "
        "valid_from 2012-07-01"]
    second = ("  - id: khieu-nai-moi\n    kinds: [complaint]\n    basis: Luật mới\n"
              "    valid_from: 2020-01-01\n    stages:\n"
              "      - {id: resolve, name: {vi: Giải quyết}, days: 20, unit: working_days}\n")
    text = BASE.replace("meetings:\n", second + "meetings:\n")
    [problem] = problems(tmp_path, text)
    assert problem.startswith(f"{line_of(text, 'valid_from: 2020-01-01')}: deadline policies 'khieu-nai'")
    assert "overlapping dates" in problem
    ended = text.replace(start, start + "    valid_to: 2019-12-31\n")
    load_rules(write(tmp_path, ended))


def test_invalid_rrule_and_undefined_policy(tmp_path: Path) -> None:
    text = BASE.replace('FREQ=MONTHLY;INTERVAL=6', 'FREQ=FORTNIGHTLY').replace(
        "    lead: thanh-tra\n", "    lead: thanh-tra\n    deadline_policy: dang\n")
    found = problems(tmp_path, text)
    rrule_line, policy_line = line_of(text, "FORTNIGHTLY"), line_of(text, "deadline_policy: dang")
    assert any(p.startswith(f"{rrule_line}: meeting 'so-ket': invalid rrule") for p in found)
    assert f"{policy_line}: rule 'con-lai': deadline policy 'dang' is not defined" in found


def test_all_problems_are_collected(tmp_path: Path) -> None:
    text = (BASE.replace("lead: cong-an", "lead: cong-an-x").replace("keywords: [đất]", "keywords: []")
            .replace("rrule: \"FREQ=MONTHLY;INTERVAL=6\"", "rrule: \"nonsense\""))
    found = problems(tmp_path, text)
    assert len(found) == 3
    assert [int(p.split(":")[0]) for p in found] == sorted(int(p.split(":")[0]) for p in found)


def test_not_a_mapping(tmp_path: Path) -> None:
    assert problems(tmp_path, "- just\n- a list\n") == ["1: the file must be a mapping of sections"]
