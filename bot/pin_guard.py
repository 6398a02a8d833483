"""A case's PIN against guessing shared across many accounts: a per-case limit, a lock-out and an alert.

The per-requester limit (LOOKUP_FAILURES_PER_HOUR) stops one account; new accounts are cheap, so wrong
PINs are also counted per case. After PIN_FAILURES_PER_CASE wrong PINs within PIN_LOCKOUT_HOURS the case
refuses look-ups by code until the lock-out ends (its reporter still sees it in /mycases), and the holding
agency's group is told through the outbox in the same transaction. The scrypt check runs in a worker
thread, so a burst of look-ups never stalls other users' messages.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import record
from bot.core import Core
from bot.i18n import t
from bot.outbox import enqueue
from bot.receipts import check_pin, hash_pin
from storage.models import AgencyChat, Case, LookupFailure


async def pin_matches(pin: str, stored: str) -> bool:
    return await asyncio.to_thread(check_pin, pin, stored)


async def new_pin_hash(pin: str) -> str:
    return await asyncio.to_thread(hash_pin, pin)


def is_locked(case: Case, now: dt.datetime) -> bool:
    return case.pin_locked_until is not None and case.pin_locked_until > now


async def wrong_pin(session: AsyncSession, core: Core, case: Case, requester_key: str) -> None:
    """Count a wrong PIN for the case; at the limit, lock look-ups and alert the lead agency's group."""
    now = core.clock.now()
    window = dt.timedelta(hours=core.settings.pin_lockout_hours)
    session.add(LookupFailure(requester_key=requester_key, case_id=case.id, at=now))
    await session.flush()
    failures = (
        await session.execute(
            select(func.count())
            .select_from(LookupFailure)
            .where(LookupFailure.case_id == case.id, LookupFailure.at > now - window)
        )
    ).scalar_one()
    if failures < core.settings.pin_failures_per_case or is_locked(case, now):
        return
    case.pin_locked_until = now + window
    record(session, "pin_locked", case_id=case.id, reason=f"{failures} wrong PINs",
           after={"until": case.pin_locked_until.isoformat()})
    chat = (
        await session.execute(
            select(AgencyChat)
            .where(AgencyChat.agency_id == case.lead_agency_id, AgencyChat.failed_at.is_(None))
        )
    ).scalars().first()
    if chat is None:
        return
    text = t("privacy.pin_lockout.group", "vi", code=case.code, n=failures,
             hours=core.settings.pin_lockout_hours)
    await enqueue(session, channel=chat.channel, chat_id=chat.chat_id, kind="text", payload={"text": text},
                  key=f"pin-locked:{case.id}:{int(now.timestamp())}", case_id=case.id,
                  agency_id=case.lead_agency_id)
