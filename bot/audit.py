"""The audit log: one append-only event for every action on a case or a binding."""

from __future__ import annotations

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
) -> AuditEvent:
    """Add an audit event to the session (committed with the change it describes)."""
    event = AuditEvent(
        case_id=case_id, action=action, actor_type=actor_type, actor_id=actor_id, agency_id=agency_id,
        reason=reason, before=before or {}, after=after or {}, public=public,
    )
    session.add(event)
    return event
