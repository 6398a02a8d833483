"""The case lifecycle as officers drive it from their agency's group.

Every action is one function: permission check, state change, audit event and every message it causes
(card edits for each holding agency, a confirmation in the acting group, the citizen's notification) in
one transaction (DESIGN.md principle 3). A refusal raises `ActionRefused` with a locale key and changes
nothing; adapters only translate it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from bot import cards, case_links
from bot import status as st
from bot.agencies import agency_of_chat, chat_of_agency
from bot.audit import record
from bot.channels import capabilities
from bot.core import Core
from bot.deadline_jobs import replan
from bot.deadlines import DeadlineError, ExtensionLimitError, policy_for, stage_due, stage_of
from bot.deadlines import extend as extend_deadline
from bot.i18n import fmt_date, t
from bot.outbox import enqueue, enqueue_evidence
from bot.refusals import Refused
from bot.rules import Stage
from storage.models import AuditEvent, CardMessage, Case, CaseAgency, PendingInput, Reporter

INVESTIGATORS = "cong-an"  # Cơ quan điều tra (BLTTHS 2015 Điều 145: receives and resolves crime reports)
PROSECUTORS = "vksnd"  # supervises how crime reports are resolved (BLTTHS 2015 Điều 145 khoản 4, Điều 159)
LEAD_ONLY = frozenset(
    {
        cards.ACCEPT,
        cards.ASK,
        cards.TRANSFER,
        cards.COOPERATE,
        cards.EXTEND,
        cards.REFER,
        cards.REJECT,
        cards.RESOLVE,
        cards.LINK,
        cards.MERGE,
    }
)


class ActionRefused(Refused):
    """An officer's action that must not happen."""


@dataclass(frozen=True)
class Actor:
    """An officer acting from a chat: the chat decides the agency; the name is shown as the assignee."""

    channel: str
    chat_id: str
    user_id: str
    name: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What the adapter tells the officer at once (the real messages go through the outbox)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    case_code: str | None = None

    def text(self, locale: str = "vi") -> str:
        return t(self.key, locale, **self.params)


@dataclass
class _Ctx:
    session: AsyncSession
    core: Core
    actor: Actor
    case: Case
    agency_id: str
    role: str
    now: dt.datetime
    today: dt.date


# ---- permission -----------------------------------------------------------------------------------------

_ALLOWED: dict[str, frozenset[str]] = {
    cards.ACCEPT: frozenset({st.NEW}),
    cards.ASK: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING}),
    cards.TRANSFER: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING}),
    cards.COOPERATE: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING}),
    cards.EXTEND: frozenset({st.ACCEPTED, st.INVESTIGATING}),
    cards.WATCH: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING}),
    cards.REFER: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO}),
    cards.REJECT: frozenset({st.NEW, st.WAITING_INFO}),
    cards.RESOLVE: frozenset({st.ACCEPTED, st.INVESTIGATING}),
    cards.COMMENT: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING}),
    cards.LINK: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING}),
    cards.MERGE: frozenset({st.NEW, st.ACCEPTED, st.WAITING_INFO, st.INVESTIGATING}),
}


async def _acting_agency(session: AsyncSession, actor: Actor) -> str:
    agency_id = await agency_of_chat(session, actor.channel, actor.chat_id)
    if agency_id is None:
        raise ActionRefused("officer.refused.not_bound")
    return agency_id


def _role(case: Case, agency_id: str) -> str | None:
    return next((a.role for a in case.agencies if a.agency_id == agency_id), None)


async def _context(
    session: AsyncSession,
    core: Core,
    actor: Actor,
    case_id: int,
    version: int | None,
    action: str,
    agency_id: str | None = None,
    now: dt.datetime | None = None,
) -> _Ctx:
    """Load the case and check that the actor's agency may do `action` on it at `version`."""
    agency_id = agency_id or await _acting_agency(session, actor)
    case = await session.get(Case, case_id)
    if case is None:
        raise ActionRefused("officer.refused.unknown_case")
    role = _role(case, agency_id)
    if role not in ("lead", "cooperating"):
        raise ActionRefused("officer.refused.not_holder")
    if not case.is_open:
        raise ActionRefused("officer.refused.closed", status=t(f"status.{case.status}"))
    if version is not None and version != case.version:
        raise ActionRefused("officer.refused.stale")
    if action in LEAD_ONLY and role != "lead":
        raise ActionRefused("officer.refused.cooperating_only")
    if action == cards.WATCH and role != "lead" and not core.rules.agency(agency_id).secretariat:
        raise ActionRefused("officer.refused.cooperating_only")
    if case.status not in _ALLOWED[action]:
        raise ActionRefused("officer.refused.status", status=t(f"status.{case.status}"))
    now = now or core.clock.now()
    return _Ctx(session, core, actor, case, agency_id, role, now, core.calendar.today(now))


