"""The case card an agency group sees: platform-neutral text and action buttons. Never the reporter."""

from __future__ import annotations

from typing import Any

from bot.core import Core
from storage.models import Case


def card_payload(core: Core, case: Case, agency_id: str, role: str, locale: str = "vi") -> dict[str, Any]:
    """The outbox payload ({"text", "buttons"}) of the card for `agency_id` holding `case` as `role`."""
    return {"text": f"{case.code} — {case.kind}\n{case.summary}", "buttons": []}
