"""The secretariat's conversations in groups: buttons on meeting messages and the texts they ask for.

Group privacy mode lets the bot see only commands, buttons and replies to its own messages, so every
step that needs a text is a prompt the person answers by replying; the step waits in the database
(`SecretariatInput`), one per person per chat, so a restart or another instance loses nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import presses
from bot.agencies import agency_of_chat
from bot.core import Core
from bot.i18n import fmt_date, t
from bot.officer import Actor
from bot.secretariat import agenda, attendance, common, decisions, meetings
from bot.secretariat.common import Reply, SecretariatRefused, agency_name, fmt_when, secretariat_id
from storage.models import Decision, Meeting, SecretariatInput

CANCEL_WORDS = {"/cancel", "hủy", "huỷ", "huy", "cancel"}
NEW_STEPS = ("title", "when", "place", "agencies", "items", "chair")
MANAGE = {"rs", "cx", "dec", "item", "ag", "own", "rsok"}


def _prompt(key: str, locale: str, **params: Any) -> Reply:
    return Reply(t(key, locale, **params), expects_answer=True)


async def _ask(
    session: AsyncSession,
    actor: Actor,
    agency_id: str,
    action: str,
    meeting_id: int | None,
    data: dict[str, Any],
) -> SecretariatInput:
    await session.execute(
        delete(SecretariatInput).where(
            SecretariatInput.channel == actor.channel,
            SecretariatInput.chat_id == actor.chat_id,
            SecretariatInput.user_id == actor.user_id,
        )
    )
    row = SecretariatInput(
        channel=actor.channel,
        chat_id=actor.chat_id,
        user_id=actor.user_id,
        agency_id=agency_id,
        action=action,
        meeting_id=meeting_id,
        data=data,
    )
    session.add(row)
    await session.flush()
    return row


async def _pending(session: AsyncSession, actor: Actor) -> SecretariatInput | None:
    return (
        await session.execute(
            select(SecretariatInput).where(
                SecretariatInput.channel == actor.channel,
                SecretariatInput.chat_id == actor.chat_id,
                SecretariatInput.user_id == actor.user_id,
            )
        )
    ).scalar_one_or_none()


async def waiting(core: Core, actor: Actor, replied_to: str | None = None) -> bool:
    """Whether the bot waits for a text from this person in this chat, given as a reply to its prompt
    (to any message of the bot while the prompt's own id is not known)."""
    async with core.sessions() as session:
        pending = await _pending(session, actor)
    if pending is None:
        return False
    prompt = pending.data.get("prompt")
    return prompt is None or replied_to is None or str(prompt) == str(replied_to)


async def prompted(core: Core, actor: Actor, message_id: str) -> None:
    """Remember which message asked, so only a reply to it answers (a reply to a case card stays one)."""
    async with core.sessions() as session, session.begin():
        pending = await _pending(session, actor)
        if pending is not None:
            pending.data = {**pending.data, "prompt": str(message_id)}


async def start_new(core: Core, actor: Actor, locale: str = "vi") -> Reply:
    """`/meeting`: the secretariat calls an ad-hoc meeting, step by step."""
    async with core.sessions() as session, session.begin():
        agency_id = await common.acting_agency(session, actor)
        if agency_id != secretariat_id(core):
            raise SecretariatRefused(
                "secretariat.refused.not_secretariat", agency=agency_name(core, secretariat_id(core), locale)
            )
        await _ask(session, actor, agency_id, "new", None, {"step": "title"})
    return _prompt("secretariat.new.title", locale)


async def reply(core: Core, actor: Actor, text: str, locale: str = "vi") -> Reply:
    """The text a prompt asked for; refusals keep the step so the person can answer again."""
    now = core.clock.now()
    async with core.sessions() as session, session.begin():
        pending = await _pending(session, actor)
        if pending is None:
            raise SecretariatRefused("secretariat.refused.nothing_asked")
        if text.strip().lower() in CANCEL_WORDS:
            await session.delete(pending)
            return Reply(t("secretariat.dialogue.cancelled", locale))
        handler = _REPLIES[pending.action]
        return await handler(session, core, actor, pending, text.strip(), now, locale)


async def _reply_new(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    pending: SecretariatInput,
    text: str,
    now: dt.datetime,
    locale: str,
) -> Reply:
    data = dict(pending.data)
    step = data["step"]
    skip = text in ("-", "—", "")
    if step == "title":
        if skip:
            raise SecretariatRefused("secretariat.refused.empty")
        data["title"] = text[:255]
    elif step == "when":
        data["starts_at"] = meetings.parse_when(core, text).isoformat()
    elif step == "place":
        data["place"] = None if skip else text[:500]
    elif step == "agencies":
        data["agencies"] = meetings.parse_agencies(core, text)
    elif step == "items":
        data["items"] = (
            [] if skip else [line.strip(" -•\t") for line in text.splitlines() if line.strip(" -•\t")]
        )
    elif step == "chair":
        data["chair"] = pending.agency_id if skip else meetings.parse_agencies(core, text)[0]
    following = NEW_STEPS.index(step) + 1
    if following < len(NEW_STEPS):
        data["step"] = NEW_STEPS[following]
        pending.data = data
        return _prompt(f"secretariat.new.{data['step']}", locale)
    data["step"] = "confirm"
    pending.data = data
    starts_at = dt.datetime.fromisoformat(data["starts_at"])
    warns = await meetings.warnings(session, core, starts_at, data["agencies"], now)
    summary = t(
        "secretariat.new.summary",
        locale,
        title=data["title"],
        when=fmt_when(core, starts_at),
        place=data.get("place") or t("secretariat.meeting.no_place", locale),
        agencies=", ".join(agency_name(core, a, locale) for a in data["agencies"]),
        chair=agency_name(core, data["chair"], locale),
        items="\n".join(f"{i}. {x}" for i, x in enumerate(data["items"], 1)) or "—",
    )
    if warns:
        summary += "\n\n" + t("secretariat.warn.header", locale) + "\n" + "\n".join(f"⚠️ {w}" for w in warns)
    ok = presses.sign(core, pending.agency_id, presses.MEETING, 0, "ok", pending.id)
    no = presses.sign(core, pending.agency_id, presses.MEETING, 0, "no", pending.id)
    return Reply(
        summary, [[(t("secretariat.button.ok", locale), ok), (t("secretariat.button.no", locale), no)]]
    )


async def _reply_answer(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    pending: SecretariatInput,
    text: str,
    now: dt.datetime,
    locale: str,
) -> Reply:
    meeting = await meetings.meeting_for(session, pending.meeting_id or 0)
    attends = pending.action == "att"
    await attendance.answer(session, core, actor, pending.agency_id, meeting, attends, text, now)
    await session.delete(pending)
    return Reply(
        t(
            "secretariat.attendance.thanks_yes" if attends else "secretariat.attendance.thanks_no",
            locale,
            title=meeting.title,
        )
    )


async def _reply_reschedule(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    pending: SecretariatInput,
    text: str,
    now: dt.datetime,
    locale: str,
) -> Reply:
    meeting = await meetings.meeting_for(session, pending.meeting_id or 0)
    data = dict(pending.data)
    if data["step"] == "when":
        data["starts_at"] = meetings.parse_when(core, text).isoformat()
        data["step"] = "reason"
        pending.data = data
        return _prompt("secretariat.reschedule.reason", locale)
    if not text:
        raise SecretariatRefused("secretariat.refused.empty")
    data["reason"], data["step"] = text[:1000], "confirm"
    pending.data = data
    starts_at = dt.datetime.fromisoformat(data["starts_at"])
    warns = await meetings.warnings(session, core, starts_at, list(meeting.agencies), now, exclude=meeting.id)
    if warns:
        ok = presses.sign(core, pending.agency_id, presses.MEETING, meeting.id, "rsok", meeting.version)
        no = presses.sign(core, pending.agency_id, presses.MEETING, 0, "no", pending.id)
        text = t("secretariat.warn.header", locale) + "\n" + "\n".join(f"⚠️ {w}" for w in warns)
        return Reply(
            text, [[(t("secretariat.button.ok", locale), ok), (t("secretariat.button.no", locale), no)]]
        )
    return await _do_reschedule(session, core, actor, pending, meeting, now, locale)


async def _do_reschedule(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    pending: SecretariatInput,
    meeting: Meeting,
    now: dt.datetime,
    locale: str,
) -> Reply:
    starts_at = dt.datetime.fromisoformat(pending.data["starts_at"])
    await meetings.reschedule(
        session, core, actor, pending.agency_id, meeting, starts_at, pending.data["reason"], now
    )
    await session.delete(pending)
    return Reply(t("secretariat.reschedule.done", locale, when=fmt_when(core, starts_at)))


async def _reply_cancel(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    pending: SecretariatInput,
    text: str,
    now: dt.datetime,
    locale: str,
) -> Reply:
    if not text:
        raise SecretariatRefused("secretariat.refused.empty")
    meeting = await meetings.meeting_for(session, pending.meeting_id or 0)
    await meetings.cancel(session, core, actor, pending.agency_id, meeting, text[:1000], now)
    await session.delete(pending)
    return Reply(t("secretariat.cancel.done", locale))


async def _reply_decision(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    pending: SecretariatInput,
    text: str,
    now: dt.datetime,
    locale: str,
) -> Reply:
    meeting = await meetings.meeting_for(session, pending.meeting_id or 0)
    data = dict(pending.data)
    if data["step"] == "text":
        if not text:
            raise SecretariatRefused("secretariat.refused.empty")
        data["text"], data["step"] = text[:2000], "owner"
        pending.data = data
        return _owner_picker(core, pending.agency_id, meeting, locale)
    if data["step"] == "owner":
        data["owner"], data["step"] = meetings.parse_agencies(core, text)[0], "due"
        pending.data = data
        return _prompt("secretariat.decision.ask_due", locale)
    due = meetings.parse_date(text)
    decision = await decisions.record(
        session, core, actor, pending.agency_id, meeting, data["text"], data["owner"], due, now
    )
    await session.delete(pending)
    return Reply(
        t(
            "secretariat.decision.recorded",
            locale,
            owner=agency_name(core, decision.owner_agency_id, locale),
            due=fmt_date(decision.due_on),
        )
    )


def _owner_picker(core: Core, agency_id: str, meeting: Meeting, locale: str) -> Reply:
    buttons = [
        (
            agency_name(core, a, locale),
            presses.sign(core, agency_id, presses.MEETING, meeting.id, "own", meeting.version, arg=a),
        )
        for a in meeting.agencies
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return Reply(t("secretariat.decision.ask_owner", locale), rows, expects_answer=False)


async def _reply_item(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    pending: SecretariatInput,
    text: str,
    now: dt.datetime,
    locale: str,
) -> Reply:
    if not text:
        raise SecretariatRefused("secretariat.refused.empty")
    meeting = await meetings.meeting_for(session, pending.meeting_id or 0)
    meeting.items = [*meeting.items, text[:500]]
    common.audit(
        session, "meeting_item_added", meeting, actor=actor, agency_id=pending.agency_id, item=text[:500]
    )
    await session.delete(pending)
    return Reply(t("secretariat.item.added", locale, count=len(meeting.items)))


async def _reply_close(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    pending: SecretariatInput,
    text: str,
    now: dt.datetime,
    locale: str,
) -> Reply:
    decision = await session.get(Decision, int(pending.data["decision_id"]))
    if decision is None:
        raise SecretariatRefused("secretariat.refused.no_meeting")
    await decisions.close(session, core, actor, pending.agency_id, decision, text, now)
    await session.delete(pending)
    return Reply(t("secretariat.decision.closed", locale))


_REPLIES = {
    "new": _reply_new,
    "att": _reply_answer,
    "abs": _reply_answer,
    "rs": _reply_reschedule,
    "cx": _reply_cancel,
    "dec": _reply_decision,
    "item": _reply_item,
    "close": _reply_close,
}


async def press(core: Core, actor: Actor, signed: presses.Press | None, locale: str = "vi") -> Reply:
    """A button on a meeting or decision message: show, ask for a text, or act. `signed` is None when
    the adapter could not read the button: refused like a forged one."""
    now = core.clock.now()
    async with core.sessions() as session, session.begin():
        agency_id = await agency_of_chat(session, actor.channel, actor.chat_id)
        kinds = (presses.MEETING, presses.DECISION)
        parsed = presses.verified(core, agency_id, signed, kinds) if agency_id else None
        if agency_id is None or parsed is None:
            raise SecretariatRefused("secretariat.refused.forged")
        if parsed.kind == presses.DECISION:
            return await _press_decision(session, core, actor, agency_id, parsed.target, locale)
        if parsed.target == 0:
            return await _press_confirm(session, core, actor, agency_id, parsed, now, locale)
        meeting = await meetings.meeting_for(session, parsed.target)
        if parsed.version != meeting.version:
            raise SecretariatRefused("secretariat.refused.stale")
        if parsed.action in MANAGE and not common.may_manage(core, meeting, agency_id):
            raise SecretariatRefused(
                "secretariat.refused.not_secretariat", agency=agency_name(core, secretariat_id(core), locale)
            )
        if parsed.action == "card":
            return await meetings.card(session, core, meeting, agency_id, locale)
        if meeting.status == "cancelled":
            raise SecretariatRefused("secretariat.refused.not_planned")
        return await _press_meeting(session, core, actor, agency_id, meeting, parsed, now, locale)


async def _press_meeting(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    agency_id: str,
    meeting: Meeting,
    parsed: presses.Press,
    now: dt.datetime,
    locale: str,
) -> Reply:
    action = parsed.action
    if action in ("att", "abs"):
        if agency_id not in meeting.agencies:
            raise SecretariatRefused("secretariat.refused.not_invited")
        await _ask(session, actor, agency_id, action, meeting.id, {})
        return _prompt(f"secretariat.attendance.ask_{action}", locale, title=meeting.title)
    if action == "rs":
        await _ask(session, actor, agency_id, "rs", meeting.id, {"step": "when"})
        return _prompt("secretariat.reschedule.when", locale)
    if action == "cx":
        await _ask(session, actor, agency_id, "cx", meeting.id, {})
        return _prompt("secretariat.cancel.reason", locale)
    if action == "dec":
        await _ask(session, actor, agency_id, "dec", meeting.id, {"step": "text"})
        return _prompt("secretariat.decision.ask_text", locale)
    if action == "item":
        await _ask(session, actor, agency_id, "item", meeting.id, {})
        return _prompt("secretariat.item.ask", locale)
    if action == "ag":
        await agenda.publish(session, core, meeting, now, reason="on-demand", only=[agency_id])
        return Reply(t("secretariat.agenda.sent", locale))
    if action == "own":
        pending = await _pending(session, actor)
        if (
            pending is None
            or pending.action != "dec"
            or pending.meeting_id != meeting.id
            or parsed.arg not in meeting.agencies
        ):
            raise SecretariatRefused("secretariat.refused.nothing_asked")
        pending.data = {**pending.data, "owner": parsed.arg, "step": "due"}
        return _prompt("secretariat.decision.ask_due", locale)
    if action == "rsok":
        pending = await _pending(session, actor)
        if pending is None or pending.action != "rs" or pending.data.get("step") != "confirm":
            raise SecretariatRefused("secretariat.refused.nothing_asked")
        return await _do_reschedule(session, core, actor, pending, meeting, now, locale)
    raise SecretariatRefused("secretariat.refused.forged")


async def _press_confirm(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    agency_id: str,
    parsed: presses.Press,
    now: dt.datetime,
    locale: str,
) -> Reply:
    pending = await _pending(session, actor)
    if pending is None or pending.id != parsed.version:
        raise SecretariatRefused("secretariat.refused.nothing_asked")
    if parsed.action == "no":
        await session.delete(pending)
        return Reply(t("secretariat.dialogue.cancelled", locale))
    if parsed.action != "ok" or pending.action != "new" or pending.data.get("step") != "confirm":
        raise SecretariatRefused("secretariat.refused.nothing_asked")
    meeting = await meetings.create(session, core, actor, agency_id, dict(pending.data), now)
    await session.delete(pending)
    return Reply(
        t("secretariat.new.created", locale, title=meeting.title, when=fmt_when(core, meeting.starts_at))
    )


async def _press_decision(
    session: AsyncSession, core: Core, actor: Actor, agency_id: str, decision_id: int, locale: str
) -> Reply:
    decision = await session.get(Decision, decision_id)
    if decision is None:
        raise SecretariatRefused("secretariat.refused.no_meeting")
    if decision.owner_agency_id != agency_id:
        raise SecretariatRefused("secretariat.refused.not_owner")
    if decision.status != "open":
        raise SecretariatRefused("secretariat.refused.closed")
    await _ask(session, actor, agency_id, "close", decision.meeting_id, {"decision_id": decision.id})
    return _prompt("secretariat.decision.ask_result", locale, text=decision.text)
