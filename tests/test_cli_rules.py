"""`python -m bot check-rules` and `python -m bot route` as an operator uses them."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from simulator.botapi import FakeBotAPI
from tests import tg

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
    env = {k: v for k, v in _this_checkout().items() if k != "RULES_FILE"}
    done = subprocess.run([sys.executable, "-m", "bot", "check-rules"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "quang-ninh.yaml: OK (9 agencies" in done.stdout
    routed = subprocess.run([sys.executable, "-m", "bot", "route", "--json", "ổ lô đề ở thôn 3"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert json.loads(routed.stdout)["lead"] == "cong-an"


NO_EXAMPLES = ("../corpus/quang-ninh/reports.jsonl is missing: the second opinion's examples file "
               "(second_opinion.examples) is read beside the rules file; copy the examples file there too, "
               "or remove the second_opinion section")


def _this_checkout() -> dict[str, str]:
    """The environment for `python -m bot` run outside the project: this checkout's code, not an
    installed copy's."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _copied_sample(where: Path) -> Path:
    """What a new province does first: `cp rules/quang-ninh.yaml my-province.yaml` (in a folder of its own,
    run from there); the corpus the sample names is not beside the copy."""
    (where / "rules").mkdir()
    copy = where / "rules" / "my-province.yaml"
    copy.write_bytes(Path(SAMPLE).read_bytes())
    return copy


def _examples_line() -> int:
    lines = Path(SAMPLE).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.strip().startswith("examples:"))


def test_a_copied_sample_says_to_copy_its_examples_too_or_drop_the_second_opinion(tmp_path: Path) -> None:
    copy = _copied_sample(tmp_path)

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", "check-rules", copy.name], cwd=copy.parent,
                              env=_this_checkout(), capture_output=True, text=True, timeout=60)

    done = check()
    assert done.returncode == 1 and not done.stdout
    assert done.stderr.splitlines() == [f"my-province.yaml:{_examples_line()}: {NO_EXAMPLES}"]
    corpus = tmp_path / "corpus" / "quang-ninh" / "reports.jsonl"
    corpus.parent.mkdir(parents=True)
    corpus.write_bytes((ROOT / "corpus" / "quang-ninh" / "reports.jsonl").read_bytes())
    done = check()
    assert done.returncode == 0 and "my-province.yaml: OK (9 agencies" in done.stdout, done.stderr
    corpus.unlink()
    section = ("second_opinion:\n  examples: ../corpus/quang-ninh/reports.jsonl\n  splits: [train]\n"
               "  min_confidence: 0.6\n")
    text = copy.read_text(encoding="utf-8")
    assert section in text
    copy.write_text(text.replace(section, ""), encoding="utf-8")
    done = check()
    assert done.returncode == 0 and "my-province.yaml: OK (9 agencies" in done.stdout, done.stderr


def test_route_with_a_copied_sample_warns_and_routes_by_the_rules(tmp_path: Path) -> None:
    copy = _copied_sample(tmp_path)
    done = subprocess.run([sys.executable, "-m", "bot", "route", "--rules", copy.name, "--json",
                           "ổ lô đề ở thôn 3"], cwd=copy.parent, env=_this_checkout(), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["lead"] == "cong-an"
    [warning] = done.stderr.splitlines()
    assert warning == (f"warning: my-province.yaml:{_examples_line()}: {NO_EXAMPLES}; "
                       "the second opinion is off until then")


async def test_the_bot_runs_a_copied_sample_without_the_second_opinion_and_says_so(
        tmp_path: Path, server: FakeBotAPI) -> None:
    copy = _copied_sample(tmp_path)
    env = {**_this_checkout(), "BOT_TOKEN": "42:TEST", "TELEGRAM_API_URL": server.url,
           "RULES_FILE": copy.name, "DATABASE_URL": "sqlite+aiosqlite:///data/bot.db", "LOG_LEVEL": "INFO"}
    with (tmp_path / "bot.log").open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", cwd=copy.parent,
                                                       env=env, stderr=stderr)
        try:
            server.user_message(7, tg.user(7), "ổ lô đề ở thôn 3, xin các anh xử lý")
            await server.wait_for("sendMessage", chat_id=7, timeout=60)
        finally:
            process.terminate()
            await process.wait()
    log = (tmp_path / "bot.log").read_text()
    assert "Traceback" not in log and "running as @test_bot" in log
    [warning] = [line for line in log.splitlines() if " WARNING " in line]
    assert warning.endswith(f"WARNING runner.app: my-province.yaml:{_examples_line()}: {NO_EXAMPLES}; "
                            "the second opinion is off until then"), log


def test_route_stdin_all_good_exits_zero(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"text": "ổ lô đề ở thôn 3"}\n'))
    assert main(["route", "--rules", SAMPLE, "-"]) == 0
    assert json.loads(capsys.readouterr().out)["lead"] == "cong-an"


def test_route_with_broken_rules_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SMALL.replace("lead: thanh-tra", "lead: x"))
    assert main(["route", "--rules", path, "text"]) == 1
    assert capsys.readouterr().err.startswith(f"{path}:8: unknown agency 'x'")