# ---- deadlines ------------------------------------------------------------------------------------------


def current_stage(core: Core, case: Case) -> Stage | None:
    """The deadline stage the case is in, from the policy in force when it was received."""
    found = stage_of(core.rules, case.kind, case.received_on, case.rule_id, case.stage)
    return found[0] if found else None


def _next_stage(core: Core, case: Case) -> Stage | None:
    """The stage that runs once the case is accepted (thụ lý)."""
    try:
        policy = policy_for(core.rules, case.kind, case.received_on, case.rule_id)
    except DeadlineError:
        return None
    after_accept = [s for s in policy.stages if s.start == "accepted"]
    if after_accept:
        return after_accept[0]
    ids = [s.id for s in policy.stages]
    if case.stage in ids and ids.index(case.stage) + 1 < len(ids):
        return policy.stages[ids.index(case.stage) + 1]
    return None


def _first_stage(core: Core, kind: str, on: dt.date, rule_id: str | None) -> Stage | None:
    try:
        stages = policy_for(core.rules, kind, on, rule_id).stages
    except DeadlineError:
        return None
    return stages[0] if stages else None


def _start_stage(ctx: _Ctx, stage: Stage | None) -> None:
    ctx.case.stage = stage.id if stage else None
    ctx.case.due_on = stage_due(stage, ctx.today, ctx.core.calendar) if stage else None
    ctx.case.extensions = 0


# ---- messages -------------------------------------------------------------------------------------------


def _snapshot(case: Case) -> dict[str, Any]:
    return {
        "status": case.status,
        "lead": case.lead_agency_id,
        "due_on": case.due_on.isoformat() if case.due_on else None,
        "stage": case.stage,
        "watched": case.watched,
        "cooperating": case.cooperating_ids,
    }


async def card_message_id(session: AsyncSession, case_id: int, agency_id: str, chat_id: str) -> str | None:
    """The platform id of the newest card of a case in an agency's chat, to reply under it."""
    return (
        (
            await session.execute(
                select(CardMessage.message_id)
                .where(
                    CardMessage.case_id == case_id,
                    CardMessage.agency_id == agency_id,
                    CardMessage.chat_id == chat_id,
                    CardMessage.purpose == "card",
                )
                .order_by(CardMessage.id.desc())
            )
        )
        .scalars()
        .first()
    )


async def _duplicate_code(session: AsyncSession, case: Case) -> str | None:
    if case.duplicate_of_id is None:
        return None
    return (
        await session.execute(select(Case.code).where(Case.id == case.duplicate_of_id))
    ).scalar_one_or_none()


async def to_group(
    session: AsyncSession,
    case: Case,
    agency_id: str,
    text: str,
    key: str,
    buttons: list[list[dict[str, str]]] | None = None,
    force_reply: bool = False,
) -> bool:
    """Post a text in an agency's group as a reply to its card of the case; False when it has no group."""
    chat = await chat_of_agency(session, agency_id)
    if chat is None:
        return False
    payload: dict[str, Any] = {"text": text}
    reply_to = await card_message_id(session, case.id, agency_id, chat.chat_id)
    if reply_to:
        payload["reply_to"] = reply_to
    if buttons:
        payload["buttons"] = buttons
    if force_reply:
        payload["force_reply"] = True
    await enqueue(
        session,
        channel=chat.channel,
        chat_id=chat.chat_id,
        kind="text",
        payload=payload,
        key=key,
        case_id=case.id,
        agency_id=agency_id,
    )
    return True


