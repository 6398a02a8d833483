"""Case statuses and which are still open (the lifecycle rules live in bot/officer/)."""

from __future__ import annotations

from typing import Final

NEW: Final = "new"  # received and routed, not yet accepted (chưa thụ lý)
ACCEPTED: Final = "accepted"  # thụ lý: the legal clock runs
WAITING_INFO: Final = "waiting_info"  # waiting for the citizen; the clock is paused
INVESTIGATING: Final = "investigating"  # referred to investigators
RESOLVED: Final = "resolved"
REJECTED: Final = "rejected"
MERGED: Final = "merged"  # joined to an earlier report of the same incident; it follows that case

STATUSES: Final = (NEW, ACCEPTED, WAITING_INFO, INVESTIGATING, RESOLVED, REJECTED, MERGED)
CLOSED: Final = frozenset({RESOLVED, REJECTED, MERGED})
