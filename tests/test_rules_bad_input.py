"""Hostile or mistyped rules files and command-line input: one line per problem, no hang, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.test_cli_rules import ROOT, SAMPLE, write

SAMPLE_TEXT = Path(SAMPLE).read_text(encoding="utf-8")

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def run_cli(*args: str, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={"PATH": "/usr/bin:/bin", "BOT_TOKEN": ""})


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def one_problem(path: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["check-rules", path]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all(e.startswith(f"{path}:") for e in err), err
    return "\n".join(err)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("        days: 10\n", "        days: 99999999999999999999\n", "is too large"),
    ("        days: 10\n", "        days: 5000\n", "less than or equal to 730"),
    ("    valid_from: 2012-07-01\n", "    valid_from: 9999-07-01\n", "out of range"),
    ("    valid_from: 2012-07-01\n", "    valid_from: 2012-02-30\n", "'2012-02-30' is not a real date"),
    ("    valid_from: 2012-07-01\n", "    valid_from: !!python/object:os.system 'ls'\n",
     "the tag '!!python/object:os.system' is not allowed"),
    ("    valid_from: 2012-07-01\n", "    ? [valid, from]\n    : 2012-07-01\n", "a key must be a plain word"),
])
def test_values_that_would_break_filing_are_refused_with_their_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, message: str) -> None:
    assert old in SAMPLE_TEXT
    text = SAMPLE_TEXT.replace(old, new, 1)
    err = one_problem(write(tmp_path, text), capsys)
    line = line_of(text, new.strip().splitlines()[0].strip())
    assert f":{line}: " in err and message in err, err


def test_deep_nesting_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "province: " + "[" * 20_000 + "]" * 20_000 + "\n")
    assert "nesting deeper than 40 levels" in one_problem(path, capsys)


def test_billion_laughs_is_refused_quickly_by_check_rules_route_and_start(tmp_path: Path) -> None:
    path = write(tmp_path, BILLION_LAUGHS)
    for args in (("check-rules", path), ("route", "--rules", path, "tham nhũng")):
        done = run_cli(*args)
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert done.stderr.strip() == (f"{path}:2: aliases (*name) expand the file to more than 100000 "
                                       "values; repeat the data instead of multiplying it")


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "big.yaml"
    with path.open("w") as fh:
        fh.write("province: {id: x, name: {vi: x}}\nnotes: |\n")
        fh.writelines("  " + "x" * 98 + "\n" for _ in range(20_000))
    assert "a rules file may be at most 1 MB" in one_problem(str(path), capsys)


def test_route_stdin_with_deeply_nested_json_answers_that_line() -> None:
    deep = '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    done = run_cli("route", "--rules", SAMPLE, "-", stdin=deep + '{"text": "nhận hối lộ"}\n')
    assert "Traceback" not in done.stderr and done.returncode == 1
    first, second = done.stdout.splitlines()
    assert first == '{"line": 1, "error": "the JSON is nested too deeply"}' and '"lead"' in second


def test_deadline_from_year_9999_is_one_line() -> None:
    done = run_cli("deadline", "--kind", "complaint", "--from", "9999-12-31")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == ("error: --from 9999-12-31 is out of range: a date between 1945 and 2100 "
                                   "is expected")


def test_the_fast_reader_and_the_careful_one_read_the_sample_alike() -> None:
    """libyaml reads a sound file (fast); the same data and the same lines as PyYAML's own reader, which
    still reads any file with a problem, to report it."""
    from yaml.constructor import SafeConstructor

    from bot.rules_yaml import _BoundedLoader, _fast_compose

    text = (Path(__file__).parent.parent / "rules" / "quang-ninh.yaml").read_text(encoding="utf-8")
    fast = _fast_compose(text)
    careful = _BoundedLoader(text).get_single_node()
    assert fast is not None and careful is not None
    assert SafeConstructor().construct_document(fast) == SafeConstructor().construct_document(careful)

    def lines(node, out):  # every node's line, in document order
        out.append(node.start_mark.line)
        for child in node.value if isinstance(node.value, list) else []:
            for part in child if isinstance(child, tuple) else (child,):
                lines(part, out)
        return out

    assert lines(fast, []) == lines(careful, [])
    assert _fast_compose("a: [1, 2") is None and _fast_compose("[" * 50 + "]" * 50) is None