async def refresh_cards(
    session: AsyncSession, core: Core, case: Case, new_cards: tuple[str, ...] = ()
) -> None:
    """Edit every holding agency's card in place; post a fresh card (and evidence) to `new_cards`."""
    await session.flush()
    dup = await _duplicate_code(session, case)
    for agency_id, role in cards.holders(case):
        chat = await chat_of_agency(session, agency_id)
        if chat is None:
            continue
        payload = cards.card_payload(core, case, agency_id, role, "vi", duplicate_code=dup)
        if agency_id in new_cards:
            await enqueue(
                session,
                channel=chat.channel,
                chat_id=chat.chat_id,
                kind="card",
                payload=payload,
                key=f"card:{case.id}:{agency_id}:v{case.version}",
                case_id=case.id,
                agency_id=agency_id,
            )
            await enqueue_evidence(
                session,
                channel=chat.channel,
                chat_id=chat.chat_id,
                files=((a.media, a.file_id) for a in case.attachments),
                caption=case.code,
                key=f"media:{case.id}:{agency_id}:v{case.version}",
                case_id=case.id,
                agency_id=agency_id,
            )
        else:
            await enqueue(
                session,
                channel=chat.channel,
                chat_id=chat.chat_id,
                kind="edit_card",
                payload=payload,
                key=f"edit:{case.id}:{agency_id}:v{case.version}",
                case_id=case.id,
                agency_id=agency_id,
            )


async def reporter_chat(session: AsyncSession, core: Core, case: Case) -> tuple[str, str] | None:
    """(channel, chat id) of the reporter, opened only to send them a message; None without a reporter."""
    reporter = (
        await session.execute(select(Reporter).where(Reporter.case_id == case.id))
    ).scalar_one_or_none()
    if reporter is None:
        return None
    identity = core.privacy.open(reporter.identity)
    chat_id = identity.get("chat_id") or identity.get("user_id")
    if not chat_id:
        return None
    return identity.get("channel") or reporter.channel, str(chat_id)


async def notify_citizen(
    session: AsyncSession, core: Core, case: Case, key: str, tag: str, **params: Any
) -> bool:
    """Tell the reporter in plain language, in their language, what happened to their case; the
    reporters of cases linked to it hear the same under their own receipt code."""
    sent = await _notify_one(session, core, case, case, key, tag, **params)
    for follower in await case_links.followers(session, case):
        await _notify_one(session, core, follower, case, key, tag, **params)
    return sent


async def _notify_one(
    session: AsyncSession, core: Core, case: Case, cause: Case, key: str, tag: str, **params: Any
) -> bool:
    chat = await reporter_chat(session, core, case)
    if chat is None:
        return False
    text = t(key, case.locale, code=case.code, **params)
    await enqueue(
        session,
        channel=chat[0],
        chat_id=chat[1],
        kind="text",
        payload={"text": text},
        key=f"notify:{case.id}:v{cause.version}:{tag}" if cause is case else
        f"notify:{case.id}:by{cause.id}:v{cause.version}:{tag}",
        case_id=case.id,
    )
    return True


async def _finish(
    ctx: _Ctx,
    action: str,
    *,
    reason: str | None = None,
    public: bool = False,
    before: dict[str, Any],
    confirm: str,
    new_cards: tuple[str, ...] = (),
    **confirm_params: Any,
) -> Outcome:
    """The common tail of an action: bump the version, audit, edit cards, confirm in the thread."""
    case = ctx.case
    case.updated_at = ctx.now
    await replan(ctx.session, ctx.core, case, ctx.now)
    await refresh_cards(ctx.session, ctx.core, case, new_cards)
    for follower in await case_links.followers(ctx.session, case):
        if follower.is_open:
            moved = case_links.mirror(case, follower)
            follower.updated_at = ctx.now
            await replan(ctx.session, ctx.core, follower, ctx.now)
            await refresh_cards(ctx.session, ctx.core, follower, moved)
    record(
        ctx.session,
        action,
        case_id=case.id,
        actor_type="officer",
        actor_id=ctx.actor.user_id,
        agency_id=ctx.agency_id,
        reason=reason,
        before=before,
        after={**_snapshot(case), "officer": ctx.actor.name},
        public=public,
    )
    who = ctx.actor.name or t("officer.actor.officer")
    params = {"code": case.code, "who": who, **confirm_params}
    await to_group(
        ctx.session,
        case,
        ctx.agency_id,
        t(confirm, "vi", **params),
        key=f"ok:{case.id}:v{case.version}:{ctx.agency_id}:{action}",
    )
    return Outcome(confirm, params, case.code)


