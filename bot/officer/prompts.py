"""Buttons and the questions they ask: a press, the reason an officer types, the choice offered."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from bot import cards, presses
from bot import status as st
from bot.core import Core
from bot.i18n import t
from bot.officer.actions import (
    accept,
    ask,
    comment,
    cooperate,
    extend,
    link,
    not_same,
    refer,
    reject,
    resolve,
    transfer,
    watch,
)
from bot.officer.messages import to_group
from bot.officer.permissions import _ALLOWED, ActionRefused, Actor, Outcome, _acting_agency, _context, _Ctx
from storage.models import Case, PendingInput

_PROMPTED = {
    cards.ASK: "officer.prompt.ask",
    cards.TRANSFER: "officer.prompt.transfer",
    cards.COOPERATE: "officer.prompt.cooperate",
    cards.EXTEND: "officer.prompt.extend",
    cards.REFER: "officer.prompt.refer",
    cards.REJECT: "officer.prompt.reject",
    cards.RESOLVE: "officer.prompt.resolve",
    cards.COMMENT: "officer.prompt.comment",
}


_PICKED = {cards.TRANSFER, cards.COOPERATE, cards.REJECT}


async def press(
    core: Core, actor: Actor, signed: presses.Press | None, now: dt.datetime | None = None
) -> Outcome:
    """A button on a card (or on a picker under it): act at once, offer a choice, or ask for a text.
    `signed` is None when the adapter could not read the button's data: refused like a forged one."""
    try:
        async with core.sessions() as session, session.begin():
            agency_id = await _acting_agency(session, actor)
            parsed = cards.verified(core, agency_id, signed)
            if parsed is None or parsed.action not in _ALLOWED:
                raise ActionRefused("officer.refused.forged")
            ctx = await _context(
                session,
                core,
                actor,
                parsed.target,
                parsed.version,
                parsed.action,
                agency_id=agency_id,
                now=now,
            )
            if parsed.action == cards.ACCEPT:
                return await accept(ctx)
            if parsed.action == cards.WATCH:
                return await watch(ctx)
            if parsed.action in (cards.LINK, cards.MERGE):
                return await link(ctx, parsed.arg, merge=parsed.action == cards.MERGE)
            if parsed.action == cards.DIFFERENT:
                return await not_same(ctx, parsed.arg)
            if parsed.action in _PICKED and parsed.arg is None:
                return await _offer_choice(ctx, parsed.action)
            if parsed.action in _PICKED and not _valid_arg(core, ctx.case, parsed.action, parsed.arg):
                raise ActionRefused("officer.refused.forged")
            return await _prompt(ctx, parsed.action, parsed.arg)
    except StaleDataError as exc:
        raise ActionRefused("officer.refused.stale") from exc


def _choices(core: Core, case: Case, action: str) -> list[tuple[str, str]]:
    if action == cards.REJECT:
        return [(code, t(f"officer.reject.{code}")) for code in cards.REJECT_REASONS]
    holding = {a for a, r in cards.holders(case) if r in st.HOLDING}
    if action == cards.TRANSFER:
        return [(a.id, a.name.vi) for a in core.rules.agencies if a.id != case.lead_agency_id]
    return [(a.id, a.name.vi) for a in core.rules.agencies if a.id not in holding]


def _valid_arg(core: Core, case: Case, action: str, arg: str | None) -> bool:
    return arg in {code for code, _ in _choices(core, case, action)}


async def _offer_choice(ctx: _Ctx, action: str) -> Outcome:
    options = _choices(ctx.core, ctx.case, action)
    if not options:
        raise ActionRefused("officer.refused.no_choice")
    buttons = cards.picker(ctx.core, ctx.case, ctx.agency_id, action, options)
    await to_group(
        ctx.session,
        ctx.case,
        ctx.agency_id,
        t(f"officer.pick.{action}", "vi", code=ctx.case.code),
        key=f"pick:{ctx.case.id}:v{ctx.case.version}:{ctx.agency_id}:{action}",
        buttons=buttons,
    )
    return Outcome("officer.toast.pick", {"code": ctx.case.code}, ctx.case.code)


