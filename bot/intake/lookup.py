"""A citizen's own cases: looking one up by code and PIN, the list, adding information later."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

from bot import cases
from bot.cards import stage_name
from bot.cases import Evidence
from bot.core import Core
from bot.i18n import catalog, fmt_date, t
from bot.intake.events import (
    Attachment,
    Choice,
    Event,
    Reply,
    Text,
)
from bot.intake.state import (
    UNLOCK_TTL,
    _Ctx,
)
from bot.receipts import normalize_code
from storage.models import Case


class Lookup:
    """Look-ups and additions; mixed into `Intake`."""

    core: Core

    def _goto_lookup(self, ctx: _Ctx) -> list[Reply]:
        self._reset(ctx, keep_unlocked=True)
        ctx.state = "lookup_code"
        return self._prompt_current(ctx)

    async def _on_lookup_code(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Text):
            parts = event.text.split()
            if len(parts) == 2 and normalize_code(parts[0]):
                return await self._lookup(ctx, parts[0], parts[1])
            code = normalize_code(event.text)
            if code is None:
                return self._again(ctx, "citizen.lookup.bad_code")
            ctx.data["lookup_code"] = code
            return self._goto(ctx, "lookup_pin")
        return self._misfit(ctx, event)

    async def _on_lookup_pin(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Text):
            return await self._lookup(ctx, ctx.data.get("lookup_code", ""), event.text.strip())
        return self._misfit(ctx, event)

    async def _lookup(self, ctx: _Ctx, code: str, pin: str) -> list[Reply]:
        found = await cases.lookup(ctx.session, self.core, ctx.sender, code, pin, ctx.verdict)
        self._reset(ctx, keep_unlocked=True)
        if found.throttled is not None:
            hours = max(1, math.ceil((found.throttled - self.core.clock.now()) / dt.timedelta(hours=1)))
            return [Reply(ctx.tr("citizen.lookup.throttled", hours=hours)), self._menu(ctx)]
        if found.locked:
            hours = self.core.settings.pin_lockout_hours
            return [Reply(ctx.tr("privacy.lookup.locked", hours=hours)), self._menu(ctx)]
        if found.case is None:
            return [Reply(ctx.tr("citizen.lookup.failed")), self._menu(ctx)]
        case = found.case
        unlocked = [*[i for i in self._unlocked(ctx) if i != case.id][-9:], case.id]
        ctx.data["unlocked"] = self.core.privacy.seal_value(unlocked, at=self.core.clock.now())
        return [self._status_reply(ctx, case, found.timeline), self._menu(ctx)]

    def _unlocked(self, ctx: _Ctx) -> list[int]:
        """Cases this user opened with code and PIN in the last UNLOCK_TTL (sealed, so it expires unread)."""
        sealed = ctx.data.get("unlocked")
        if not isinstance(sealed, str):
            return []
        found = self.core.privacy.open_value(sealed, max_age=UNLOCK_TTL, now=self.core.clock.now())
        return [i for i in found if isinstance(i, int)] if isinstance(found, list) else []

    def _status_reply(self, ctx: _Ctx, case: Case, timeline: list[Any]) -> Reply:
        zone = ZoneInfo(self.core.settings.timezone)
        lines = [f"• {ev.at.astimezone(zone):%d/%m/%Y}: {self._event_label(ctx, ev)}" for ev in timeline]
        text = ctx.tr(
            "citizen.lookup.result",
            code=case.code,
            kind=ctx.tr(f"kind.{case.kind}"),
            status=ctx.tr(f"status.{case.status}"),
            lead=self._agency_names(ctx, [case.lead_agency_id]),
            cooperating=self._agency_names(ctx, case.cooperating_ids),
            due=fmt_date(case.due_on),
            stage=stage_name(self.core, case, ctx.locale)[0] or "-",
            timeline="\n".join(lines) or "-",
        )
        if case.result:
            text += "\n" + ctx.tr("citizen.lookup.result_text", result=case.result)
        options = [[self._opt(ctx, "citizen.btn.add_info", f"add:{case.id}")]] if cases.is_open(case) else []
        return Reply(text, options)

    def _event_label(self, ctx: _Ctx, event: Any) -> str:
        status = (event.after or {}).get("status")
        if status and f"status.{status}" in catalog("vi"):
            return ctx.tr(f"status.{status}")
        key = f"citizen.timeline.{event.action}"
        return ctx.tr(key) if key in catalog("vi") else ctx.tr("citizen.timeline.other")

    async def _my_cases(self, ctx: _Ctx) -> list[Reply]:
        mine = await cases.cases_of(ctx.session, self.core, ctx.sender)
        if ctx.state in ("lookup_code", "lookup_pin"):
            self._reset(ctx, keep_unlocked=True)
        if not mine:
            return [Reply(ctx.tr("citizen.mycases.none")), *self._prompt_current(ctx)]
        lines = [
            ctx.tr(
                "citizen.mycases.line",
                code=c.code,
                kind=ctx.tr(f"kind.{c.kind}"),
                status=ctx.tr(f"status.{c.status}"),
                date=fmt_date(c.received_on),
                due=fmt_date(c.due_on),
            )
            for c in mine
        ]
        rows = [
            [self._opt(ctx, "citizen.btn.add_info_code", f"add:{c.id}", code=c.code)]
            for c in mine
            if cases.is_open(c)
        ]
        return [Reply(ctx.tr("citizen.mycases.title") + "\n" + "\n".join(lines), rows)]

    async def _start_add(self, ctx: _Ctx, raw_id: str) -> list[Reply]:
        case = await cases.get_case(ctx.session, int(raw_id)) if raw_id.isdigit() else None
        allowed = case is not None and (
            case.id in self._unlocked(ctx)
            or await cases.owns(ctx.session, self.core, ctx.sender, case.id)
        )
        if case is None or not allowed:
            return self._again(ctx, "citizen.stale_button")
        if not cases.is_open(case):
            return self._again(ctx, "citizen.addinfo.closed")
        self._reset(ctx, keep_unlocked=True)
        ctx.data.update(add_case=case.id, add_code=case.code, add_text=[], add_files=[])
        ctx.state = "addinfo"
        return self._prompt_current(ctx)

    async def _on_addinfo(self, ctx: _Ctx, event: Event) -> list[Reply]:
        texts: list[str] = ctx.data.setdefault("add_text", [])
        files: list[dict[str, Any]] = ctx.data.setdefault("add_files", [])
        if isinstance(event, Text):
            if sum(map(len, texts)) + len(event.text) > self.core.settings.max_text_chars:
                return [Reply(ctx.tr("citizen.limit.text", n=self.core.settings.max_text_chars))]
            texts.append(event.text.strip())
            return [
                Reply(
                    ctx.tr("citizen.addinfo.got", texts=len(texts), files=len(files)),
                    self._prompt_current(ctx)[0].options,
                )
            ]
        if isinstance(event, Attachment):
            case = await cases.get_case(ctx.session, ctx.data["add_case"])
            already = len(case.attachments) if case else 0
            problem = self._check_file(ctx, event, already + len(files))
            if problem:
                return [problem]
            files.append(event.as_dict())
            return [
                Reply(
                    ctx.tr("citizen.addinfo.got", texts=len(texts), files=len(files)),
                    self._prompt_current(ctx)[0].options,
                )
            ]
        if isinstance(event, Choice) and event.value == "done":
            if not texts and not files:
                return self._again(ctx, "citizen.addinfo.empty")
            case = await cases.get_case(ctx.session, ctx.data["add_case"])
            if case is None or not cases.is_open(case):
                self._reset(ctx, keep_unlocked=True)
                return [Reply(ctx.tr("citizen.addinfo.closed")), self._menu(ctx)]
            await self._add_to_case(
                ctx, case, "\n\n".join(texts) or None, tuple(Evidence(**f) for f in files)
            )
            self._reset(ctx, keep_unlocked=True)
            return [Reply(ctx.tr("citizen.addinfo.done", code=case.code), durable=True), self._menu(ctx)]
        return self._misfit(ctx, event)

    async def _add_to_case(
        self, ctx: _Ctx, case: Case, text: str | None, files: tuple[Evidence, ...]
    ) -> None:
        heading = t("citizen.to_agency.added_info", "vi", code=case.code, files=len(files))
        await cases.add_information(ctx.session, self.core, ctx.sender, case, text, files, heading=heading)
