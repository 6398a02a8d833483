"""`python -m bot report --from DATE --to DATE --format docx|xlsx|csv|md [--output FILE] [--data DIR]`.

Dates as 2026-01-01 or 01/01/2026. The database is the one in `--data DIR`, else DATABASE_URL's, named
on stderr; one that is not there is an error, never a report of nothing.

Markdown and CSV go to standard output unless --output is given; DOCX and XLSX to a file (default
`report-FROM-TO.EXT` in the current directory), whose path is printed. DOCX and XLSX hold the three
charts; for Markdown and CSV they are written as PNG files beside the report (`STEM-status.png`, ...),
which the Markdown links to, and their paths are printed (on standard error when the report itself goes
to standard output).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot import data_option
from bot.settings import Settings


def add_parser(sub: Any, settings: Settings, date: Any) -> None:
    report = sub.add_parser("report", help="the periodic report: figures, charts, targets, oldest open cases")
    report.add_argument("--from", dest="start", required=True, type=date,
                        help="first day, YYYY-MM-DD or DD/MM/YYYY")
    report.add_argument("--to", dest="end", required=True, type=date,
                        help="last day, YYYY-MM-DD or DD/MM/YYYY")
    report.add_argument("--format", required=True, choices=("docx", "xlsx", "csv", "md"))
    report.add_argument("--output", help="file to write (default: stdout for md/csv, report-FROM-TO.EXT)")
    report.add_argument("--lang", choices=("vi", "en"), default="vi")
    report.add_argument("--rules", default=settings.rules_file)
    data_option.add(report, settings)


def _warn(line: str) -> None:
    print(f"warning: {line}", file=sys.stderr)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.figures.writers import chart_file
    from bot.rules import RulesError, load_rules

    if args.end < args.start:
        print("error: --to is before --from", file=sys.stderr)
        return 2
    try:
        rules = load_rules(args.rules, without_examples=_warn)  # a report needs no second opinion
    except RulesError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    source = data_option.choose(args, settings)
    if source is None:
        return 1
    if not source.exists:
        print(f"error: {data_option.missing(source)}", file=sys.stderr)
        return 1
    to_stdout = args.output is None and args.format in ("md", "csv")
    path = Path(args.output or f"report-{args.start}-{args.end}.{args.format}")
    data, charts = asyncio.run(_render(args, settings, source.url, rules, path.stem))
    for name, png in charts.items():  # beside the report: Markdown links to them
        drawn = path.with_name(chart_file(path.stem, name))
        drawn.write_bytes(png)
        print(drawn, file=sys.stderr if to_stdout else sys.stdout)
    if to_stdout:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    path.write_bytes(data)
    print(path)
    return 0


async def _render(args: argparse.Namespace, settings: Settings, url: str, rules: Any,
                  stem: str) -> tuple[bytes, dict[str, bytes]]:
    from bot.figures.report import build
    from bot.figures.writers import render
    from bot.privacy import migrate_with_key
    from bot.settings import reveal
    from bot.workdays import WorkCalendar
    from storage.db import create_engine, session_factory

    await migrate_with_key(url, reveal(settings.encryption_key) or None)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            report = await build(session, rules, WorkCalendar(settings.timezone), args.start, args.end,
                                 locale=args.lang)
            beside = report.charts if args.format in ("md", "csv") else {}
            return render(report, rules, args.format, args.lang, stem=stem), beside
    finally:
        await engine.dispose()
