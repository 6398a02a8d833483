"""Claiming due rows of the outbox and jobs tables so several workers never take the same row.

A row is due when it is pending and its time has come, or when it is claimed but the claimer's lease ran
out (the worker crashed or hung). An outbox row also waits while an older row of the same chat is waiting
(deferred) or being sent, so a chat gets its messages in order (a card before the edits of that card).
Claiming marks the rows as taken by `worker_id` until `now + lease` and commits, so the claim is durable
before any work starts.

PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` then `UPDATE` in one transaction: concurrent claimers skip
each other's rows instead of waiting. SQLite: one `UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING`;
SQLite serialises writers, so the statement is atomic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, case, delete, exists, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Job, OutboxMessage

T = TypeVar("T", OutboxMessage, Job)


def _due(model: type[T], time_column: Any, claimed_status: str, now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        and_(model.status == "pending", time_column <= now),
        and_(model.status == claimed_status, model.claimed_until < now),
    )


async def _claim(
    session: AsyncSession,
    model: type[T],
    time_column: Any,
    claimed_status: str,
    worker_id: str,
    limit: int,
    lease_seconds: float,
    now: dt.datetime,
    *extra: ColumnElement[bool],
    order: tuple[Any, ...] = (),
) -> list[T]:
    due = (
        select(model.id)
        .where(_due(model, time_column, claimed_status, now), *extra)
        .order_by(*(order or (model.id,)))
        .limit(limit)
    )
    values = {"status": claimed_status, "claimed_by": worker_id,
              "claimed_until": now + dt.timedelta(seconds=lease_seconds)}
    if session.get_bind().dialect.name == "postgresql":
        ids = list((await session.scalars(due.with_for_update(skip_locked=True))).all())
        if not ids:
            await session.commit()
            return []
        target = model.id.in_(ids)
    else:
        target = model.id.in_(due.scalar_subquery())
    statement = (
        update(model).where(target).values(**values).returning(model)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    rows = list((await session.scalars(statement)).all())
    await session.commit()
    return sorted(rows, key=lambda row: row.id)


def _no_older_waiting(now: dt.datetime) -> ColumnElement[bool]:
    older = aliased(OutboxMessage)
    return ~exists().where(
        older.channel == OutboxMessage.channel,
        older.chat_id == OutboxMessage.chat_id,
        older.id < OutboxMessage.id,
        or_(and_(older.status == "pending", older.not_before > now),
            and_(older.status == "sending", older.claimed_until >= now)),
    )


async def claim_outbox(
    session: AsyncSession, worker_id: str, limit: int, lease_seconds: float, now: dt.datetime
) -> list[OutboxMessage]:
    """Claim up to `limit` due outbox rows (status becomes 'sending'); commits."""
    return await _claim(session, OutboxMessage, OutboxMessage.not_before, "sending", worker_id, limit,
                        lease_seconds, now, _no_older_waiting(now))


async def claim_jobs(
    session: AsyncSession, worker_id: str, limit: int, lease_seconds: float, now: dt.datetime
) -> list[Job]:
    """Claim up to `limit` due jobs (status becomes 'running'), the longest overdue first; commits.

    Ordered by due time so the (status, run_at) index finds them: ordered by id, PostgreSQL walks the
    primary key past every job not yet due (100,000 future reminders made each claim take ~85 ms)."""
    return await _claim(session, Job, Job.run_at, "running", worker_id, limit, lease_seconds, now,
                        order=(Job.run_at, Job.id))


def outbox_held(row_id: Any, worker_id: Any) -> ColumnElement[bool]:
    """An outbox row still claimed by `worker_id`: only then may the worker record what became of it (its
    lease may have run out and another worker taken the row). Values or bind parameters."""
    return and_(OutboxMessage.id == row_id, OutboxMessage.claimed_by == worker_id,
                OutboxMessage.status == "sending")


@dataclass(frozen=True)
class Sent:
    """A delivery to record: the row, when it was accepted, the platform's id for it, and for a relayed
    question to a person the sealed `note` it keeps instead of its content."""

    row_id: int
    at: dt.datetime
    message_id: str | None
    note: str | None = None


def record_sent(deliveries: Sequence[Sent], worker_id: str) -> Any:
    """One UPDATE recording every delivery of a batch (status sent, its time and message id), only on rows
    `worker_id` still holds; it returns the ids it updated, so a row whose lease was lost is known. Rows
    that keep a `note` (all or none of the batch: call once for each) keep only that: no payload, case or
    agency, and no time but `at` (the caller's day)."""
    table = OutboxMessage.__table__
    ids = [d.row_id for d in deliveries]

    def each(column: Any, values: list[Any]) -> Any:
        if all(v == values[0] for v in values):
            return literal(values[0], column.type)
        return case({i: literal(v, column.type) for i, v in zip(ids, values, strict=True)}, value=table.c.id)

    values: dict[str, Any] = {
        "status": "sent", "claimed_until": None, "last_error": None,
        "sent_at": each(table.c.sent_at, [d.at for d in deliveries]),
        "message_id": each(table.c.message_id, [d.message_id for d in deliveries]),
    }
    if deliveries[0].note is not None:
        values.update(case_id=None, agency_id=None, payload={},
                      sealed=each(table.c.sealed, [d.note for d in deliveries]),
                      created_at=values["sent_at"], not_before=values["sent_at"])
    return (update(table).where(table.c.id.in_(ids), table.c.claimed_by == worker_id,
                                table.c.status == "sending")
            .values(**values).returning(table.c.id))


def delete_held(ids: Sequence[int], worker_id: str) -> Any:
    """Delete the rows `worker_id` still holds (messages to people, once delivered or failed for good);
    returns the ids it deleted."""
    table = OutboxMessage.__table__
    return (delete(table).where(table.c.id.in_(list(ids)), table.c.claimed_by == worker_id,
                                table.c.status == "sending")
            .returning(table.c.id))
