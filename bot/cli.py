"""The command line: `python -m bot [run | check-rules | route | deadline | meetings | routing-review |
duplicate-check | duplicate-review | report]`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot import data_option
from bot.kinds import KINDS
from bot.settings import Settings, read, reveal

if TYPE_CHECKING:
    from bot.rules import Rules


def _date(value: str) -> dt.date:
    """A date as YYYY-MM-DD or DD/MM/YYYY; says whether the shape is wrong or the day does not exist
    (2026-02-30)."""
    from bot.dates import DateError, parse_day

    try:
        return parse_day(value)
    except DateError as exc:
        problem = (f"expected a date as YYYY-MM-DD or DD/MM/YYYY, got {value!r}" if exc.shape
                   else f"{value} is not a date that exists (check the month and day)")
        raise argparse.ArgumentTypeError(problem) from None


def _text(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError("the text is empty: give the report's words, or '-' to read stdin")
    return value


def _parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Citizen reports coordination bot.")
    sub = parser.add_subparsers(dest="command")

    sub.add_parser("run", help="run the bot (migrates the database first); the default")

    rules_help = f"the coordination rules file (default: RULES_FILE, now {settings.rules_file})"
    check = sub.add_parser("check-rules", help="validate a rules file; one FILE:LINE: message per problem")
    check.add_argument("file", nargs="?", default=settings.rules_file,
                       help=f"the rules file to check (default: RULES_FILE, now {settings.rules_file})")

    route = sub.add_parser(
        "route", help="the routing decision for a text ('-' reads JSON lines on stdin)",
        description="Which agency leads and which co-operate for a report, by the rules, and why. With '-' "
        'as TEXT, reads JSON lines {"text": ..., "kind": optional, "id": optional} and writes one JSON '
        "result a line, echoing the id; a bad line gets an error line with its line number.")
    route.add_argument("--rules", default=settings.rules_file, help=rules_help)
    route.add_argument("--kind", choices=KINDS, help="the kind of report, when known (else it is guessed)")
    route.add_argument("--json", action="store_true", help="print the decision as JSON")
    route.add_argument("text", type=_text,
                       help="the report's text, in quotes; '-' to read JSON lines on stdin")

    sub.add_parser("demo", help="try the bot without Telegram: a web simulator on :8080 (--story: in the "
                                "terminal); no token needed", add_help=False)

    deadline = sub.add_parser("deadline", help="the due date of each stage for a kind of report")
    deadline.add_argument("--kind", required=True, choices=KINDS, help="the kind of report")
    deadline.add_argument("--from", dest="start", required=True, type=_date,
                          help="date of receipt, YYYY-MM-DD or DD/MM/YYYY")
    deadline.add_argument("--rules", default=settings.rules_file, help=rules_help)
    deadline.add_argument("--json", action="store_true", help="print the stages as JSON")

    meetings = sub.add_parser("meetings", help="meeting occurrences in a period (stored and by the rules)")
    meetings.add_argument("--from", dest="start", type=_date,
                          help="first day, YYYY-MM-DD or DD/MM/YYYY (default: today)")
    meetings.add_argument("--to", dest="end", type=_date,
                          help="last day, YYYY-MM-DD or DD/MM/YYYY (default: a year on)")
    data_option.add(meetings, settings)
    meetings.add_argument("--rules", default=settings.rules_file, help=rules_help)
    meetings.add_argument("--json", action="store_true", help="print the occurrences as JSON")
    review = sub.add_parser("routing-review", help="cases whose routing officers corrected, with the words")
    review.add_argument("--since", type=_date,
                        help="only corrections from this date, YYYY-MM-DD or DD/MM/YYYY")
    review.add_argument("--json", action="store_true", help="one JSON object a line")
    review.add_argument("--export", metavar="FILE",
                        help="write the corrected cases as labelled reports in the corpus format")
    dreview = sub.add_parser("duplicate-review", help="officers' link, merge and 'not the same' decisions")
    dreview.add_argument("--export", metavar="FILE", help="write them as labelled pairs, one JSON line each")
    dup = sub.add_parser("duplicate-check", help="score pairs of reports read as JSON lines from stdin ('-')")
    dup.add_argument("source", choices=["-"], help="'-': read {\"a\": {...}, \"b\": {...}} lines on stdin")
    dup.add_argument("--rules", default=settings.rules_file,
                     help="rules file whose corpus trains the duplicate model (default: RULES_FILE)")

    from bot.figures import cli as figures_cli

    figures_cli.add_parser(sub, settings, _date)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    run: Callable[[], int] | None = None,
    demo: Callable[[list[str]], int] | None = None,
) -> int:
    """The commands; `run` and `demo` start the bot on its chat platforms, so the caller that knows
    them (the `runner` package, behind `python -m bot`) passes them in."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["demo"]:  # its own options; reads no .env
        if demo is None:
            print("error: the demo is started with python -m bot demo", file=sys.stderr)
            return 2
        return demo(argv[1:])
    settings = read(Settings)
    if settings is None:
        return 1
    args = _parser(settings).parse_args(argv)
    try:
        return _command(args, settings, run)
    except _key_problem() as exc:  # a command that reads the database migrates it with the bot's key
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _key_problem() -> type[Exception]:
    """bot.privacy's KeyProblem, imported only once a command has failed (it imports the database)."""
    from bot.privacy import KeyProblem

    return KeyProblem


