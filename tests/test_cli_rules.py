"""`python -m bot check-rules` and `python -m bot route` as an operator uses them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = str(ROOT / "rules" / "quang-ninh.yaml")

SMALL = """\
province: {id: demo, name: {vi: Demo}}
agencies:
  - id: thanh-tra
    name: {vi: Thanh tra}
routing:
  - id: tat-ca
    title: {vi: Tất cả}
    lead: thanh-tra
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_check_rules_accepts_the_sample(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-rules", SAMPLE]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{SAMPLE}: OK (9 agencies")


@pytest.mark.parametrize(("text", "line", "message"), [
    (SMALL.replace("    lead: thanh-tra\n", "    lead: cong-an\n"), 8, "unknown agency 'cong-an'"),
    (SMALL.replace("    name: {vi: Thanh tra}\n", "    name: {vi: Thanh tra}\n    colour: red\n"), 5,
     "unknown key 'colour' (in agencies.0.colour)"),
    (SMALL.replace("routing:\n", "routing:\n  - id: bad\n    title: {vi: x\n"), 8,
     "YAML syntax error: expected ',' or '}', but got ':' (while parsing a flow mapping on line 7)"),
    (SMALL + "  - id: sau\n    title: {vi: Sau}\n    when_any: [trộm]\n    lead: thanh-tra\n", 9,
     "rule 'sau' can never fire"),
    (SMALL.replace("    lead: thanh-tra\n", "    kinds: [complaint]\n    lead: thanh-tra\n"), 5,
     "kind denunciation: no rule covers it"),
    (SMALL + "meetings:\n  - {id: m, title: {vi: M}, agencies: [thanh-tra], chair: thanh-tra,\n"
             "     rrule: 'FREQ=SOMETIMES', start: 2025-01-01}\n", 11, "meeting 'm': invalid rrule"),
])
def test_check_rules_reports_file_line_and_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   text: str, line: int, message: str) -> None:
    path = write(tmp_path, text)
    assert main(["check-rules", path]) == 1
    err = capsys.readouterr().err.splitlines()
    assert any(e.startswith(f"{path}:{line}: ") and message in e for e in err), err
    assert all(e.startswith(f"{path}:") for e in err)


def test_check_rules_lists_every_problem_without_traceback(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    text = SMALL.replace("lead: thanh-tra", "lead: 42x\n    cooperating: thanh-tra").replace(
        "id: demo", "id: [demo]")
    path = write(tmp_path, text)
    assert main(["check-rules", path]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 2
    assert f"{path}:1: province.id" in err
    assert f"{path}:9: routing.0.cooperating" in err


def test_check_rules_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "none.yaml")
    assert main(["check-rules", missing]) == 1
    assert capsys.readouterr().err.startswith(f"{missing}:0: cannot read")


def test_check_rules_as_a_real_command(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "bot", "check-rules", SAMPLE], cwd=ROOT,
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    broken = write(tmp_path, SMALL.replace("lead: thanh-tra", "lead: nobody"))
    bad = subprocess.run([sys.executable, "-m", "bot", "check-rules", broken], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert bad.stderr.strip() == f"{broken}:8: unknown agency 'nobody'"


def test_route_prints_a_readable_decision(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "--rules", SAMPLE, "can bo xa doi phong bi moi cap so do"]) == 0
    out = capsys.readouterr().out
    assert "kind: corruption_tip (guessed)" in out
    assert "lead: noi-chinh" in out
    assert "cooperating: thanh-tra" in out
    assert "rule: tham-nhung" in out
    assert "'phong bi'" in out


def test_route_json_with_a_given_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "--rules", SAMPLE, "--kind", "complaint", "--json", "Xin xem xét giúp"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["kind"], data["lead"], data["cooperating"], data["rule"]) == (
        "complaint", "thanh-tra", [], "khieu-nai-chung")
    assert data["kind_guessed"] is False
    assert data["explanation"]


def test_route_reads_json_lines_and_flags_bad_ones(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    lines = [
        json.dumps({"text": "Tôi bị mất xe máy"}, ensure_ascii=False),
        "not json",
        json.dumps({"kind": "petition"}),
        "",
        json.dumps({"text": "Đề nghị sửa đường", "kind": "gossip"}, ensure_ascii=False),
        json.dumps({"text": "Ngân hàng thu phí vô lý", "kind": "complaint"}, ensure_ascii=False),
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["route", "--rules", SAMPLE, "-"]) == 1
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(out) == 6, "one output line per input line, blank ones included"
    assert (out[0]["lead"], out[0]["cooperating"], out[0]["rule"]) == ("cong-an", ["vksnd"], "toi-pham")
    assert [o.get("line") for o in out[1:5]] == [2, 3, 4, 5]
    assert all("error" in o for o in out[1:5])
    assert "text" in out[2]["error"] and "blank" in out[3]["error"]
    assert (out[5]["kind"], out[5]["lead"]) == ("complaint", "nhnn")


def test_route_stdin_echoes_ids_so_results_match_inputs(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    lines = ['{"id": "a-1", "text": "ổ lô đề ở thôn 3"}', '{"id": 2, "text": "  "}', "[1, 2]",
             '{"text": "đề nghị sửa đường"}']
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["route", "--rules", SAMPLE, "-"]) == 1
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (out[0]["id"], out[0]["lead"]) == ("a-1", "cong-an")
    assert out[1] == {"line": 2, "error": "'text' is empty", "id": 2}
    assert out[2]["line"] == 3 and "object" in out[2]["error"]
    assert "id" not in out[3] and out[3]["lead"]


def test_route_refuses_an_empty_text(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["route", "--rules", SAMPLE, "   "])
    assert exit_.value.code == 2
    assert "the text is empty" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["route", "deadline", "check-rules"])
def test_every_argument_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    for word in {"route": ["TEXT", "--rules RULES", "--kind", "--json", "'-' to read JSON lines"],
                 "deadline": ["--from", "date of receipt", "--rules RULES", "print the stages as JSON"],
                 "check-rules": ["the rules file to check"]}[command]:
        assert word.lower() in out.lower()
    assert "RULES_FILE" in out


def test_sample_rules_are_found_from_any_directory(tmp_path: Path) -> None:
    """The default RULES_FILE is relative; outside the project it is looked up in the project."""
    env = {k: v for k, v in __import__("os").environ.items() if k != "RULES_FILE"}
    done = subprocess.run([sys.executable, "-m", "bot", "check-rules"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "quang-ninh.yaml: OK (9 agencies" in done.stdout
    routed = subprocess.run([sys.executable, "-m", "bot", "route", "--json", "ổ lô đề ở thôn 3"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert json.loads(routed.stdout)["lead"] == "cong-an"


def test_route_stdin_all_good_exits_zero(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"text": "ổ lô đề ở thôn 3"}\n'))
    assert main(["route", "--rules", SAMPLE, "-"]) == 0
    assert json.loads(capsys.readouterr().out)["lead"] == "cong-an"


def test_route_with_broken_rules_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SMALL.replace("lead: thanh-tra", "lead: x"))
    assert main(["route", "--rules", path, "text"]) == 1
    assert capsys.readouterr().err.startswith(f"{path}:8: unknown agency 'x'")
