"""`python -m bot deadline --kind KIND --from YYYY-MM-DD [--json]` (a stable command line).

Complaint received Tue 10 Feb 2026: accept within 10 days = Fri 20 Feb, a Tết holiday -> Mon 23 Feb;
resolve within 30 days of acceptance, at the latest from 23 Feb -> Wed 25 Mar 2026.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.cli import main
from tests.conftest import ROOT, SAMPLE_RULES

ARGS = ["deadline", "--kind", "complaint", "--from", "2026-02-10", "--rules", str(SAMPLE_RULES)]


def test_json_lists_every_stage_with_its_due_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ARGS, "--json"]) == 0
    stages = json.loads(capsys.readouterr().out)
    assert [(s["stage"], s["due"], s["days"], s["unit"]) for s in stages] == [
        ("accept", "2026-02-23", 10, "calendar_days"),
        ("resolve", "2026-03-25", 30, "calendar_days"),
    ]
    assert "Luật Khiếu nại 2011" in stages[0]["basis"]


def test_text_output_shows_the_move_off_a_day_off(capsys: pytest.CaptureFixture[str]) -> None:
    """Denunciation received 10/02/2026: the 30 days of the resolve stage end on Saturday 28/03, so the
    deadline moves to Monday 30/03 (BLDS 2015 Điều 148) and the line says so, step by step."""
    argv = ["deadline", "--kind", "denunciation", "--from", "2026-02-10", "--rules", str(SAMPLE_RULES)]
    assert main(argv) == 0
    classify, resolve = capsys.readouterr().out.splitlines()
    assert "7 working days from 2026-02-10, skipping weekends and holidays" in classify
    assert "2026-03-30" in resolve and "30 calendar days from 2026-02-26" in resolve
    assert "run to 2026-03-28, a day off (Saturday)" in resolve and "Điều 148" in resolve
    assert main([*argv[:3], "--from", "2026-02-11", "--json", "--rules", str(SAMPLE_RULES)]) == 0
    stages = json.loads(capsys.readouterr().out)
    assert stages[0]["moved_because"] is None and stages[0]["raw_due"] == stages[0]["due"]


def test_text_output_is_one_line_per_stage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(ARGS) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("accept") and "2026-02-23" in lines[0] and "Điều 27" in lines[0]
    assert lines[1].startswith("resolve") and "2026-03-25" in lines[1]


def test_real_process_prints_json() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "deadline", "--kind", "complaint", "--from", "2026-02-10", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert [s["due"] for s in json.loads(done.stdout)] == ["2026-02-23", "2026-03-25"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--kind", "gossip", "--from", "2026-02-10"], "invalid choice: 'gossip'"),
    (["--kind", "complaint", "--from", "2026-02-30"], "2026-02-30 is not a date that exists"),
    (["--kind", "complaint", "--from", "2026/02/10"], "expected a date as YYYY-MM-DD or DD/MM/YYYY"),
    (["--kind", "complaint"], "--from"),
])
def test_bad_input_is_an_argparse_error(capsys: pytest.CaptureFixture[str], argv: list[str],
                                        message: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["deadline", *argv])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_date_before_any_policy_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deadline", "--kind", "petition", "--from", "2021-01-04", "--rules", str(SAMPLE_RULES)]) == 1
    err = capsys.readouterr().err
    assert "petition" in err and "2021-01-04" in err
    assert "Traceback" not in err
