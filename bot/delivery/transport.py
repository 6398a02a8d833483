"""What a chat platform implements to deliver the outbox, and what it answers.

The sender (`bot.delivery.sender`) hands a transport one row at a time as a `Delivery`; the transport
answers with a `DeliveryResult` whose outcome decides what becomes of the row: sent, paused (429), retried
(5xx, timeouts, network) or failed for good (for the message alone, or because the chat is gone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Outcome = Literal["ok", "retry_after", "transient", "permanent"]
Scope = Literal["message", "chat", "user"]


@dataclass(frozen=True)
class Delivery:
    """What a transport needs to deliver one outbox row; `cards` are the message ids of the case's
    existing card in that chat, every part in order (for kind "edit_card")."""

    id: int
    channel: str
    chat_id: str
    kind: str
    payload: dict[str, Any]
    case_id: int | None = None
    agency_id: str | None = None
    attempts: int = 0
    cards: tuple[str, ...] = ()
    digests: tuple[str | None, ...] = ()  # what each of `cards` shows now (None: unknown)


@dataclass(frozen=True)
class DeliveryResult:
    """A transport's answer. For "ok", `extra["new_cards"]` lists card messages posted anew (replacing
    the old ones when `extra["replace_cards"]`), `extra["digests"]` what each card message now shows."""

    outcome: Outcome
    message_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""
    scope: Scope = "message"

    @classmethod
    def ok(cls, message_id: str | int | None, **extra: Any) -> DeliveryResult:
        return cls("ok", None if message_id is None else str(message_id), extra)

    @classmethod
    def retry_after(cls, seconds: float, error: str = "") -> DeliveryResult:
        return cls("retry_after", seconds=float(seconds), error=error or f"retry after {seconds}s")

    @classmethod
    def transient(cls, error: str) -> DeliveryResult:
        return cls("transient", error=error)

    @classmethod
    def permanent(cls, error: str, scope: Scope = "message") -> DeliveryResult:
        return cls("permanent", error=error, scope=scope)


class Transport(Protocol):
    """A chat platform's delivery. It may also declare `limits` (its send-rate limits; without, the
    defaults of `Limits`) and `is_group(chat_id)` (whether a chat is a group, for the group limit; without,
    only rows addressed to an agency count as group messages)."""

    async def deliver(self, delivery: Delivery) -> DeliveryResult: ...
