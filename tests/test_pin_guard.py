"""PIN guessing over many accounts: a per-case lock-out, an alert to the holding agency, scrypt off-loop."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from bot import cases, pin_guard
from bot.cases import Citizen
from bot.clock import Clock
from storage.models import AgencyChat, AuditEvent, LookupFailure, OutboxMessage
from tests.test_cases import DRAFT, file
from tests.test_intake import Citizen as Person
from tests.test_intake import intake

__all__ = ["intake"]


def wrong(pin: str) -> str:
    return "000000" if pin != "000000" else "111111"


async def guess(core, code: str, pin: str, account: int) -> cases.Lookup:
    async with core.sessions() as s, s.begin():
        who = str(5000 + account)
        return await cases.lookup(s, core, Citizen("telegram", who, who), code, pin)


async def test_many_accounts_lock_the_case_and_the_lead_group_is_alerted_once(core):
    core.clock = Clock(movable=True)
    core.settings.pin_failures_per_case = 4
    async with core.sessions() as s, s.begin():
        s.add(AgencyChat(agency_id="cong-an", channel="telegram", chat_id="-1"))
    filed = await file(core)
    code, pin = filed.case.code, filed.pin
    for account in range(4):  # each account stays far under its own limit of 5 an hour
        assert (await guess(core, code, wrong(pin), account)).case is None
    right = await guess(core, code, pin, 99)
    assert right.case is None and right.locked
    assert (await guess(core, code, wrong(pin), 100)).locked
    async with core.sessions() as s:
        query = select(OutboxMessage).where(OutboxMessage.idempotency_key.like("pin-locked:%"))
        alerts = (await s.execute(query)).scalars().all()
        events = (await s.execute(select(AuditEvent.action))).scalars().all()
    assert len(alerts) == 1 and alerts[0].chat_id == "-1"
    assert code in alerts[0].payload["text"] and "4 lần" in alerts[0].payload["text"]
    assert events.count("pin_locked") == 1
    core.clock.advance(pin_guard.dt.timedelta(hours=core.settings.pin_lockout_hours, minutes=1))
    later = await guess(core, code, pin, 101)
    assert later.case is not None and later.case.id == filed.case.id


async def test_wrong_pins_on_other_cases_do_not_count(core):
    core.settings.pin_failures_per_case = 2
    one, two = await file(core), await file(core, DRAFT, Citizen("telegram", "11", "11"))
    await guess(core, one.case.code, wrong(one.pin), 1)
    await guess(core, two.case.code, wrong(two.pin), 2)
    await guess(core, "WXYZ-WXYZ", "123456", 3)
    assert (await guess(core, one.case.code, one.pin, 4)).case is not None


async def test_the_citizen_is_told_the_case_is_locked_in_words(core, intake):
    core.settings.pin_failures_per_case = 1
    filed = await file(core)
    await guess(core, filed.case.code, wrong(filed.pin), 1)
    c = Person(intake, user_id="77")
    await c.cmd("status", f"{filed.case.code} {filed.pin}")
    assert "tạm khóa tra cứu" in c.text and "/mycases" in c.text
    en = Person(intake, user_id="78", language_code="en")
    await en.cmd("status", f"{filed.case.code} {filed.pin}")
    assert "locked" in en.text


async def test_scrypt_runs_in_a_worker_thread(core, monkeypatch):
    filed = await file(core)
    threads: list[threading.Thread] = []
    real = pin_guard.check_pin

    def spy(pin: str, stored: str) -> bool:
        threads.append(threading.current_thread())
        return real(pin, stored)

    monkeypatch.setattr(pin_guard, "check_pin", spy)
    assert (await guess(core, filed.case.code, filed.pin, 1)).case is not None
    assert threads and threads[0] is not threading.main_thread()


async def test_a_lookup_checks_the_pin_once_before_its_transaction(core, intake, monkeypatch):
    filed = await file(core)
    checked: list[bool] = []
    real = pin_guard.check_pin
    in_transaction = False
    original_lookup = cases.lookup

    async def watched_lookup(*args, **kwargs):
        nonlocal in_transaction
        in_transaction = True
        try:
            return await original_lookup(*args, **kwargs)
        finally:
            in_transaction = False

    def spy(pin: str, stored: str) -> bool:
        checked.append(in_transaction)
        return real(pin, stored)

    monkeypatch.setattr(pin_guard, "check_pin", spy)
    monkeypatch.setattr(cases, "lookup", watched_lookup)
    c = Person(intake, user_id="80")
    await c.cmd("status", f"{filed.case.code} {filed.pin}")
    assert "Tình trạng" in c.text
    await c.press("menu:lookup")
    await c.say(filed.case.code)
    await c.say(filed.pin)
    assert "Tình trạng" in c.text
    assert checked == [False, False], "scrypt ran once per look-up, before the look-up's transaction"


async def test_at_most_two_pins_are_hashed_at_once(monkeypatch) -> None:
    """scrypt takes 16 MB a hash: a burst of filings and look-ups hashes two at a time, each finishing."""
    import asyncio
    import time

    running, most = [0], [0]
    lock = threading.Lock()
    real = pin_guard.hash_pin

    def counted(pin: str) -> str:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)
        try:
            return real(pin)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(pin_guard, "hash_pin", counted)
    hashes = await asyncio.gather(*(pin_guard.new_pin_hash(f"{n:06d}") for n in range(6)))
    assert most[0] == 2
    assert all(pin_guard.check_pin(f"{n:06d}", h) for n, h in enumerate(hashes))


async def test_simultaneous_wrong_pins_from_many_accounts_are_evaluated_at_most_the_limit(core, intake):
    """40 accounts send a wrong PIN at the same moment: the limit of 10 holds on both databases."""
    import asyncio

    core.settings.pin_failures_per_case = 10
    filed = await file(core)
    code, pin = filed.case.code, filed.pin
    people = [Person(intake, user_id=str(9000 + n)) for n in range(40)]
    await asyncio.gather(*(p.cmd("status", f"{code} {wrong(pin)}") for p in people))
    answers = [p.text for p in people]
    evaluated = [a for a in answers if "không đúng" in a]
    locked = [a for a in answers if "tạm khóa" in a]
    assert len(evaluated) == 10 and len(locked) == 30, (len(evaluated), len(locked))


async def test_simultaneous_lookups_each_in_its_own_transaction_hold_the_limit(core):
    """The same from 40 transactions at once (several instances): each PIN is checked in advance, as
    the dialogue does, so the transactions overlap as closely as they can."""
    import asyncio

    core.settings.pin_failures_per_case = 10
    filed = await file(core)
    code, pin = filed.case.code, wrong(filed.pin)
    who = [Citizen("telegram", str(9100 + n), str(9100 + n)) for n in range(40)]
    verdicts = [await pin_guard.precheck(core, cases.reporter_key(core, w), code, pin) for w in who]

    async def one(sender: Citizen, verdict: pin_guard.Verdict | None) -> cases.Lookup:
        async with core.sessions() as s, s.begin():
            return await cases.lookup(s, core, sender, code, pin, verdict)

    found = await asyncio.gather(*(one(w, v) for w, v in zip(who, verdicts, strict=True)))
    assert sum(not f.locked for f in found) == 10
    async with core.sessions() as s:
        counted = (await s.execute(select(func.count()).select_from(LookupFailure)
                                   .where(LookupFailure.case_id == filed.case.id))).scalar_one()
    assert counted == 10


def hours_in(text: str) -> int:
    import re

    found = re.search(r"sau (\d+) giờ", text)
    assert found, text
    return int(found.group(1))


async def reporter_notices(core, chat_id: str) -> list[str]:
    async with core.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id,
                                                            OutboxMessage.idempotency_key.like("pin-tried:%"))
                                )).scalars().all()
    return [r.payload["text"] for r in rows]


async def test_two_accounts_cannot_lock_the_reporter_out_and_the_reporter_is_told_once(core, intake):
    """Officers of any co-operating group see codes: two fresh accounts a day could keep a case locked.
    The reporter's own account still opens it, and hears once that someone tried."""
    core.clock = Clock(movable=True)
    filed = await file(core)  # by ME, account "10"
    code, pin = filed.case.code, filed.pin
    owner = Person(intake, user_id="10")
    for day in range(3):
        for account in (f"{day}1", f"{day}2"):  # five wrong PINs each: within each account's own limit
            attacker = Person(intake, user_id=f"66{account}")
            for _ in range(5):
                await attacker.cmd("status", f"{code} {wrong(pin)}")
        stranger = Person(intake, user_id=f"77{day}")
        await stranger.cmd("status", f"{code} {pin}")
        assert "tạm khóa" in stranger.text, "other accounts are locked out, even with the right PIN"
        await owner.cmd("status", f"{code} {pin}")
        assert "Tình trạng" in owner.text and code in owner.text and "tạm khóa" not in owner.text
        core.clock.advance(pin_guard.dt.timedelta(hours=core.settings.pin_lockout_hours, minutes=1))
    notices = await reporter_notices(core, "10")
    assert len(notices) == 1, "told once, not every time the case is locked again"
    assert code in notices[0] and "tài khoản khác" in notices[0] and "/mycases" in notices[0]
    async with core.sessions() as s:
        locks = (await s.execute(select(AuditEvent.action).where(AuditEvent.action == "pin_locked"))).all()
    assert len(locks) == 3


