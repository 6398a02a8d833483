"""A case's deadline stages and the one way every action runs: check, change, audit, tell."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot import case_links
from bot.audit import record
from bot.core import Core
from bot.deadline_jobs import replan
from bot.deadlines import DeadlineError, policy_for, stage_due, stage_of
from bot.i18n import t
from bot.officer.messages import refresh_cards, to_group
from bot.officer.permissions import Outcome, _Ctx
from bot.rules import Stage
from storage.models import Case


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


def _snapshot(case: Case) -> dict[str, Any]:
    return {
        "status": case.status,
        "lead": case.lead_agency_id,
        "due_on": case.due_on.isoformat() if case.due_on else None,
        "stage": case.stage,
        "watched": case.watched,
        "cooperating": case.cooperating_ids,
    }


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
        at=ctx.now,
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
