"""A case's PIN against guessing: per account, per case, and never against the case's own reporter.

Wrong PINs are counted per account: LOOKUP_FAILURES_PER_HOUR an hour, twice as many in two hours, three
times as many in four, and so on, so an account that keeps guessing waits twice as long after each burst
while a citizen's few typos cost an hour at most. New accounts are cheap, so wrong PINs are also counted
per case: after PIN_FAILURES_PER_CASE within PIN_LOCKOUT_HOURS the case refuses look-ups by code from other
accounts, the holding agency's group is told, and the first time, the reporter too. The reporter's own
account is never locked out of its case, and its own tries count for nothing: whoever knows a code could
otherwise keep the reporter out for good. Each look-up of a case holds the case's row (and on PostgreSQL
the account's advisory lock) until it commits, so tries arriving together are counted one after another.
The scrypt check runs in a worker thread and, through `precheck`, before the look-up's transaction opens:
a burst of look-ups then holds neither the event loop nor the database connections other users need.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.agency_chats import chat_of_agency
from bot.audit import record
from bot.core import Core
from bot.delivery.outbox import enqueue
from bot.i18n import t
from bot.officer.messages import reporter_chat
from bot.receipts import check_pin, hash_pin, new_pin, normalize_code
from storage.models import AuditEvent, Case, LookupFailure, Reporter

# an account may make n wrong tries in the first window, 2n in the second, 3n in the third...
ACCOUNT_WINDOWS = tuple(dt.timedelta(hours=2**k) for k in range(10))  # 1 hour to 512 hours (21 days)

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
    """Check the PIN with no transaction or connection held; None when the look-up will be refused
    anyway (the account is locked out, or the case is locked to it)."""
    code = normalize_code(code_text)
    now = core.clock.now()
    async with core.sessions() as session:
        case = (await session.execute(select(Case.id, Case.pin_hash, Case.pin_locked_until)
                                      .where(Case.code == code))).first() if code else None
        owner = case is not None and await is_reporter(session, case.id, requester_key)
        if not owner and (await account_locked_until(session, core, requester_key) is not None
                          or (case is not None and _locked(case.pin_locked_until, now))):
            return None
    stored = case.pin_hash if case is not None else await dummy_hash()
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


def _locked(until: dt.datetime | None, now: dt.datetime) -> bool:
    return until is not None and until > now


def is_locked(case: Case, now: dt.datetime) -> bool:
    return _locked(case.pin_locked_until, now)


async def is_reporter(session: AsyncSession, case_id: int, requester_key: str) -> bool:
    """Whether this account filed the case: its look-ups are never locked out nor counted."""
    found = await session.execute(
        select(Reporter.id).where(Reporter.case_id == case_id, Reporter.reporter_key == requester_key)
    )
    return found.first() is not None


async def hold_account(session: AsyncSession, requester_key: str) -> None:
    """Until the transaction ends, no other look-up by this account runs (PostgreSQL; SQLite writes one
    transaction at a time anyway), so tries sent together are counted one after another."""
    if session.get_bind().dialect.name == "postgresql":
        lock = int(hashlib.sha256(f"lookup:{requester_key}".encode()).hexdigest()[:15], 16)
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})


async def hold_case(session: AsyncSession, code: str | None) -> Case | None:
    """The case with this code, its row locked until the transaction ends (and read afresh)."""
    if code is None:
        return None
    query = select(Case).where(Case.code == code).with_for_update()
    return (await session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()


async def account_locked_until(session: AsyncSession, core: Core, requester_key: str) -> dt.datetime | None:
    """When this account may look cases up again; None when it may now."""
    now, limit = core.clock.now(), core.settings.lookup_failures_per_hour
    times = (await session.execute(
        select(LookupFailure.at)
        .where(LookupFailure.requester_key == requester_key, LookupFailure.at > now - ACCOUNT_WINDOWS[-1])
        .order_by(LookupFailure.at.desc())
        .limit(limit * len(ACCOUNT_WINDOWS))
    )).scalars().all()
    ends = [
        times[n - 1] + window
        for n, window in ((limit * (k + 1), w) for k, w in enumerate(ACCOUNT_WINDOWS))
        if len(times) >= n and times[n - 1] + window > now
    ]
    return max(ends, default=None)


async def wrong_pin(session: AsyncSession, core: Core, case: Case, requester_key: str) -> None:
    """Count another account's wrong PIN for the case (its row held by `hold_case`); at the limit, lock
    look-ups by other accounts and alert the lead agency's group (and, the first time, the reporter)."""
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
    first = not await _was_locked(session, case)
    case.pin_locked_until = now + window
    record(session, "pin_locked", case_id=case.id, reason=f"{failures} wrong PINs",
           after={"until": case.pin_locked_until.isoformat()})
    if first:
        await _tell_reporter(session, core, case)
    chat = await chat_of_agency(session, case.lead_agency_id, working=True)
    if chat is None:
        return
    text = t("privacy.pin_lockout.group", "vi", code=case.code, n=failures,
             hours=core.settings.pin_lockout_hours)
    await enqueue(session, channel=chat.channel, chat_id=chat.chat_id, kind="text", payload={"text": text},
                  key=f"pin-locked:{case.id}:{int(now.timestamp())}", case_id=case.id,
                  agency_id=case.lead_agency_id)


async def _was_locked(session: AsyncSession, case: Case) -> bool:
    found = await session.execute(
        select(AuditEvent.id).where(AuditEvent.case_id == case.id, AuditEvent.action == "pin_locked").limit(1)
    )
    return found.first() is not None


async def _tell_reporter(session: AsyncSession, core: Core, case: Case) -> None:
    """Once a case, the reporter learns that someone tried its PIN, and that their own account still
    opens it."""
    chat = await reporter_chat(session, core, case)
    if chat is None:
        return
    text = t("privacy.pin_lockout.reporter", case.locale, code=case.code)
    await enqueue(session, channel=chat[0], chat_id=chat[1], kind="text", payload={"text": text},
                  key=f"pin-tried:{case.id}", case_id=case.id)
