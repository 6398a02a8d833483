"""The secretariat: periodic and ad-hoc review meetings, their reminders and attendance, agendas built
from the figures, and the decisions they take, followed up until done."""

from __future__ import annotations

from typing import Any

from bot.core import Core


def job_handlers(core: Core) -> dict[str, Any]:
    from bot.secretariat import decisions, schedules

    return {**schedules.job_handlers(core), **decisions.job_handlers(core)}


async def on_start(core: Core) -> None:
    from bot.secretariat import schedules

    await schedules.on_start(core)
