"""Which database a command that reads the bot's data uses, said on stderr: `--data DIR`, the folder
the bot or the demo keeps its database in, or else DATABASE_URL, as the bot reads it.

Nothing is created: a SQLite file that is not there is reported, so a report of an empty database made
by mistake is never taken for the real one.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.settings import Settings

DB_NAMES = ("bot.db", "demo.db")  # the bot's (data/bot.db by default) and the demo's (demo --data DIR)


@dataclass(frozen=True)
class Source:
    url: str
    shown: str  # the file, or the URL without its password
    origin: str  # where it came from: "--data DIR" or "DATABASE_URL"
    exists: bool  # False: a SQLite file that is not there


def add(parser: argparse.ArgumentParser, settings: Settings) -> None:
    parser.add_argument("--data", metavar="DIR",
                        help="read the database kept in DIR: its bot.db, or the demo's demo.db "
                             f"(default: DATABASE_URL, now {_shown(settings.database_url)})")


def _shown(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "(not a database URL)"
    path = _sqlite_file(url)
    return str(path) if path is not None else parsed.render_as_string(hide_password=True)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


def choose(args: argparse.Namespace, settings: Settings) -> Source | None:
    """The database to read, named on stderr; None after an error line."""
    if args.data:
        folder = Path(args.data)
        found = next((folder / name for name in DB_NAMES if (folder / name).is_file()), None)
        if found is None:
            print(f"error: --data {args.data}: there is no database in that folder "
                  f"(expected {' or '.join(DB_NAMES)})", file=sys.stderr)
            return None
        url, origin = f"sqlite+aiosqlite:///{found.resolve()}", f"--data {args.data}"
    else:
        url, origin = settings.database_url, "DATABASE_URL"
    try:
        path = _sqlite_file(url)
    except ArgumentError:
        print(f"error: DATABASE_URL is not a database URL: {_shown(url)}", file=sys.stderr)
        return None
    source = Source(url, _shown(url), origin, path is None or path.is_file())
    if source.exists:
        print(f"reading the database {source.shown} ({origin})", file=sys.stderr)
    return source


def missing(source: Source) -> str:
    """What to say when the SQLite file is not there."""
    return (f"there is no database at {source.shown} ({source.origin}): run the bot first, or give "
            "--data DIR (the folder of bot.db or demo.db) or DATABASE_URL")
