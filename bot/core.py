"""What every core service needs, built once by the composition root and passed to handlers."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.privacy import Privacy
from bot.rules import Rules
from bot.settings import Settings
from bot.workdays import WorkCalendar


@dataclass
class Core:
    settings: Settings
    rules: Rules
    sessions: async_sessionmaker[AsyncSession]
    privacy: Privacy
    calendar: WorkCalendar
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        # every session carries the clock, so what it writes (audit events) is dated by it
        self.sessions.configure(info={"clock": self.clock})