# ---- the actions ----------------------------------------------------------------------------------------


async def _run(
    core: Core,
    actor: Actor,
    case_id: int,
    version: int | None,
    action: str,
    body: Callable[[_Ctx], Awaitable[Outcome]],
    now: dt.datetime | None = None,
) -> Outcome:
    """One transaction: check, change, record; a concurrent change of the same case is refused as stale."""
    try:
        async with core.sessions() as session, session.begin():
            ctx = await _context(session, core, actor, case_id, version, action, now=now)
            return await body(ctx)
    except StaleDataError as exc:
        raise ActionRefused("officer.refused.stale") from exc


async def _accept(ctx: _Ctx) -> Outcome:
    case, before = ctx.case, _snapshot(ctx.case)
    case.status, case.accepted_on, case.assignee = st.ACCEPTED, ctx.today, ctx.actor.name
    case.paused_at = None
    stage = _next_stage(ctx.core, case)
    if stage is not None:
        _start_stage(ctx, stage)
    await notify_citizen(
        ctx.session,
        ctx.core,
        case,
        "notify.accepted",
        "accepted",
        agency=cards.agency_name(ctx.core, case.lead_agency_id, case.locale),
        due=fmt_date(case.due_on),
        stage=cards.stage_name(ctx.core, case, case.locale)[0],
    )
    return await _finish(
        ctx, "accepted", before=before, public=True, confirm="officer.done.accepted",
        due=fmt_date(case.due_on),
    )


async def accept(
    core: Core, actor: Actor, case_id: int, version: int, now: dt.datetime | None = None
) -> Outcome:
    """Thụ lý: the lead agency accepts the case; the legal clock of the next stage starts today."""
    return await _run(core, actor, case_id, version, cards.ACCEPT, _accept, now)


async def _ask(ctx: _Ctx, question: str) -> Outcome:
    case, before = ctx.case, _snapshot(ctx.case)
    chat = await reporter_chat(ctx.session, ctx.core, case)
    if chat is None:
        raise ActionRefused("officer.refused.no_reporter")
    if case.status != st.WAITING_INFO:
        case.status, case.paused_at = st.WAITING_INFO, ctx.now
    case.updated_at = ctx.now
    await ctx.session.flush()
    by_reply = capabilities(chat[0]).replies
    text = t("notify.question" if by_reply else "notify.question_by_code", case.locale, code=case.code,
             question=question)
    await enqueue(
        ctx.session,
        channel=chat[0],
        chat_id=chat[1],
        kind="text",
        payload={"text": text, "force_reply": True, "relay": "question"},
        key=f"ask:{case.id}:v{case.version}",
        case_id=case.id,
        agency_id=ctx.agency_id,
    )
    return await _finish(
        ctx, "info_requested", reason=question, public=True, before=before, confirm="officer.done.asked"
    )


async def request_info(
    core: Core, actor: Actor, case_id: int, version: int | None, question: str, now: dt.datetime | None = None
) -> Outcome:
    """Relay a question to the reporter without saying who asked; the legal clock stops until they answer."""
    return await _run(core, actor, case_id, version, cards.ASK, lambda ctx: _ask(ctx, question.strip()), now)


def _check_agency(core: Core, agency_id: str) -> None:
    if agency_id not in {a.id for a in core.rules.agencies}:
        raise ActionRefused("officer.refused.unknown_agency", agency=agency_id)


def _hold(case: Case, agency_id: str, role: str, reason: str | None) -> None:
    row = next((a for a in case.agencies if a.agency_id == agency_id), None)
    if row is None:
        case.agencies.append(CaseAgency(agency_id=agency_id, role=role, reason=reason))
    else:
        row.role, row.reason = role, reason


