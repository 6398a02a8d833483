"""The command line: `python -m bot [run | check-rules | route | deadline | meetings]` (a contract in
DESIGN.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.kinds import KINDS
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.rules import Rules


def _iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {value!r}") from None


def _parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Citizen reports coordination bot.")
    sub = parser.add_subparsers(dest="command")

    sub.add_parser("run", help="run the bot (migrates the database first); the default")

    check = sub.add_parser("check-rules", help="validate a rules file; one FILE:LINE: message per problem")
    check.add_argument("file", nargs="?", default=settings.rules_file)

    route = sub.add_parser("route", help="the routing decision for a text ('-' reads JSON lines on stdin)")
    route.add_argument("--rules", default=settings.rules_file)
    route.add_argument("--kind", choices=KINDS)
    route.add_argument("--json", action="store_true", help="print the decision as JSON")
    route.add_argument("text")

    deadline = sub.add_parser("deadline", help="the due date of each stage for a kind of report")
    deadline.add_argument("--kind", required=True, choices=KINDS)
    deadline.add_argument("--from", dest="start", required=True, type=_iso_date,
                          help="date of receipt, YYYY-MM-DD")
    deadline.add_argument("--rules", default=settings.rules_file)
    deadline.add_argument("--json", action="store_true")

    meetings = sub.add_parser("meetings", help="meeting occurrences in a period (stored and by the rules)")
    meetings.add_argument("--from", dest="start", type=_iso_date, help="first day, YYYY-MM-DD (today)")
    meetings.add_argument("--to", dest="end", type=_iso_date, help="last day, YYYY-MM-DD (a year on)")
    meetings.add_argument("--rules", default=settings.rules_file)
    meetings.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    settings = Settings()
    args = _parser(settings).parse_args(argv)
    command = args.command or "run"
    if command == "run":
        return _run(settings)
    if command == "check-rules":
        return _check_rules(args.file)
    if command == "route":
        return _route(args)
    if command == "deadline":
        return _deadline(args, settings)
    if command == "meetings":
        return _meetings(args, settings)
    return 2


def _run(settings: Settings) -> int:
    if not settings.bot_token:
        print("error: BOT_TOKEN is not set; put it in .env or the environment (see .env.example)",
              file=sys.stderr)
        return 1
    from bot.app import run

    return run(settings)


def _load(path: str) -> Rules | None:
    """The rules, or None after printing every problem as FILE:LINE: message."""
    from bot.rules import RulesError, load_rules

    try:
        return load_rules(path)
    except RulesError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def _check_rules(path: str) -> int:
    rules = _load(path)
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
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text, kind = item["text"], item.get("kind")
            if not isinstance(text, str) or (kind is not None and kind not in KINDS):
                raise ValueError(f"'text' must be a string and 'kind' one of {', '.join(KINDS)}")
        except (ValueError, KeyError, TypeError) as exc:
            message = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            print(json.dumps({"line": number, "error": message}, ensure_ascii=False))
            status = 1
            continue
        print(json.dumps(route(rules, text, kind).to_json(), ensure_ascii=False), flush=True)
    return status


def _deadline(args: argparse.Namespace, settings: Settings) -> int:
    from bot.deadlines import DeadlineError, schedule
    from bot.workdays import WorkCalendar

    rules = _load(args.rules)
    if rules is None:
        return 1
    try:
        stages = schedule(rules, args.kind, args.start, WorkCalendar(settings.timezone))
    except DeadlineError as exc:
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
    return meetings(settings, rules, args.start, args.end, args.json)
