"""The audit log: one append-only event for every action on a case or a binding.

An event is dated by the core's clock (the session carries it, see `bot.core.Core`), so figures counted
from the log follow a clock moved in the demo just as the deadlines do.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent


def record(
    session: AsyncSession,
    action: str,
    *,
    case_id: int | None = None,
    actor_type: str = "system",
    actor_id: str | None = None,
    agency_id: str | None = None,
    reason: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    public: bool = False,
    at: dt.datetime | None = None,
) -> AuditEvent:
    """Add an audit event to the session (committed with the change it describes), dated `at`, else by
    the core's clock."""
    event = AuditEvent(
        case_id=case_id, action=action, actor_type=actor_type, actor_id=actor_id, agency_id=agency_id,
        reason=reason, before=before or {}, after=after or {}, public=public,
    )
    clock = session.info.get("clock")
    when = at or (clock.now() if clock is not None else None)
    if when is not None:
        event.at = when
    session.add(event)
    return event
