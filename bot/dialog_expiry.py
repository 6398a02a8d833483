"""Stale intake dialogues expire on time, with a notice, even when the citizen never writes again.

A sweep job runs every `SWEEP`; each run schedules the next. Jobs are keyed by their time slot, so several
instances starting together schedule one sweep, and the jobs table makes each sweep run once. The intake
dialogue still expires a stale state itself if the citizen writes before the sweep reaches it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import jobs
from bot.core import Core
from bot.delivery.outbox import enqueue_private
from bot.i18n import t
from bot.intake import UNLOCK_TTL
from storage.models import ChatUser, DialogState, Job

KIND = "dialogs.expire"
SWEEP = dt.timedelta(minutes=15)
IDLE = "idle"


def _slot_key(at: dt.datetime) -> str:
    return f"{KIND}:{int(at.timestamp() // SWEEP.total_seconds())}"


async def schedule_sweep(session: AsyncSession, at: dt.datetime) -> Job:
    """The sweep for the time slot of `at` (a no-op when that slot already has one)."""
    return await jobs.schedule(session, KIND, at, dedupe_key=_slot_key(at))


async def expire_stale(session: AsyncSession, core: Core, now: dt.datetime) -> int:
    """Drop dialogues idle for longer than DIALOGUE_TTL_HOURS and tell each citizen; returns how many.

    Rows left only by a look-up (an idle state with a sealed unlock) go silently once the unlock expired.
    """
    hours = core.settings.dialogue_ttl_hours
    stale = (
        await session.execute(
            select(DialogState)
            .where(DialogState.state != IDLE, DialogState.updated_at < now - dt.timedelta(hours=hours))
            .with_for_update(skip_locked=True)
        )
    ).scalars().all()
    for row in stale:
        user = await session.get(ChatUser, (row.channel, row.user_key))
        locale = (user.locale if user else None) or "vi"
        chat = core.privacy.open_value(row.sealed_chat) if row.sealed_chat else None
        if chat:
            await enqueue_private(
                session,
                core.privacy,
                channel=row.channel,
                chat_id=str(chat),
                payload={"text": t("citizen.expired", locale, hours=hours)},
                key=f"dialog-expired:{row.channel}:{row.user_key}:{row.updated_at.isoformat()}",
            )
        await session.delete(row)
    await session.execute(delete(DialogState).where(DialogState.state == IDLE,
                                                    DialogState.updated_at < now - UNLOCK_TTL))
    return len(stale)


def job_handlers(core: Core) -> dict[str, jobs.Handler]:
    async def sweep(session: AsyncSession, job: Job) -> None:
        now = core.clock.now()
        await expire_stale(session, core, now)
        await schedule_sweep(session, now + SWEEP)

    return {KIND: sweep}


async def on_start(core: Core) -> None:
    """Make sure a sweep is pending (the first instance to start schedules it)."""
    async with core.sessions() as session, session.begin():
        await schedule_sweep(session, core.clock.now())
