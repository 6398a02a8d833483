"""The officers' actions on a case, one function each, run inside the transaction of the press or the
typed reply that completes them (`prompts`)."""

from __future__ import annotations

import uuid

from bot import cards, case_links
from bot import status as st
from bot.agency_chats import chat_of_agency
from bot.audit import record
from bot.channels import capabilities
from bot.core import Core
from bot.deadlines import ExtensionLimitError
from bot.deadlines import extend as extend_deadline
from bot.delivery.outbox import enqueue_private
from bot.i18n import fmt_date, t
from bot.officer.lifecycle import (
    _finish,
    _first_stage,
    _next_stage,
    _snapshot,
    _start_stage,
    current_stage,
)
from bot.officer.messages import _notify_one, notify_citizen, refresh_cards, reporter_chat, to_group
from bot.officer.permissions import INVESTIGATORS, PROSECUTORS, ActionRefused, Outcome, _Ctx, _role
from storage.models import Case, CaseAgency


async def accept(ctx: _Ctx) -> Outcome:
    """Thụ lý: the lead agency accepts the case; the legal clock of the next stage starts today."""
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


async def ask(ctx: _Ctx, question: str) -> Outcome:
    """Relay a question to the reporter without saying who asked; the legal clock stops until they answer."""
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
    await enqueue_private(
        ctx.session,
        ctx.core.privacy,
        channel=chat[0],
        chat_id=chat[1],
        payload={"text": text, "expects_answer": True, "relay": "question"},
        key=f"ask:{case.id}:v{case.version}",
        case_id=case.id,
        agency_id=ctx.agency_id,
    )
    return await _finish(
        ctx, "info_requested", reason=question, public=True, before=before, confirm="officer.done.asked"
    )


def _check_agency(core: Core, agency_id: str) -> None:
    if agency_id not in {a.id for a in core.rules.agencies}:
        raise ActionRefused("officer.refused.unknown_agency", agency=agency_id)


def _hold(case: Case, agency_id: str, role: str, reason: str | None) -> None:
    row = next((a for a in case.agencies if a.agency_id == agency_id), None)
    if row is None:
        case.agencies.append(CaseAgency(agency_id=agency_id, role=role, reason=reason))
    else:
        row.role, row.reason = role, reason


async def transfer(ctx: _Ctx, target: str, reason: str) -> Outcome:
    """Chuyển đơn: hand the case to another agency; it gets the card, the old lead sees it moved."""
    case, before, core = ctx.case, _snapshot(ctx.case), ctx.core
    _check_agency(core, target)
    if target == case.lead_agency_id:
        raise ActionRefused("officer.refused.same_agency")
    move = {"from": case.lead_agency_id, "to": target, "on": ctx.today.isoformat(),
            "reason": " ".join(reason.split())}
    moves = [*case.routing.get("moves", []), move]
    case.routing = {**case.routing, "moves": moves}  # the card says who has it now, since when and why
    _hold(case, case.lead_agency_id, st.FORMER, reason)
    _hold(case, target, st.LEAD, reason)
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


async def cooperate(ctx: _Ctx, target: str, reason: str) -> Outcome:
    """Bring another agency in as co-operating; it receives the card marked as such."""
    case, before = ctx.case, _snapshot(ctx.case)
    _check_agency(ctx.core, target)
    if _role(case, target) in st.HOLDING:
        raise ActionRefused("officer.refused.already_holds", agency=cards.agency_name(ctx.core, target))
    _hold(case, target, st.COOPERATING, reason)
    return await _finish(
        ctx,
        "cooperating_added",
        reason=reason,
        before=before,
        new_cards=(target,),
        confirm="officer.done.cooperating",
        agency=cards.agency_name(ctx.core, target),
    )


async def extend(ctx: _Ctx, reason: str) -> Outcome:
    """Gia hạn: push the deadline as far as the law allows for this stage; refused past the maximum."""
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


async def watch(ctx: _Ctx) -> Outcome:
    """Put the case on (or take it off) the watch list (diện theo dõi, chỉ đạo)."""
    before = _snapshot(ctx.case)
    ctx.case.watched = not ctx.case.watched
    return await _finish(
        ctx,
        "watched" if ctx.case.watched else "unwatched",
        before=before,
        confirm="officer.done.watched" if ctx.case.watched else "officer.done.unwatched",
    )


async def refer(ctx: _Ctx, reason: str) -> Outcome:
    """Chuyển cơ quan điều tra: signs of a crime. Công an leads, the old lead co-operates, VKSND supervises.

    BLTTHS 2015 Điều 145: other bodies forward crime reports to the investigators, and the procuracy
    supervises how they are resolved; so the police become the lead rather than a mere co-operator."""
    case, before, core = ctx.case, _snapshot(ctx.case), ctx.core
    new_cards: list[str] = []
    if case.lead_agency_id != INVESTIGATORS:
        _check_agency(core, INVESTIGATORS)
        if _role(case, INVESTIGATORS) != st.COOPERATING:
            new_cards.append(INVESTIGATORS)
        _hold(case, case.lead_agency_id, st.COOPERATING, reason)
        _hold(case, INVESTIGATORS, st.LEAD, reason)
        case.lead_agency_id = INVESTIGATORS
    if PROSECUTORS in {a.id for a in core.rules.agencies} and _role(case, PROSECUTORS) is None:
        _hold(case, PROSECUTORS, st.COOPERATING, reason)
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


async def reject(ctx: _Ctx, reason_code: str, note: str) -> Outcome:
    """Không thụ lý, with one of the legal reasons; the citizen gets the guidance for that reason."""
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


async def resolve(ctx: _Ctx, result: str) -> Outcome:
    """Close the case as resolved, with the result the citizen is told."""
    case, before = ctx.case, _snapshot(ctx.case)
    case.status, case.result, case.closed_at, case.paused_at = st.RESOLVED, result, ctx.now, None
    await notify_citizen(ctx.session, ctx.core, case, "notify.resolved", "resolved", result=result)
    return await _finish(
        ctx, "resolved", reason=result, public=True, before=before, confirm="officer.done.resolved"
    )


async def comment(ctx: _Ctx, text: str) -> Outcome:
    """A note (or information supplied) by any holding agency, shared with the other holders."""
    case = ctx.case
    record(
        ctx.session,
        "commented",
        case_id=case.id,
        actor_type="officer",
        actor_id=ctx.actor.user_id,
        agency_id=ctx.agency_id,
        reason=text,
        at=ctx.now,
    )
    key = uuid.uuid4().hex
    sender = cards.agency_name(ctx.core, ctx.agency_id)
    for agency_id, role in cards.holders(case):
        if role in st.HOLDING and agency_id != ctx.agency_id:
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


async def not_same(ctx: _Ctx, other_arg: str | None) -> Outcome:
    """An officer says a likely duplicate tells another incident: it leaves the card, and the decision is
    kept (audited) as a labelled pair the duplicate model can learn from."""
    case, before = ctx.case, _snapshot(ctx.case)
    likely = case.likely_duplicates or []
    other = next((item for item in likely if str(item.get("id")) == other_arg), None)
    if other_arg is None or other is None:
        raise ActionRefused("officer.refused.forged")
    case.likely_duplicates = [item for item in likely if item is not other]
    return await _finish(ctx, "not_duplicate", reason=str(other.get("code")),
                         before={**before, "other": other.get("id")}, confirm="duplicates.done.not_same",
                         other=other.get("code"))


async def link(ctx: _Ctx, other_arg: str | None, *, merge: bool) -> Outcome:
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
