"""Officers' actions the way production runs them, for tests that need a case moved along.

Each function presses the signed button of the agency's card (as an adapter hands it to the core) and,
when the bot asks for a text, answers its prompt, just as an officer in the group does. `version` is the
card's (None: the case's current one); a refusal raises `ActionRefused` as it would reach the adapter.
"""

from __future__ import annotations

import datetime as dt

from bot import cards, officer
from bot.agencies import agency_of_chat
from bot.core import Core
from bot.officer import Actor, Outcome
from storage.models import Case

Now = dt.datetime | None


async def _act(core: Core, actor: Actor, case_id: int, version: int | None, action: str,
               arg: str | None = None, text: str | None = None, now: Now = None) -> Outcome:
    async with core.sessions() as session:
        agency_id = await agency_of_chat(session, actor.channel, actor.chat_id)
        if version is None:
            case = await session.get(Case, case_id)
            version = case.version if case is not None else 0
    signed = cards.signed(core, agency_id or "", case_id, version, action, arg)
    outcome = await officer.press(core, actor, signed, now=now)
    if text is None:
        return outcome
    done = await officer.submit_input(core, actor, text, now=now)
    assert done is not None, f"the {action} button asked for no text"
    return done


async def accept(core: Core, actor: Actor, case_id: int, version: int | None, now: Now = None) -> Outcome:
    return await _act(core, actor, case_id, version, cards.ACCEPT, now=now)


async def watch(core: Core, actor: Actor, case_id: int, version: int | None, now: Now = None) -> Outcome:
    return await _act(core, actor, case_id, version, cards.WATCH, now=now)


async def request_info(core: Core, actor: Actor, case_id: int, version: int | None, question: str,
                       now: Now = None) -> Outcome:
    return await _act(core, actor, case_id, version, cards.ASK, text=question, now=now)


async def extend(core: Core, actor: Actor, case_id: int, version: int | None, reason: str,
                 now: Now = None) -> Outcome:
    return await _act(core, actor, case_id, version, cards.EXTEND, text=reason, now=now)


async def refer_to_investigators(core: Core, actor: Actor, case_id: int, version: int | None, reason: str,
                                 now: Now = None) -> Outcome:
    return await _act(core, actor, case_id, version, cards.REFER, text=reason, now=now)


async def resolve(core: Core, actor: Actor, case_id: int, version: int | None, result: str,
                  now: Now = None) -> Outcome:
    return await _act(core, actor, case_id, version, cards.RESOLVE, text=result, now=now)


async def comment(core: Core, actor: Actor, case_id: int, version: int | None, text: str,
                  now: Now = None) -> Outcome:
    return await _act(core, actor, case_id, version, cards.COMMENT, text=text, now=now)


async def transfer(core: Core, actor: Actor, case_id: int, version: int | None, to_agency: str, reason: str,
                   now: Now = None) -> Outcome:
    return await _act(core, actor, case_id, version, cards.TRANSFER, to_agency, reason, now=now)


async def add_cooperating(core: Core, actor: Actor, case_id: int, version: int | None, agency_id: str,
                          reason: str, now: Now = None) -> Outcome:
    return await _act(core, actor, case_id, version, cards.COOPERATE, agency_id, reason, now=now)


async def reject(core: Core, actor: Actor, case_id: int, version: int | None, reason_code: str, note: str,
                 now: Now = None) -> Outcome:
    return await _act(core, actor, case_id, version, cards.REJECT, reason_code, note, now=now)