async def _prompt(ctx: _Ctx, action: str, arg: str | None) -> Outcome:
    """Ask the officer for the text the action needs; the wait is a row, so restarts lose nothing."""
    session, actor = ctx.session, ctx.actor
    existing = (
        await session.execute(
            select(PendingInput).where(
                PendingInput.channel == actor.channel,
                PendingInput.chat_id == actor.chat_id,
                PendingInput.user_id == actor.user_id,
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        await session.delete(existing)
        await session.flush()
    pending = PendingInput(
        channel=actor.channel,
        chat_id=actor.chat_id,
        user_id=actor.user_id,
        case_id=ctx.case.id,
        agency_id=ctx.agency_id,
        action=action,
        params={"arg": arg} if arg else {},
        version=ctx.case.version,
        created_at=ctx.now,
    )
    session.add(pending)
    await session.flush()
    arg_name = (
        cards.agency_name(ctx.core, arg)
        if arg and action != cards.REJECT
        else (t(f"officer.reject.{arg}") if arg else "")
    )
    text = t(
        _PROMPTED[action],
        "vi",
        code=ctx.case.code,
        who=actor.name or t("officer.actor.officer"),
        choice=arg_name,
    )
    await to_group(session, ctx.case, ctx.agency_id, text, key=f"prompt:{uuid.uuid4().hex}",
                   expects_answer=True)
    return Outcome("officer.toast.prompt", {"code": ctx.case.code}, ctx.case.code)


async def has_pending(core: Core, actor: Actor) -> bool:
    async with core.sessions() as session:
        return (
            await session.execute(
                select(PendingInput.id).where(
                    PendingInput.channel == actor.channel,
                    PendingInput.chat_id == actor.chat_id,
                    PendingInput.user_id == actor.user_id,
                )
            )
        ).first() is not None


async def submit_input(core: Core, actor: Actor, text: str, now: dt.datetime | None = None) -> Outcome | None:
    """The officer's reply to a prompt completes the action; None when nothing was asked of them."""
    text = text.strip()
    if not text:
        raise ActionRefused("officer.refused.empty")
    try:
        async with core.sessions() as session, session.begin():
            pending = (
                await session.execute(
                    select(PendingInput).where(
                        PendingInput.channel == actor.channel,
                        PendingInput.chat_id == actor.chat_id,
                        PendingInput.user_id == actor.user_id,
                    )
                )
            ).scalar_one_or_none()
            if pending is None:
                return None
            action, arg, case_id, version = (
                pending.action,
                pending.params.get("arg"),
                pending.case_id,
                pending.version,
            )
            await session.delete(pending)
            ctx = await _context(
                session, core, actor, case_id, version if action != cards.COMMENT else None, action, now=now
            )
            return await _complete(ctx, action, arg, text)
    except (ActionRefused, StaleDataError) as exc:
        await _drop_pending(core, actor)
        if isinstance(exc, StaleDataError):
            raise ActionRefused("officer.refused.stale") from exc
        raise


async def _drop_pending(core: Core, actor: Actor) -> None:
    async with core.sessions() as session, session.begin():
        pending = (
            await session.execute(
                select(PendingInput).where(
                    PendingInput.channel == actor.channel,
                    PendingInput.chat_id == actor.chat_id,
                    PendingInput.user_id == actor.user_id,
                )
            )
        ).scalar_one_or_none()
        if pending is not None:
            await session.delete(pending)


async def _complete(ctx: _Ctx, action: str, arg: str | None, text: str) -> Outcome:
    if action == cards.ASK:
        return await ask(ctx, text)
    if action == cards.TRANSFER and arg:
        return await transfer(ctx, arg, text)
    if action == cards.COOPERATE and arg:
        return await cooperate(ctx, arg, text)
    if action == cards.EXTEND:
        return await extend(ctx, text)
    if action == cards.REFER:
        return await refer(ctx, text)
    if action == cards.REJECT and arg:
        return await reject(ctx, arg, text)
    if action == cards.RESOLVE:
        return await resolve(ctx, text)
    if action == cards.COMMENT:
        return await comment(ctx, text)
    raise ActionRefused("officer.refused.forged")
