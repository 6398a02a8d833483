"""Send-rate limits of a chat platform, kept in memory by one sender.

Each platform's transport declares its limits (Telegram: about 30 messages a second per bot, 20 a minute
per group and about 1 a second per chat; past that it answers 429). Asking before sending keeps us under
them, so rows are deferred, not lost. The defaults here are Telegram's, the strictest platform we serve.
The limits are per process: only the instance holding the sender role sends.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    per_second: float = 30.0  # all chats together
    chat_interval: float = 1.0  # seconds between two messages to one chat
    group_per_minute: int = 20  # messages per group chat in any 60 seconds

    @classmethod
    def off(cls) -> Limits:
        return cls(per_second=0, chat_interval=0, group_per_minute=0)


@dataclass
class RateLimiter:
    """Decides when a message to a chat may go; `reserve` records a send, `block` honours a 429."""

    limits: Limits = field(default_factory=Limits)
    _recent: deque[float] = field(default_factory=deque)
    _last: dict[str, float] = field(default_factory=dict)
    _group: dict[str, deque[float]] = field(default_factory=dict)
    _blocked: dict[str, float] = field(default_factory=dict)

    def wait(self, chat: str, group: bool, now: float) -> float:
        """Seconds until a message to `chat` may be sent (0: now)."""
        delay = max(0.0, self._blocked.get(chat, 0.0) - now)
        limits = self.limits
        if limits.chat_interval and chat in self._last:
            delay = max(delay, self._last[chat] + limits.chat_interval - now)
        if group and limits.group_per_minute:
            sent = self._trim(self._group.get(chat), now, 60.0)
            if sent is not None and len(sent) >= limits.group_per_minute:
                delay = max(delay, sent[0] + 60.0 - now)
        if limits.per_second:
            recent = self._trim(self._recent, now, 1.0)
            if recent is not None and len(recent) >= limits.per_second:
                delay = max(delay, recent[0] + 1.0 - now)
        return delay

    def reserve(self, chat: str, group: bool, now: float) -> float:
        """Record a send to `chat` at `now` when allowed and return 0; else the seconds to wait."""
        delay = self.wait(chat, group, now)
        if delay > 0:
            return delay
        self._last[chat] = now
        if self.limits.per_second:
            self._recent.append(now)
        if group and self.limits.group_per_minute:
            self._group.setdefault(chat, deque()).append(now)
        return 0.0

    def block(self, chat: str, until: float) -> None:
        """The platform said 'retry after': nothing more to this chat before `until`."""
        self._blocked[chat] = max(until, self._blocked.get(chat, 0.0))

    @staticmethod
    def _trim(times: deque[float] | None, now: float, window: float) -> deque[float] | None:
        while times and times[0] <= now - window:
            times.popleft()
        return times
