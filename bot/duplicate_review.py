"""Officers' decisions on likely duplicates as labelled pairs, so a province can retrain on its own cases.

A link or a merge says two cases tell one incident; "not the same" says they do not. Each becomes a pair
of the two reports' texts with the decision, in the shape `duplicate-check` reads (codes, kinds and texts;
never a reporter's identity).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.duplicates import report_text
from storage.models import AuditEvent, Case


def _side(case: Case) -> dict[str, Any]:
    return {"code": case.code, "kind": case.kind, "text": report_text(case.subject, case.summary),
            "place": case.area_name}


async def decisions(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    """Every link, merge and "not the same" as a labelled pair, oldest first."""
    async with sessions() as session:
        events = (await session.execute(
            select(AuditEvent).where(AuditEvent.action.in_(("joined", "not_duplicate")))
            .order_by(AuditEvent.at, AuditEvent.id)
        )).scalars().all()
        found = []
        for event in events:
            after, before = event.after or {}, event.before or {}
            if event.action == "joined":
                other_id, how, same = after.get("follower"), after.get("how"), True
            else:
                other_id, how, same = before.get("other"), "not_same", False
            case = await session.get(Case, event.case_id) if event.case_id else None
            other = await session.get(Case, int(other_id)) if other_id is not None else None
            if case is None or other is None:
                continue
            found.append({"a": _side(other), "b": _side(case), "same": same, "decision": how,
                          "at": event.at.isoformat(timespec="seconds")})
    return found


async def review(database_url: str, encryption_key: str | None = None) -> list[dict[str, Any]]:
    """The decisions in the database at `database_url`, migrated first with the bot's key (as the bot
    migrates it), so a new database is empty and an older one is read as the bot reads it."""
    from bot.privacy import read_migrated

    return await read_migrated(database_url, encryption_key, decisions)
