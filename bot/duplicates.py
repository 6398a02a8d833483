"""Finding the same incident told by different people, for officers; a citizen is shown only their own.

Each case is indexed by its terms (facts such as amounts, plot numbers, plates and names, and pairs of
content words) in `duplicate_terms`. A new report looks up the open cases sharing its rarest terms (any
kind, any place), then each candidate is scored on facts and wording (bot/dupscore.py). The result goes on
the case card for the agencies; nothing of another person's case is ever shown to a citizen.
"""

from __future__ import annotations

import itertools
import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dupfacts import Facts, extract
from bot.duplicate_model import PairModel
from bot.dupscore import Report, Verdict, compare
from bot.kinds import KINDS
from bot.status import CLOSED
from storage.models import Case, DuplicateTerm, DuplicateTermCount, Reporter

MAX_TERMS = 48  # indexed per case
QUERY_TERMS = 12  # the rarest terms of a new report that are looked up
MAX_POSTINGS = 1_000  # a term carried by more cases says little and costs much
CANDIDATES = 12  # scored in full
SHOWN = 3  # likely duplicates listed on a card


@dataclass(frozen=True)
class Similar:
    case_id: int
    code: str
    status: str
    score: float
    evidence: tuple[str, ...] = ()
    same_reporter: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.case_id,
            "code": self.code,
            "score": round(self.score),
            "evidence": list(self.evidence),
        }


@lru_cache(maxsize=20_000)
def _facts(text: str) -> Facts:
    """Facts of a stored case, kept while the process runs: the same cases come up again and again."""
    return extract(text)


def report_text(subject: str | None, summary: str) -> str:
    return f"{subject or ''} {summary}".strip()


def _report(case: Case) -> Report:
    return Report(report_text(case.subject, case.summary), case.kind, case.area_name or case.area)


def terms_of(facts: Facts) -> list[str]:
    """Index terms, facts first: they are what two accounts of one incident share."""
    words = list(facts.content)
    pairs = [f"w:{a} {b}" for a, b in itertools.pairwise(words)]
    found = sorted(facts.terms()) + pairs + [f"w:{w}" for w in words if len(w) > 3]
    return [term[:64] for term in dict.fromkeys(found)][:MAX_TERMS]


async def index_case(session: AsyncSession, case: Case) -> None:
    """Add a case's terms to the index (in the caller's transaction) and count them."""
    terms = sorted(terms_of(extract(report_text(case.subject, case.summary))))  # sorted: no deadlocks
    if not terms:
        return
    session.add_all(DuplicateTerm(case_id=case.id, term=term) for term in terms)
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(DuplicateTermCount).values([{"term": term, "cases": 1} for term in terms])
    stmt = stmt.on_conflict_do_update(
        index_elements=["term"], set_={"cases": DuplicateTermCount.cases + 1}
    )
    await session.flush()
    await session.execute(stmt)


async def backfill(sessions: async_sessionmaker[AsyncSession], batch: int = 200) -> int:
    """Index the open cases that have no index terms yet (filed before the index existed, or restored
    from an older backup), a batch per transaction; how many were indexed. One query when none is left."""
    done, after = 0, 0
    while True:
        async with sessions() as session, session.begin():
            indexed = select(DuplicateTerm.case_id).where(DuplicateTerm.case_id == Case.id).exists()
            rows = (await session.execute(
                select(Case).where(Case.status.not_in(tuple(CLOSED)), Case.id > after, ~indexed)
                .order_by(Case.id).limit(batch)
            )).scalars().all()
            for case in rows:
                await index_case(session, case)  # a case with no terms at all stays unindexed: skipped
        done += len(rows)
        if len(rows) < batch:
            return done
        after = rows[-1].id


