"""`python -m bot meetings [--from DATE] [--to DATE] [--json] [--data DIR]`: meeting occurrences in a
period.

Reads the database (`--data DIR` or DATABASE_URL, named on stderr; migrated first) and adds the
occurrences the rules' schedules hold in the period that are not stored yet, without writing anything.
Before the bot has ever run (no SQLite file yet) it lists those of the rules, and creates no file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from typing import Any

from sqlalchemy import select

from bot.data_option import Source, missing
from bot.i18n import t
from bot.privacy import migrate_with_key
from bot.rules import Rules
from bot.settings import Settings, reveal
from bot.workdays import WorkCalendar
from storage.db import create_engine, session_factory
from storage.models import Meeting, MeetingAnswer


def _occurrence(rules: Rules, calendar: WorkCalendar, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    from dateutil.rrule import rrulestr

    out = []
    for schedule in rules.meetings:
        rule = rrulestr(schedule.rrule, dtstart=dt.datetime.combine(schedule.start, schedule.time))
        lo = dt.datetime.combine(start, dt.time())
        hi = dt.datetime.combine(end, dt.time.max)
        for moment in rule.between(lo, hi, inc=True):
            local = moment.replace(tzinfo=calendar.timezone)
            out.append(
                {
                    "id": None,
                    "schedule": schedule.id,
                    "title": schedule.title.vi,
                    "date": local.date().isoformat(),
                    "time": local.strftime("%H:%M"),
                    "starts_at": local.astimezone(dt.UTC).isoformat(),
                    "status": "planned",
                    "agencies": list(schedule.agencies),
                    "chair": schedule.chair,
                    "place": None,
                    "attending": [],
                    "absent": [],
                }
            )
    return out


async def collect(settings: Settings, url: str, rules: Rules, start: dt.date,
                  end: dt.date) -> list[dict[str, Any]]:
    """Stored meetings starting from `start` to `end` (local dates, inclusive), plus unstored occurrences."""
    calendar = WorkCalendar(settings.timezone)
    await migrate_with_key(url, reveal(settings.encryption_key) or None)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            lo = dt.datetime.combine(start, dt.time(), calendar.timezone).astimezone(dt.UTC)
            hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), calendar.timezone).astimezone(
                dt.UTC
            )
            rows = (
                (
                    await session.execute(
                        select(Meeting)
                        .where(Meeting.starts_at >= lo, Meeting.starts_at < hi)
                        .order_by(Meeting.starts_at, Meeting.id)
                    )
                )
                .scalars()
                .all()
            )
            answers = (
                (
                    await session.execute(
                        select(MeetingAnswer).where(MeetingAnswer.meeting_id.in_([m.id for m in rows]))
                    )
                )
                .scalars()
                .all()
            )
            every = (await session.execute(select(Meeting.schedule_id, Meeting.scheduled_for))).all()
    finally:
        await engine.dispose()
    stored = {(s, d.isoformat()) for s, d in every}
    out: list[dict[str, Any]] = []
    for m in rows:
        assert m.starts_at is not None
        local = m.starts_at.astimezone(calendar.timezone)
        mine = [a for a in answers if a.meeting_id == m.id]
        out.append(
            {
                "id": m.id,
                "schedule": None if m.schedule_id.startswith("adhoc-") else m.schedule_id,
                "title": m.title,
                "date": local.date().isoformat(),
                "time": local.strftime("%H:%M"),
                "starts_at": m.starts_at.isoformat(),
                "status": m.status,
                "agencies": list(m.agencies),
                "chair": m.chair,
                "place": m.place,
                "attending": sorted(a.agency_id for a in mine if a.attends),
                "absent": sorted(a.agency_id for a in mine if not a.attends),
            }
        )
    out += [o for o in _occurrence(rules, calendar, start, end) if (o["schedule"], o["date"]) not in stored]
    return sorted(out, key=lambda o: (o["starts_at"], o["id"] or 0))


def main(settings: Settings, source: Source, rules: Rules, start: dt.date | None, end: dt.date | None,
         as_json: bool) -> int:
    """List the occurrences; without a database yet (a SQLite file not there), those of the rules."""
    calendar = WorkCalendar(settings.timezone)
    start = start or calendar.today()
    end = end or start + dt.timedelta(days=365)
    if end < start:
        print("error: --to is before --from", file=sys.stderr)
        return 2
    if source.exists:
        found = asyncio.run(collect(settings, source.url, rules, start, end))
    else:
        print(f"warning: {missing(source)}; listing the meetings of the rules only", file=sys.stderr)
        found = _occurrence(rules, calendar, start, end)
    if as_json:
        print(json.dumps(found, ensure_ascii=False))
        return 0
    if not found:
        print(t("secretariat.cli.none"))
    for o in found:
        answered = f" +{len(o['attending'])}/-{len(o['absent'])}/{len(o['agencies'])}"
        print(f"{o['date']} {o['time']}  {o['status']:<9} {o['id'] or '-':>4}  {o['title']}{answered}")
    return 0
