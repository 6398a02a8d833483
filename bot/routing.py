"""Routing: which agency leads a report and which co-operate, by the rules, with the reasons why."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.rules import Rules


@dataclass(frozen=True)
class AddedAgency:
    agency: str
    reason: str
    matched: list[str]


@dataclass(frozen=True)
class RoutingDecision:
    kind: str  # the kind given, or the one proposed from the text
    lead: str
    cooperating: list[str]
    rule: str
    matched: list[str]  # the words of the text that fired the rule
    explanation: str  # one readable sentence (Vietnamese) saying why
    field: str | None = None  # the field proposed from the text
    kind_guessed: bool = False
    added: list[AddedAgency] = field(default_factory=list)  # why each extra co-operating agency

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def route(rules: Rules, text: str, kind: str | None = None) -> RoutingDecision:
    """The routing decision for a text; first matching rule wins."""
    raise NotImplementedError