async def _candidate_ids(session: AsyncSession, terms: list[str], exclude: int | None) -> list[int]:
    """Open cases sharing the most of the report's rarest terms."""
    if not terms:
        return []
    counts = dict(
        (
            await session.execute(
                select(DuplicateTermCount.term, DuplicateTermCount.cases).where(
                    DuplicateTermCount.term.in_(terms)
                )
            )
        ).all()
    )
    rare = sorted((t for t in counts if counts[t] <= MAX_POSTINGS), key=lambda t: counts[t])[:QUERY_TERMS]
    if not rare:
        return []
    hits = func.count().label("hits")
    query = (  # the term index alone (an index-only scan); closed cases are dropped when loaded
        select(DuplicateTerm.case_id, hits)
        .where(DuplicateTerm.term.in_(rare))
        .group_by(DuplicateTerm.case_id)
        .order_by(hits.desc(), DuplicateTerm.case_id.desc())
        .limit(2 * CANDIDATES + 1)
    )
    if exclude is not None:
        query = query.where(DuplicateTerm.case_id != exclude)
    return [row[0] for row in (await session.execute(query)).all()]


async def find_likely(
    session: AsyncSession, report: Report, *, exclude: int | None = None, limit: int = SHOWN,
    model: PairModel | None = None,
) -> list[Similar]:
    """The open cases most likely to tell the same incident as `report`, best first (for officers)."""
    facts = extract(report.text)
    ids = await _candidate_ids(session, terms_of(facts), exclude)
    if not ids:
        return []
    rows = (
        await session.execute(
            select(Case.id, Case.code, Case.status, Case.kind, Case.subject, Case.summary, Case.area,
                   Case.area_name).where(Case.id.in_(ids), Case.status.not_in(tuple(CLOSED)))
        )
    ).all()
    order = {case_id: n for n, case_id in enumerate(ids)}
    rows = sorted(rows, key=lambda row: order[row.id])[:CANDIDATES]
    found = []
    for row in rows:
        other = Report(report_text(row.subject, row.summary), row.kind, row.area_name or row.area)
        verdict = compare(report, other, facts, _facts(other.text), model)
        if verdict.duplicate:
            found.append(Similar(row.id, row.code, row.status, _shown(verdict), tuple(verdict.evidence)))
    return sorted(found, key=lambda s: (-s.score, -s.case_id))[:limit]


async def own_similar(session: AsyncSession, report: Report, reporter_key: str,
                      model: PairModel | None = None) -> list[Similar]:
    """The citizen's own open cases that tell the same incident: the only ones a citizen may be shown."""
    rows = (
        await session.execute(
            select(Case)
            .join(Reporter, Reporter.case_id == Case.id)
            .where(Reporter.reporter_key == reporter_key, Case.status.not_in(tuple(CLOSED)))
            .order_by(Case.id.desc())
            .limit(50)
        )
    ).scalars()
    facts = extract(report.text)
    found = []
    for case in rows:
        verdict = compare(report, _report(case), facts, model=model)
        if verdict.duplicate:
            found.append(
                Similar(case.id, case.code, case.status, _shown(verdict), tuple(verdict.evidence), True)
            )
    return sorted(found, key=lambda s: (-s.score, -s.case_id))


# ---- `python -m bot duplicate-check -` ------------------------------------------------------------------


def _side(item: Any, name: str) -> Report:
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        raise ValueError(f"'{name}' must be an object with a 'text' string")
    kind, place = item.get("kind"), item.get("place")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"'{name}.kind' must be one of {', '.join(KINDS)}")
    if place is not None and not isinstance(place, str):
        raise ValueError(f"'{name}.place' must be a string")
    return Report(item["text"], kind, place)


def _shown(verdict: Verdict) -> float:
    """The figure officers see: the learned probability in percent, or the hand-set score."""
    return verdict.score if verdict.probability is None else 100 * verdict.probability


def check_lines(lines: IO[str], out: IO[str] = sys.stdout, model: PairModel | None = None) -> int:
    """One verdict per JSON line `{"a": {...}, "b": {...}}`; a bad line gets an error line, exit 1."""
    status = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("expected an object with 'a' and 'b'")
            verdict: Verdict = compare(_side(item.get("a"), "a"), _side(item.get("b"), "b"), model=model)
        except (ValueError, RecursionError) as exc:
            out.write(json.dumps({"line": number, "error": str(exc)}, ensure_ascii=False) + "\n")
            status = 1
            continue
        out.write(json.dumps(verdict.to_json(), ensure_ascii=False) + "\n")
        out.flush()
    return status
