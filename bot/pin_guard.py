"""A case's PIN against guessing shared across many accounts: a per-case limit, a lock-out and an alert.

The per-requester limit (LOOKUP_FAILURES_PER_HOUR) stops one account; new accounts are cheap, so wrong
PINs are also counted per case. After PIN_FAILURES_PER_CASE wrong PINs within PIN_LOCKOUT_HOURS the case
refuses look-ups by code until the lock-out ends (its reporter still sees it in /mycases), and the holding
agency's group is told through the outbox in the same transaction. The scrypt check runs in a worker
thread and, through `precheck`, before the look-up's transaction opens: a burst of look-ups then holds
neither the event loop nor the database connections other users' messages need.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.agency_chats import chat_of_agency
from bot.audit import record
from bot.core import Core
from bot.delivery.outbox import enqueue
from bot.i18n import t
from bot.receipts import check_pin, hash_pin, new_pin, normalize_code
from storage.models import Case, LookupFailure

_DUMMY_HASH: list[str] = []


async def dummy_hash() -> str:
    """A hash to check a PIN against when the code is unknown, so both failures take the same time."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(await new_pin_hash(new_pin()))
    return _DUMMY_HASH[0]


@dataclass(frozen=True)
class Verdict:
    """A PIN checked in advance against the hash stored for a code (or the dummy hash)."""

    code: str | None
    pin: str
    stored: str
    matched: bool


async def precheck(core: Core, requester_key: str, code_text: str, pin: str) -> Verdict | None:
    """Check the PIN with no transaction or connection held; None when the requester is throttled."""
    code = normalize_code(code_text)
    async with core.sessions() as session:
        since = core.clock.now() - dt.timedelta(hours=1)
        failures = (await session.execute(
            select(func.count()).select_from(LookupFailure)
            .where(LookupFailure.requester_key == requester_key, LookupFailure.at > since)
        )).scalar_one()
        stored = None
        if code is not None and failures < core.settings.lookup_failures_per_hour:
            stored = (await session.execute(select(Case.pin_hash).where(Case.code == code))).scalar()
    if failures >= core.settings.lookup_failures_per_hour:
        return None
    stored = stored or await dummy_hash()
    return Verdict(code, pin, stored, await pin_matches(pin, stored))


async def matches(pin: str, code: str | None, stored: str, verdict: Verdict | None) -> bool:
    """The PIN check, taken from a matching precheck when there is one."""
    if verdict is not None and (verdict.code, verdict.pin, verdict.stored) == (code, pin, stored):
        return verdict.matched
    return await pin_matches(pin, stored)


# scrypt is memory-hard by design (16 MB a hash here): at most two run at once, in threads of their own,
# so a burst of filings or look-ups neither takes every worker of the default executor (the file store's)
# nor leaves a 16 MB malloc arena behind in each of them (measured: 80 MB more after 20 filings at once).
_SCRYPT = ThreadPoolExecutor(max_workers=2, thread_name_prefix="scrypt")


async def pin_matches(pin: str, stored: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_SCRYPT, check_pin, pin, stored)


async def new_pin_hash(pin: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_SCRYPT, hash_pin, pin)


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
    chat = await chat_of_agency(session, case.lead_agency_id, working=True)
    if chat is None:
        return
    text = t("privacy.pin_lockout.group", "vi", code=case.code, n=failures,
             hours=core.settings.pin_lockout_hours)
    await enqueue(session, channel=chat.channel, chat_id=chat.chat_id, kind="text", payload={"text": text},
                  key=f"pin-locked:{case.id}:{int(now.timestamp())}", case_id=case.id,
                  agency_id=case.lead_agency_id)