def _command(args: argparse.Namespace, settings: Settings, run: Callable[[], int] | None) -> int:
    command = args.command or "run"
    if command == "run":
        return _run(run)
    if command == "check-rules":
        return _check_rules(args.file)
    if command == "route":
        return _route(args)
    if command == "deadline":
        return _deadline(args, settings)
    if command == "meetings":
        return _meetings(args, settings)
    if command == "duplicate-check":
        from bot.duplicate_model import for_corpus
        from bot.duplicates import check_lines

        rules = _load(args.rules)
        if rules is None:
            return 1
        return check_lines(sys.stdin, model=for_corpus(rules.corpus))
    if command == "routing-review":
        return _routing_review(args, settings)
    if command == "duplicate-review":
        return _duplicate_review(args, settings)
    if command == "report":
        from bot.figures import cli as figures_cli

        return figures_cli.run(args, settings)
    return 2


def _run(run: Callable[[], int] | None) -> int:
    """The bot itself, which reads its chat platforms' settings (`runner`)."""
    if run is None:
        print("error: the bot is started with python -m bot run", file=sys.stderr)
        return 2
    return run()


def _warn(line: str) -> None:
    print(f"warning: {line}", file=sys.stderr)


def _load(path: str, *, check: bool = False) -> Rules | None:
    """The rules, or None after printing every problem as FILE:LINE: message. A missing examples file
    is a problem when checking the rules; the other commands, like the running bot, warn and go on
    without the second opinion."""
    from bot.rules import RulesError, load_rules

    try:
        return load_rules(path, without_examples=None if check else _warn)
    except RulesError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def _check_rules(path: str) -> int:
    rules = _load(path, check=True)
    if rules is None:
        return 1
    print(f"{path}: OK ({len(rules.agencies)} agencies, {len(rules.routing)} routing rules, "
          f"{len(rules.deadlines)} deadline policies, {len(rules.meetings)} meeting schedules)")
    return 0


def _route(args: argparse.Namespace) -> int:
    from bot.routing import route

    rules = _load(args.rules)
    if rules is None:
        return 1
    if args.text != "-":
        decision = route(rules, args.text, args.kind)
        if args.json:
            print(json.dumps(decision.to_json(), ensure_ascii=False))
        else:
            print(f"kind: {decision.kind}{' (guessed)' if decision.kind_guessed else ''}")
            print(f"lead: {decision.lead}")
            print(f"cooperating: {', '.join(decision.cooperating) or '-'}")
            print(f"rule: {decision.rule}")
            print(f"explanation: {decision.explanation}")
        return 0
    status = 0
    for number, line in enumerate(sys.stdin, start=1):
        item: object = None
        try:
            if not line.strip():
                raise ValueError("blank line: expected a JSON object")
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("expected a JSON object")
            text, kind = item["text"], item.get("kind")
            if not isinstance(text, str) or (kind is not None and kind not in KINDS):
                raise ValueError(f"'text' must be a string and 'kind' one of {', '.join(KINDS)}")
            if not text.strip():
                raise ValueError("'text' is empty")
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            message = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            if isinstance(exc, RecursionError):
                message = "the JSON is nested too deeply"
            error: dict[str, object] = {"line": number, "error": message}
            if isinstance(item, dict) and "id" in item:
                error["id"] = item["id"]
            print(json.dumps(error, ensure_ascii=False), flush=True)
            status = 1
            continue
        result = route(rules, text, kind).to_json()
        if "id" in item:
            result = {"id": item["id"], **result}
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return status


def _deadline(args: argparse.Namespace, settings: Settings) -> int:
    from bot.deadlines import DeadlineError, schedule
    from bot.rules import FIRST_YEAR, LAST_YEAR
    from bot.workdays import WorkCalendar

    rules = _load(args.rules)
    if rules is None:
        return 1
    if not FIRST_YEAR <= args.start.year <= LAST_YEAR:
        print(f"error: --from {args.start} is out of range: a date between {FIRST_YEAR} and {LAST_YEAR} "
              "is expected", file=sys.stderr)
        return 1
    try:
        stages = schedule(rules, args.kind, args.start, WorkCalendar(settings.timezone))
    except (DeadlineError, OverflowError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([s.to_json() for s in stages], ensure_ascii=False))
    else:
        for s in stages:
            print(s.describe())
    return 0


def _meetings(args: argparse.Namespace, settings: Settings) -> int:
    from bot.secretariat.listing import main as meetings

    rules = _load(args.rules)
    if rules is None:
        return 1
    source = data_option.choose(args, settings)
    if source is None:
        return 1
    return meetings(settings, source, rules, args.start, args.end, args.json)


def _duplicate_review(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.duplicate_review import review

    found = asyncio.run(review(settings.database_url, reveal(settings.encryption_key) or None))
    lines = [json.dumps(item, ensure_ascii=False) + "\n" for item in found]
    if args.export:
        with open(args.export, "w", encoding="utf-8") as out:
            out.writelines(lines)
        print(f"{len(lines)} labelled pairs written to {args.export}", file=sys.stderr)
    elif not lines:
        print("No decisions on likely duplicates yet.")
    else:
        sys.stdout.writelines(lines)
    return 0


def _routing_review(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.routing_review import labelled, render, review

    found = asyncio.run(review(settings.database_url, args.since, reveal(settings.encryption_key) or None))
    if args.export:
        rows = labelled(found)
        with open(args.export, "w", encoding="utf-8") as out:
            out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        print(f"{len(rows)} labelled reports written to {args.export}", file=sys.stderr)
        return 0
    if args.json:
        for item in found:
            print(json.dumps(item.to_json(), ensure_ascii=False))
    else:
        print(render(found))
    return 0
