"""Signed presses: what a button under one of the bot's messages asks for, whatever the platform.

The core writes a button as a label and a `Press` (which kind of thing, which one, which action at which
version), signed for the agency whose chat shows it; each adapter turns a press into its platform's
button data and back, and the core checks the signature. So a press copied from another group, forged,
or made on a card that has changed since (the version moved) is refused, and no wire format lives here.
"""

from __future__ import annotations

import hmac
from dataclasses import asdict, dataclass, replace
from typing import Any

from bot.core import Core

CASE, MEETING, DECISION = "ca", "mt", "dc"

# The key's purpose and the tag's length per kind: unchanged from the first versions, so buttons already
# under messages in agency groups stay valid across upgrades.
_SIGNING = {CASE: ("card-button", 12), MEETING: ("meeting-button", 10), DECISION: ("meeting-button", 10)}


@dataclass(frozen=True)
class Press:
    """One button's meaning: `action` (with an optional `arg`) on `target` of `kind`, at `version`."""

    kind: str
    target: int
    action: str
    arg: str | None = None
    version: int = 0
    tag: str = ""

    @property
    def code(self) -> str:
        """The action and its argument as one word (`tr.ubkt`)."""
        return f"{self.action}.{self.arg}" if self.arg else self.action

    def body(self) -> str:
        """What the tag signs."""
        return f"{self.kind}:{self.target}:{self.code}:{self.version}"


def _tag(core: Core, agency_id: str, press: Press) -> str:
    purpose, length = _SIGNING[press.kind]
    return core.privacy.key_for(purpose, f"{agency_id}|{press.body()}")[:length]


def sign(
    core: Core, agency_id: str, kind: str, target: int, action: str, version: int = 0, arg: str | None = None
) -> Press:
    """The press of a button shown in `agency_id`'s chat, signed for that agency."""
    unsigned = Press(kind, target, action, arg or None, version)
    return replace(unsigned, tag=_tag(core, agency_id, unsigned))


def verified(core: Core, agency_id: str, press: Press | None, kinds: tuple[str, ...]) -> Press | None:
    """`press` if it is one of `kinds` and was signed for `agency_id`; None when forged or foreign.

    The tags are compared as bytes: the client writes the callback data, and `compare_digest` refuses
    str with letters outside ASCII by raising instead of saying they differ."""
    if press is None or press.kind not in kinds:
        return None
    expected = _tag(core, agency_id, press)
    return press if hmac.compare_digest(press.tag.encode(), expected.encode()) else None


def button(label: str, press: Press) -> dict[str, Any]:
    """A button as the outbox stores it: the adapter renders `press` in its platform's format."""
    return {"text": label, "press": asdict(press)}


def from_button(button: dict[str, Any]) -> Press | None:
    """The press an outbox button carries, or None for a button without one (a link, an option)."""
    raw = button.get("press")
    if not isinstance(raw, dict):
        return None
    try:
        return Press(
            kind=str(raw["kind"]),
            target=int(raw["target"]),
            action=str(raw["action"]),
            arg=None if raw.get("arg") is None else str(raw["arg"]),
            version=int(raw.get("version") or 0),
            tag=str(raw.get("tag") or ""),
        )
    except (KeyError, TypeError, ValueError):
        return None
