"""Roles held by one instance at a time: a row per role with its holder and an expiry.

Taking or renewing is one conditional UPDATE (it succeeds for the holder, or for anyone once the lease has
run out), plus an INSERT that does nothing on conflict for the very first holder. Both are atomic on
PostgreSQL and SQLite, so two instances can never both believe they hold a role at the same moment
(as long as their clocks agree to within the lease's length).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Lease


async def hold(session: AsyncSession, name: str, holder: str, seconds: float, now: dt.datetime) -> bool:
    """Take or renew the role `name` for `holder` until `now + seconds`; False when another holds it.

    Commits."""
    until = now + dt.timedelta(seconds=seconds)
    taken = await session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.until < now))
        .values(holder=holder, until=until, since=case((Lease.holder == holder, Lease.since), else_=now))
        .execution_options(synchronize_session=False)
    )
    held = bool(taken.rowcount)  # type: ignore[attr-defined]
    if not held:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        inserted = await session.execute(
            dialect.insert(Lease).values(name=name, holder=holder, until=until, since=now)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        held = bool(inserted.rowcount)  # type: ignore[attr-defined]
    await session.commit()
    return held


async def release(session: AsyncSession, name: str, holder: str) -> None:
    """Give the role up at once (a clean stop), so another instance need not wait for the expiry. Commits."""
    await session.execute(
        update(Lease).where(Lease.name == name, Lease.holder == holder)
        .values(until=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).execution_options(synchronize_session=False)
    )
    await session.commit()


async def holder(session: AsyncSession, name: str, now: dt.datetime) -> str | None:
    """Who holds the role `name` at `now`, or None when no one does (never taken, or run out)."""
    return (await session.execute(
        select(Lease.holder).where(Lease.name == name, Lease.until >= now)
    )).scalar_one_or_none()