async def _transfer(ctx: _Ctx, target: str, reason: str) -> Outcome:
    case, before, core = ctx.case, _snapshot(ctx.case), ctx.core
    _check_agency(core, target)
    if target == case.lead_agency_id:
        raise ActionRefused("officer.refused.same_agency")
    _hold(case, case.lead_agency_id, "former", reason)
    _hold(case, target, "lead", reason)
    case.lead_agency_id = target
    case.status, case.accepted_on, case.assignee, case.paused_at = st.NEW, None, None, None
    _start_stage(ctx, _first_stage(core, case.kind, ctx.today, None))
    name = cards.agency_name(core, target, case.locale)
    await notify_citizen(ctx.session, core, case, "notify.transferred", "transferred", agency=name)
    has_group = await chat_of_agency(ctx.session, target) is not None
    return await _finish(
        ctx,
        "transferred",
        reason=reason,
        public=True,
        before=before,
        new_cards=(target,),
        confirm="officer.done.transferred" if has_group else "officer.done.transferred_unbound",
        agency=cards.agency_name(core, target),
    )


async def transfer(
    core: Core,
    actor: Actor,
    case_id: int,
    version: int | None,
    to_agency: str,
    reason: str,
    now: dt.datetime | None = None,
) -> Outcome:
    """Chuyển đơn: hand the case to another agency; it gets the card, the old lead sees it moved."""
    return await _run(
        core,
        actor,
        case_id,
        version,
        cards.TRANSFER,
        lambda ctx: _transfer(ctx, to_agency, reason.strip()),
        now,
    )


async def _cooperate(ctx: _Ctx, target: str, reason: str) -> Outcome:
    case, before = ctx.case, _snapshot(ctx.case)
    _check_agency(ctx.core, target)
    if _role(case, target) in ("lead", "cooperating"):
        raise ActionRefused("officer.refused.already_holds", agency=cards.agency_name(ctx.core, target))
    _hold(case, target, "cooperating", reason)
    return await _finish(
        ctx,
        "cooperating_added",
        reason=reason,
        before=before,
        new_cards=(target,),
        confirm="officer.done.cooperating",
        agency=cards.agency_name(ctx.core, target),
    )


async def add_cooperating(
    core: Core,
    actor: Actor,
    case_id: int,
    version: int | None,
    agency_id: str,
    reason: str,
    now: dt.datetime | None = None,
) -> Outcome:
    """Bring another agency in as co-operating; it receives the card marked as such."""
    return await _run(
        core,
        actor,
        case_id,
        version,
        cards.COOPERATE,
        lambda ctx: _cooperate(ctx, agency_id, reason.strip()),
        now,
    )


async def _extend(ctx: _Ctx, reason: str) -> Outcome:
    case, before = ctx.case, _snapshot(ctx.case)
    stage = current_stage(ctx.core, case)
    if stage is None or case.due_on is None:
        raise ActionRefused("officer.refused.no_deadline")
    try:
        case.due_on = extend_deadline(case.due_on, stage, ctx.core.calendar, case.extensions)
    except ExtensionLimitError as exc:
        raise ActionRefused("officer.refused.extend_max", max=stage.max_extensions) from exc
    case.extensions += 1
    await notify_citizen(
        ctx.session, ctx.core, case, "notify.extended", "extended", due=fmt_date(case.due_on), reason=reason,
        stage=cards.stage_name(ctx.core, case, case.locale)[0],
    )
    return await _finish(
        ctx,
        "extended",
        reason=reason,
        public=True,
        before=before,
        confirm="officer.done.extended",
        due=fmt_date(case.due_on),
    )


async def extend(
    core: Core, actor: Actor, case_id: int, version: int | None, reason: str, now: dt.datetime | None = None
) -> Outcome:
    """Gia hạn: push the deadline as far as the law allows for this stage; refused past the maximum."""
    return await _run(
        core, actor, case_id, version, cards.EXTEND, lambda ctx: _extend(ctx, reason.strip()), now
    )


async def _watch(ctx: _Ctx) -> Outcome:
    before = _snapshot(ctx.case)
    ctx.case.watched = not ctx.case.watched
    return await _finish(
        ctx,
        "watched" if ctx.case.watched else "unwatched",
        before=before,
        confirm="officer.done.watched" if ctx.case.watched else "officer.done.unwatched",
    )


async def watch(
    core: Core, actor: Actor, case_id: int, version: int | None, now: dt.datetime | None = None
) -> Outcome:
    """Put the case on (or take it off) the watch list (diện theo dõi, chỉ đạo)."""
    return await _run(core, actor, case_id, version, cards.WATCH, _watch, now)


