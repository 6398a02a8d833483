"""Start-up outside the core: `python -m bot` enters here, and the commands that need the chat platforms
(`run`, `demo`) are handed to the core's command line from here, imported only when they are chosen."""

from __future__ import annotations

from collections.abc import Sequence


def run() -> int:
    from runner.app import run as run_bot

    return run_bot()


def demo(argv: list[str]) -> int:
    from simulator.demo import main as run_demo

    return run_demo(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bot [command ...]`: the core's command line, with `run` and `demo` wired to the bot."""
    from bot.cli import main as cli

    return cli(argv, run=run, demo=demo)