async def test_the_reporters_own_wrong_pins_count_for_nothing(core, intake):
    core.settings.pin_failures_per_case = 3
    core.settings.lookup_failures_per_hour = 3
    filed = await file(core)
    owner = Person(intake, user_id="10")
    for typo in ("000000", "12345", "abcdef", "9999999", wrong(filed.pin)):  # bad input as well
        await owner.cmd("status", f"{filed.case.code} {typo}")
        assert "không đúng" in owner.text and "tạm khóa" not in owner.text and "quá nhiều" not in owner.text
    await owner.cmd("status", f"{filed.case.code} {filed.pin}")
    assert "Tình trạng" in owner.text
    other = Person(intake, user_id="12")
    await other.cmd("status", f"{filed.case.code} {filed.pin}")
    assert "Tình trạng" in other.text, "the case was never locked by its reporter's typos"
    assert await reporter_notices(core, "10") == []
    async with core.sessions() as s:
        counted = (await s.execute(select(func.count()).select_from(LookupFailure))).scalar_one()
    assert counted == 0


async def test_an_accounts_lock_outs_grow_while_it_keeps_guessing(core, intake):
    core.clock = Clock(movable=True)
    core.settings.pin_failures_per_case = 1000
    filed = await file(core)
    guesser = Person(intake, user_id="666")
    waits = []
    for _burst in range(5):
        for _ in range(core.settings.lookup_failures_per_hour):
            await guesser.cmd("status", f"{filed.case.code} {wrong(filed.pin)}")
            assert "không đúng" in guesser.text
        await guesser.cmd("status", f"{filed.case.code} {filed.pin}")
        assert "quá nhiều lần" in guesser.text and "Tình trạng" not in guesser.text
        waits.append(hours_in(guesser.text))
        core.clock.advance(pin_guard.dt.timedelta(hours=waits[-1] - 1))
        await guesser.cmd("status", f"{filed.case.code} {filed.pin}")
        assert "quá nhiều lần" in guesser.text, "still locked an hour before the time it was told"
        core.clock.advance(pin_guard.dt.timedelta(hours=1))
    assert waits == [1, 1, 2, 4, 8]
    await guesser.cmd("status", f"{filed.case.code} {filed.pin}")
    assert "Tình trạng" in guesser.text, "the right PIN works once the wait is over"