async def _refer(ctx: _Ctx, reason: str) -> Outcome:
    case, before, core = ctx.case, _snapshot(ctx.case), ctx.core
    new_cards: list[str] = []
    if case.lead_agency_id != INVESTIGATORS:
        _check_agency(core, INVESTIGATORS)
        if _role(case, INVESTIGATORS) != "cooperating":
            new_cards.append(INVESTIGATORS)
        _hold(case, case.lead_agency_id, "cooperating", reason)
        _hold(case, INVESTIGATORS, "lead", reason)
        case.lead_agency_id = INVESTIGATORS
    if PROSECUTORS in {a.id for a in core.rules.agencies} and _role(case, PROSECUTORS) is None:
        _hold(case, PROSECUTORS, "cooperating", reason)
        new_cards.append(PROSECUTORS)
    case.status, case.paused_at = st.INVESTIGATING, None
    _start_stage(ctx, _first_stage(core, "crime_report", ctx.today, None))
    await notify_citizen(
        ctx.session,
        core,
        case,
        "notify.investigating",
        "investigating",
        agency=cards.agency_name(core, INVESTIGATORS, case.locale),
    )
    return await _finish(
        ctx,
        "referred_to_investigators",
        reason=reason,
        public=True,
        before=before,
        new_cards=tuple(new_cards),
        confirm="officer.done.referred",
        agency=cards.agency_name(core, INVESTIGATORS),
    )


async def refer_to_investigators(
    core: Core, actor: Actor, case_id: int, version: int | None, reason: str, now: dt.datetime | None = None
) -> Outcome:
    """Chuyển cơ quan điều tra: signs of a crime. Công an leads, the old lead co-operates, VKSND supervises.

    BLTTHS 2015 Điều 145: other bodies forward crime reports to the investigators, and the procuracy
    supervises how they are resolved; so the police become the lead rather than a mere co-operator."""
    return await _run(
        core, actor, case_id, version, cards.REFER, lambda ctx: _refer(ctx, reason.strip()), now
    )


async def _reject(ctx: _Ctx, reason_code: str, note: str) -> Outcome:
    case, before = ctx.case, _snapshot(ctx.case)
    if reason_code not in cards.REJECT_REASONS:
        raise ActionRefused("officer.refused.unknown_reason")
    case.status, case.result, case.closed_at, case.paused_at = st.REJECTED, note, ctx.now, None
    guidance = t(f"notify.reject.{reason_code}", case.locale)  # never another report's code
    await notify_citizen(
        ctx.session, ctx.core, case, "notify.rejected", "rejected", guidance=guidance, note=note
    )
    return await _finish(
        ctx,
        "rejected",
        reason=f"{reason_code}: {note}",
        public=True,
        before=before,
        confirm="officer.done.rejected",
        why=t(f"officer.reject.{reason_code}"),
    )


async def reject(
    core: Core,
    actor: Actor,
    case_id: int,
    version: int | None,
    reason_code: str,
    note: str,
    now: dt.datetime | None = None,
) -> Outcome:
    """Không thụ lý, with one of the legal reasons; the citizen gets the guidance for that reason."""
    return await _run(
        core, actor, case_id, version, cards.REJECT, lambda ctx: _reject(ctx, reason_code, note.strip()), now
    )


async def _resolve(ctx: _Ctx, result: str) -> Outcome:
    case, before = ctx.case, _snapshot(ctx.case)
    case.status, case.result, case.closed_at, case.paused_at = st.RESOLVED, result, ctx.now, None
    await notify_citizen(ctx.session, ctx.core, case, "notify.resolved", "resolved", result=result)
    return await _finish(
        ctx, "resolved", reason=result, public=True, before=before, confirm="officer.done.resolved"
    )


async def resolve(
    core: Core, actor: Actor, case_id: int, version: int | None, result: str, now: dt.datetime | None = None
) -> Outcome:
    """Close the case as resolved, with the result the citizen is told."""
    return await _run(
        core, actor, case_id, version, cards.RESOLVE, lambda ctx: _resolve(ctx, result.strip()), now
    )


