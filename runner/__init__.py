"""Start-up outside the core: `python -m bot` enters here, and the commands that need the chat platforms
(`run`, `demo`) are handed to the core's command line from here, imported only when they are chosen."""

from __future__ import annotations

import gc
from collections.abc import Sequence


def run() -> int:
    # Start-up makes hundreds of thousands of objects that live as long as the process; the garbage
    # collector would scan them all in each of its full passes (six of ~0.1 s each while aiogram and the
    # rest load). It rests until the bot has started, then freezes them (runner.app).
    gc.disable()
    from runner.app import run as run_bot

    return run_bot()


def demo(argv: list[str]) -> int:
    from simulator.demo import main as run_demo

    return run_demo(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bot [command ...]`: the core's command line, with `run` and `demo` wired to the bot."""
    from bot.cli import main as cli

    return cli(argv, run=run, demo=demo)
