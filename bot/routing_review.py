"""What officers corrected in the routing, so the province can improve its rules from real traffic.

Every transfer (a new lead) and every co-operating agency added or removed is in the audit log with its
reason; the case keeps the routing decision it was filed with (rule, words that matched, agencies). Put
side by side, they show which words sent a case to the wrong agency, or missed one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.duplicates import report_text
from storage.models import AuditEvent, Case

CORRECTIONS = ("transferred", "cooperating_added", "cooperating_removed")


@dataclass(frozen=True)
class Correction:
    code: str
    kind: str
    rule: str | None  # the rule that routed the case
    matched: list[str]  # the words of the text that fired it
    routed_lead: str  # as routed when filed
    routed_cooperating: list[str]
    action: str  # transferred | cooperating_added | cooperating_removed
    lead_before: str | None
    lead_after: str | None
    added: list[str]  # co-operating agencies the officer added
    removed: list[str]
    reason: str | None
    by_agency: str | None
    at: str  # ISO time of the correction
    text: str = ""  # the report as filed (never the reporter's identity): what an export labels
    field: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


async def corrections(sessions: async_sessionmaker[AsyncSession],
                      since: dt.date | None = None) -> list[Correction]:
    """Every officer's correction of a case's routing, oldest first."""
    query = (
        select(AuditEvent, Case)
        .join(Case, Case.id == AuditEvent.case_id)
        .where(AuditEvent.action.in_(CORRECTIONS))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    if since is not None:
        query = query.where(AuditEvent.at >= dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC))
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    return [_correction(event, case) for event, case in rows]


def _correction(event: AuditEvent, case: Case) -> Correction:
    routing = case.routing or {}
    before, after = event.before or {}, event.after or {}
    was, now = set(before.get("cooperating") or []), set(after.get("cooperating") or [])
    return Correction(
        code=case.code, kind=case.kind, rule=routing.get("rule") or case.rule_id,
        matched=list(routing.get("matched") or []),
        routed_lead=routing.get("lead") or before.get("lead") or case.lead_agency_id,
        routed_cooperating=list(routing.get("cooperating") or []),
        action=event.action, lead_before=before.get("lead"), lead_after=after.get("lead"),
        added=sorted(now - was), removed=sorted(was - now), reason=event.reason, by_agency=event.agency_id,
        at=event.at.isoformat(timespec="seconds"), text=report_text(case.subject, case.summary),
        field=case.field,
    )


def labelled(found: list[Correction]) -> list[dict[str, Any]]:
    """The corrected cases as labelled reports in the corpus format: one line a case, labelled with the
    lead its last transfer (or the triage agency's assignment) gave it. Codes, kinds and texts only."""
    last: dict[str, Correction] = {}
    for c in found:
        if c.action == "transferred" and c.lead_after:
            last[c.code] = c
    return [{"id": c.code, "writer": "officers", "persona": "officers' corrections", "split": "train",
             "incident": c.code, "sort": "report", "text": c.text, "kind": c.kind, "lead": c.lead_after,
             "cooperating": [], "field": c.field, "place": None} for c in last.values()]


def render(found: list[Correction]) -> str:
    """A plain-text review: each correction, then how often each rule was corrected and to what."""
    if not found:
        return "No routing corrections by officers."
    lines = []
    for c in found:
        words = ", ".join(f"'{w}'" for w in c.matched) or "-"
        lines.append(f"{c.at}  {c.code}  {c.kind}  rule {c.rule or '-'} (words: {words})  "
                     f"routed to {c.routed_lead}: {_summary(c)}  by {c.by_agency or '-'}: {c.reason or '-'}")
    lines.append("")
    lines.append("By rule:")
    counts = Counter((c.rule or "-", _summary(c)) for c in found)
    for (rule, change), n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"  {rule}: {change} x{n}")
    return "\n".join(lines)


def _summary(c: Correction) -> str:
    if c.action == "transferred":
        return f"lead {c.lead_before} -> {c.lead_after}"
    return ", ".join([*(f"+{a}" for a in c.added), *(f"-{a}" for a in c.removed)]) or c.action


async def review(database_url: str, since: dt.date | None = None,
                 encryption_key: str | None = None) -> list[Correction]:
    """The corrections in the database at `database_url` (migrated first, so a new database is empty)."""
    from bot.privacy import read_migrated

    return await read_migrated(database_url, encryption_key, lambda sessions: corrections(sessions, since))