async def _comment(ctx: _Ctx, text: str) -> Outcome:
    case = ctx.case
    record(
        ctx.session,
        "commented",
        case_id=case.id,
        actor_type="officer",
        actor_id=ctx.actor.user_id,
        agency_id=ctx.agency_id,
        reason=text,
    )
    key = uuid.uuid4().hex
    sender = cards.agency_name(ctx.core, ctx.agency_id)
    for agency_id, role in cards.holders(case):
        if role in ("lead", "cooperating") and agency_id != ctx.agency_id:
            await to_group(
                ctx.session,
                case,
                agency_id,
                t("officer.relay.comment", "vi", code=case.code, agency=sender, text=text),
                key=f"comment:{key}:{agency_id}",
            )
    await to_group(
        ctx.session,
        case,
        ctx.agency_id,
        t("officer.done.commented", "vi", code=case.code),
        key=f"comment:{key}:ok",
    )
    return Outcome("officer.done.commented", {"code": case.code}, case.code)


async def comment(
    core: Core, actor: Actor, case_id: int, version: int | None, text: str, now: dt.datetime | None = None
) -> Outcome:
    """A note (or information supplied) by any holding agency, shared with the other holders."""
    return await _run(core, actor, case_id, None, cards.COMMENT, lambda ctx: _comment(ctx, text.strip()), now)


async def _link(ctx: _Ctx, other_arg: str | None, *, merge: bool) -> Outcome:
    """This case tells the same incident as another: it follows that case's primary from now on
    (merged: closed into it). Its reporter is told, without learning anything of the other case."""
    case, session, before = ctx.case, ctx.session, _snapshot(ctx.case)
    listed = {str(item.get("id")) for item in case.likely_duplicates or []}
    if other_arg is None or other_arg not in listed:
        raise ActionRefused("officer.refused.forged")
    other = await session.get(Case, int(other_arg))
    if other is None:
        raise ActionRefused("duplicates.refused.unknown")
    primary = await case_links.root(session, other)
    if primary.id == case.id:
        raise ActionRefused("duplicates.refused.self")
    if not primary.is_open:
        raise ActionRefused("duplicates.refused.unknown")
    for follower in await case_links.followers(session, case):
        follower.duplicate_of_id = primary.id  # one level: everything follows the same primary
    case.duplicate_of_id = primary.id
    if merge:
        case.status, case.closed_at, case.paused_at = st.MERGED, ctx.now, None
        moved: tuple[str, ...] = ()
    else:
        moved = case_links.mirror(primary, case)
    how = "merged" if merge else "linked"
    await _notify_one(session, ctx.core, case, case, "duplicates.notify.joined", how)
    record(session, "joined", case_id=primary.id, actor_type="officer", actor_id=ctx.actor.user_id,
           agency_id=ctx.agency_id, reason=case.code, after={"follower": case.id, "how": how})
    await refresh_cards(session, ctx.core, primary)
    await to_group(
        session,
        primary,
        primary.lead_agency_id,
        t("duplicates.done.joined", "vi", code=case.code, how=t(f"duplicates.done.how_{how}")),
        key=f"joined:{primary.id}:{case.id}:{how}",
    )
    return await _finish(
        ctx, how, reason=primary.code, before=before, new_cards=moved,
        confirm=f"duplicates.done.{how}", other=primary.code,
    )


# ---- buttons and prompts --------------------------------------------------------------------------------

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


async def press(core: Core, actor: Actor, data: str, now: dt.datetime | None = None) -> Outcome:
    """A button on a card (or on a picker under it): act at once, offer a choice, or ask for a text."""
    try:
        async with core.sessions() as session, session.begin():
            agency_id = await _acting_agency(session, actor)
            parsed = cards.parse_press(core, agency_id, data)
            if parsed is None or parsed.action not in _ALLOWED:
                raise ActionRefused("officer.refused.forged")
            ctx = await _context(
                session,
                core,
                actor,
                parsed.case_id,
                parsed.version,
                parsed.action,
                agency_id=agency_id,
                now=now,
            )
            if parsed.action == cards.ACCEPT:
                return await _accept(ctx)
            if parsed.action == cards.WATCH:
                return await _watch(ctx)
            if parsed.action in (cards.LINK, cards.MERGE):
                return await _link(ctx, parsed.arg, merge=parsed.action == cards.MERGE)
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
    holding = {a for a, r in cards.holders(case) if r in ("lead", "cooperating")}
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
    await to_group(session, ctx.case, ctx.agency_id, text, key=f"prompt:{uuid.uuid4().hex}", force_reply=True)
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
        return await _ask(ctx, text)
    if action == cards.TRANSFER and arg:
        return await _transfer(ctx, arg, text)
    if action == cards.COOPERATE and arg:
        return await _cooperate(ctx, arg, text)
    if action == cards.EXTEND:
        return await _extend(ctx, text)
    if action == cards.REFER:
        return await _refer(ctx, text)
    if action == cards.REJECT and arg:
        return await _reject(ctx, arg, text)
    if action == cards.RESOLVE:
        return await _resolve(ctx, text)
    if action == cards.COMMENT:
        return await _comment(ctx, text)
    raise ActionRefused("officer.refused.forged")


