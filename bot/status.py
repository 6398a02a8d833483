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

# How an agency holds a case (CaseAgency.role): the lead answers for it, co-operating agencies work on it
# beside the lead, and a former holder (transferred away) keeps read access to what it already had.
LEAD: Final = "lead"
COOPERATING: Final = "cooperating"
FORMER: Final = "former"
HOLDING: Final = (LEAD, COOPERATING)  # the agencies working on a case now
