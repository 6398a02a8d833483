"""Near-duplicate reports: the same story told twice, by the same citizen or by another.

Candidates are narrowed in the database (open, same kind, same area when known, recent), then scored on
diacritic-folded text with rapidfuzz. The caller decides what the citizen may see: someone else's case is
only ever described by its status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.status import CLOSED
from bot.textnorm import fold
from storage.models import Case, Reporter

WINDOW_DAYS = 90
THRESHOLD = 80.0
MIN_WORDS_FOR_SUBSET = 6


@dataclass(frozen=True)
class Similar:
    case_id: int
    code: str
    status: str
    score: float
    same_reporter: bool


def similarity(a: str, b: str) -> float:
    """0-100: how alike two reports read, ignoring diacritics, case, punctuation and word order."""
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return 0.0
    score = fuzz.token_sort_ratio(fa, fb)
    if min(len(fa.split()), len(fb.split())) >= MIN_WORDS_FOR_SUBSET:
        score = max(score, fuzz.token_set_ratio(fa, fb) - 5)
    return float(score)


def report_text(subject: str | None, summary: str) -> str:
    return f"{subject or ''} {summary}".strip()


async def find_similar(
    session: AsyncSession,
    *,
    kind: str,
    area: str | None,
    text: str,
    reporter_key: str,
    now: dt.datetime | None = None,
    window_days: int = WINDOW_DAYS,
    threshold: float = THRESHOLD,
) -> list[Similar]:
    """Open cases of the same kind (and area) of the last `window_days` that read like `text`, best first."""
    since = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=window_days)
    query = (
        select(Case, Reporter.reporter_key)
        .outerjoin(Reporter, Reporter.case_id == Case.id)
        .where(Case.kind == kind, Case.status.not_in(CLOSED), Case.created_at >= since)
        .order_by(Case.id.desc())
        .limit(500)
    )
    if area:
        query = query.where(Case.area == area)
    found: list[Similar] = []
    for case, key in (await session.execute(query)).all():
        score = similarity(text, report_text(case.subject, case.summary))
        if score >= threshold:
            found.append(Similar(case.id, case.code, case.status, score, key == reporter_key))
    return sorted(found, key=lambda s: (-s.score, -s.case_id))
