"""Sending the report: the draft, the case filed in one transaction, the receipt, a duplicate's choice."""

from __future__ import annotations

from bot import cases
from bot.cards import stage_name
from bot.cases import Draft, Evidence
from bot.core import Core
from bot.i18n import fmt_date
from bot.intake.events import (
    Choice,
    Event,
    Reply,
)
from bot.intake.state import (
    _Ctx,
)


class Filing:
    """Turning a confirmed dialogue into a case; mixed into `Intake`."""

    core: Core

    def _draft(self, ctx: _Ctx) -> Draft:
        d = ctx.data
        named = d.get("identity") == "named"
        place = d.get("place") or {}
        return Draft(
            kind=d["kind"],
            summary=d["story"],
            field=d.get("field"),
            area=place.get("code"),
            area_name=place.get("name"),
            subject=d.get("subject"),
            occurred=d.get("when"),
            files=tuple(Evidence(**f) for f in d.get("files", [])),
            named=named,
            name=self._identity(d, "name") if named else None,
            phone=self._identity(d, "phone") if named else None,
            address=self._identity(d, "address") if named else None,
            locale=ctx.locale,
            lead=d.get("lead"),
            triage=bool(d.get("triage")),
        )

    async def _send(self, ctx: _Ctx, duplicate_of_id: int | None = None) -> list[Reply]:
        if self._next_step(ctx.data) != "confirm":
            return self._advance(ctx)
        if await self._over_daily_limit(ctx):
            return [Reply(ctx.tr("citizen.limit.cases", n=self.core.settings.cases_per_day))]
        draft = self._draft(ctx)
        if duplicate_of_id is None and not ctx.data.get("dup_ok"):
            mine = await cases.own_similar_cases(ctx.session, self.core, ctx.sender, draft)
            if mine:
                best = mine[0]
                ctx.data["dup"] = {"case_id": best.case_id, "status": best.status, "mine": True,
                                   "code": best.code}
                return self._goto(ctx, "duplicate")
        filed = await cases.submit(ctx.session, self.core, ctx.sender, draft, duplicate_of_id=duplicate_of_id,
                                   pin=ctx.pin)
        self._reset(ctx, keep_unlocked=True)
        return [self._receipt(ctx, filed), self._menu(ctx)]

    def _receipt(self, ctx: _Ctx, filed: cases.Filed) -> Reply:
        case = filed.case
        due = ""
        if case.due_on:
            due = ctx.tr(
                "citizen.receipt.deadline",
                stage=stage_name(self.core, case, ctx.locale)[0],
                date=fmt_date(case.due_on),
                basis=filed.basis or "-",
            )
        text = ctx.tr(
            "citizen.receipt.text",
            code=case.code,
            pin=filed.pin,
            kind=ctx.tr(f"kind.{case.kind}"),
            lead=self._agency_names(ctx, [case.lead_agency_id]),
            cooperating=self._agency_names(ctx, case.cooperating_ids),
            deadline=due,
        )
        if filed.deadline_error:
            text += "\n\n" + ctx.tr("privacy.receipt.deadline_later")
        return Reply(text, durable=True)

    async def _on_duplicate(self, ctx: _Ctx, event: Event) -> list[Reply]:
        dup = ctx.data.get("dup") or {}
        if isinstance(event, Choice) and event.value == "dup:file" and dup:
            ctx.data["dup_ok"] = True
            return await self._send(ctx)  # officers see the two as likely duplicates on the card
        if isinstance(event, Choice) and event.value == "dup:add" and dup.get("mine"):
            case = await cases.get_case(ctx.session, dup["case_id"])
            if (
                case is None
                or not cases.is_open(case)
                or not await cases.owns(ctx.session, self.core, ctx.sender, case.id)
            ):
                return self._again(ctx, "citizen.addinfo.closed")
            draft = self._draft(ctx)
            await self._add_to_case(ctx, case, draft.summary, draft.files)
            self._reset(ctx, keep_unlocked=True)
            return [Reply(ctx.tr("citizen.addinfo.done", code=case.code), durable=True), self._menu(ctx)]
        return self._misfit(ctx, event)

    # ---- look-up, my cases, adding information ------------------------------------------------------