# ---- replies to the card --------------------------------------------------------------------------------


async def card_of_message(core: Core, actor: Actor, message_id: str) -> int | None:
    """The case whose card (in the actor's chat) is `message_id`, or None."""
    async with core.sessions() as session:
        return (
            (
                await session.execute(
                    select(CardMessage.case_id).where(
                        CardMessage.channel == actor.channel,
                        CardMessage.chat_id == actor.chat_id,
                        CardMessage.message_id == str(message_id),
                        CardMessage.purpose == "card",
                    )
                )
            )
            .scalars()
            .first()
        )


async def reply_to_card(
    core: Core, actor: Actor, case_id: int, text: str, now: dt.datetime | None = None
) -> Outcome:
    """A reply to a card: from the lead it is a question relayed to the citizen, from others a comment."""
    async with core.sessions() as session:
        agency_id = await _acting_agency(session, actor)
        case = await session.get(Case, case_id)
        role = _role(case, agency_id) if case else None
    if role == "lead":
        return await request_info(core, actor, case_id, None, text, now)
    return await comment(core, actor, case_id, None, text, now)


async def officer_reply(
    core: Core, actor: Actor, replied_to: str, text: str, now: dt.datetime | None = None
) -> Outcome | None:
    """A group message replying to one of the bot's: to a card it asks or comments, to a prompt it answers.

    None when it concerns nothing the bot is waiting for (ordinary group chatter).
    """
    case_id = await card_of_message(core, actor, replied_to)
    if case_id is not None:
        return await reply_to_card(core, actor, case_id, text, now)
    if await has_pending(core, actor):
        return await submit_input(core, actor, text, now)
    return None


# ---- queries --------------------------------------------------------------------------------------------


async def show_case(core: Core, actor: Actor, code: str) -> str:
    """/case CODE: the card and the timeline of a case the actor's agency holds (now or before)."""
    from bot.receipts import normalize_code

    normalized = normalize_code(code or "")
    async with core.sessions() as session:
        agency_id = await _acting_agency(session, actor)
        if normalized is None:
            raise ActionRefused("officer.refused.bad_code")
        case = (await session.execute(select(Case).where(Case.code == normalized))).scalar_one_or_none()
        role = _role(case, agency_id) if case else None
        if case is None or role is None:
            raise ActionRefused("officer.refused.not_holder")
        events = list(
            (
                await session.execute(
                    select(AuditEvent)
                    .where(AuditEvent.case_id == case.id)
                    .order_by(AuditEvent.at, AuditEvent.id)
                )
            ).scalars()
        )
        dup = await _duplicate_code(session, case)
    return (
        cards.card_text(core, case, agency_id, role, "vi", dup, files_follow=False)
        + "\n\n"
        + cards.timeline_text(core, case, events)
    )


async def open_cases(core: Core, actor: Actor, now: dt.datetime | None = None) -> str:
    """/cases: the agency's open cases by deadline, overdue first (cases without a deadline last)."""
    async with core.sessions() as session:
        agency_id = await _acting_agency(session, actor)
        rows = list(
            (
                await session.execute(
                    select(Case)
                    .join(CaseAgency, CaseAgency.case_id == Case.id)
                    .where(
                        CaseAgency.agency_id == agency_id,
                        CaseAgency.role.in_(("lead", "cooperating")),
                        Case.status.not_in(tuple(st.CLOSED)),
                    )
                )
            )
            .scalars()
            .unique()
        )
    rows.sort(key=lambda c: (c.due_on is None, c.due_on or dt.date.max, c.id))
    return cards.open_cases_text(core, rows, agency_id, core.calendar.today(now))
