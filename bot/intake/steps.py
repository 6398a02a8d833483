"""The answers to each step of a report, from the first message to the confirmation."""

from __future__ import annotations

from typing import Any

from bot import cases
from bot.core import Core
from bot.evidence import refusal
from bot.identity_input import clean_text, name_problem, phone_number
from bot.intake.events import (
    Attachment,
    Choice,
    Event,
    Option,
    Reply,
    Text,
)
from bot.intake.state import (
    FREE_TEXT_MIN_WORDS,
    MAX_SHORT_TEXT,
    MIN_STORY_CHARS,
    STEPS,
    _Ctx,
)
from bot.kinds import KINDS, NAMED_REQUIRED
from bot.limits import cases_last_day
from bot.places import by_code, find_in_text, search
from bot.routing import RoutingDecision, route


class Steps:
    """Reading and checking each step's answer; mixed into `Intake`."""

    core: Core

    async def _over_daily_limit(self, ctx: _Ctx) -> bool:
        if ctx.newcomer:
            return False  # someone writing to the bot for the first time has filed nothing
        count = await cases_last_day(ctx.session, cases.reporter_key(self.core, ctx.sender))
        return count >= self.core.settings.cases_per_day

    async def _start_report(self, ctx: _Ctx) -> list[Reply]:
        if await self._over_daily_limit(ctx):
            return [Reply(ctx.tr("citizen.limit.cases", n=self.core.settings.cases_per_day)), self._menu(ctx)]
        self._reset(ctx, keep_unlocked=True)
        ctx.data["mode"] = "guided"
        ctx.state = "kind"
        return [Reply(ctx.tr("citizen.new.intro")), *self._prompt_current(ctx)]

    async def _on_idle(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Text):
            text = event.text.strip()
            if len(text.split()) < FREE_TEXT_MIN_WORDS or len(text) < MIN_STORY_CHARS:
                return [Reply(ctx.tr("citizen.idle.short")), self._menu(ctx)]
            if await self._over_daily_limit(ctx):
                return [
                    Reply(ctx.tr("citizen.limit.cases", n=self.core.settings.cases_per_day)),
                    self._menu(ctx),
                ]
            decision = route(self.core.rules, text)
            place = find_in_text(text)
            self._reset(ctx, keep_unlocked=True)
            ctx.data.update(mode="free", story=text, proposal={
                **self._proposed(decision), "place": place.as_dict() if place else None,
            })
            if decision.ask:
                ctx.data["ask"] = decision.ask
                ctx.state = "reading"
            else:
                ctx.state = "proposal"
            return self._prompt_current(ctx)
        if isinstance(event, Attachment):
            return [Reply(ctx.tr("citizen.idle.file")), self._menu(ctx)]
        return [Reply(ctx.tr("citizen.stale_button")), self._menu(ctx)]

    @staticmethod
    def _proposed(decision: RoutingDecision) -> dict[str, Any]:
        return {"kind": decision.kind, "field": decision.field, "lead": decision.lead,
                "cooperating": list(decision.cooperating)}

    async def _on_reading(self, ctx: _Ctx, event: Event) -> list[Reply]:
        """The citizen says which reading fits a story the bot could not place with confidence: that
        lead is taken; one who cannot say is sent to the rules' triage agency, which assigns the lead."""
        offered = ctx.data.get("ask", [])
        if not (isinstance(event, Choice) and event.value.startswith("read:")):
            return self._misfit(ctx, event)
        chosen = event.value[5:]
        if chosen == "unsure" and self.core.rules.triage is not None:
            ctx.data.update(lead=self.core.rules.triage, triage=True)
        elif chosen in offered:
            ctx.data["lead"] = chosen
            ctx.data.pop("triage", None)
        else:
            return self._misfit(ctx, event)
        free = ctx.data.get("mode") == "free"
        decision = route(self.core.rules, ctx.data["story"], None if free else ctx.data.get("kind"),
                         lead=ctx.data["lead"])
        if free:
            place = ctx.data.get("proposal", {}).get("place")
            ctx.data["proposal"] = {**self._proposed(decision), "place": place}
            if ctx.data.get("triage"):
                ctx.data["proposal"]["cooperating"] = []
            return self._goto(ctx, "proposal")
        return self._advance(ctx)

    async def _on_proposal(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Choice) and event.value == "prop:yes":
            p = ctx.data["proposal"]
            ctx.data["kind"] = p["kind"]
            if p.get("field"):
                ctx.data["field"] = p["field"]
            if p.get("place"):
                ctx.data["place"] = p["place"]
            return self._advance(ctx)
        if isinstance(event, Choice) and event.value == "prop:kind":
            return self._goto(ctx, "kind")
        return self._misfit(ctx, event)

    def _misfit(self, ctx: _Ctx, event: Event) -> list[Reply]:
        """A message that does not answer the current step: say what is expected and ask again."""
        if isinstance(event, Attachment):
            return self._again(ctx, "citizen.unexpected.file_here")
        if isinstance(event, Choice):
            return self._again(ctx, "citizen.stale_button")
        return self._again(ctx, "citizen.unexpected.use_buttons")

    # ---- guided steps ---------------------------------------------------------------------------------

    async def _on_kind(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Choice) and event.value.startswith("kind:") and event.value[5:] in KINDS:
            ctx.data["kind"] = event.value[5:]
            ctx.data.pop("proposal", None)
            return self._advance(ctx)
        return self._misfit(ctx, event)

    async def _on_field(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Choice) and event.value == "skip":
            ctx.data["field"] = None
            return self._advance(ctx)
        if isinstance(event, Choice) and event.value.startswith("field:"):
            field_id = event.value[6:]
            if any(f.id == field_id for f in self.core.rules.fields):
                ctx.data["field"] = field_id
                return self._advance(ctx)
        return self._misfit(ctx, event)

    async def _on_place(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Choice) and event.value == "skip":
            ctx.data["place"] = None
            return self._advance(ctx)
        if isinstance(event, Choice) and event.value.startswith("place:"):
            place = by_code(event.value[6:])
            if place is not None:
                ctx.data["place"] = {"code": place.code, "name": place.name}
                return self._advance(ctx)
        if isinstance(event, Text):
            found = search(event.text)
            if not found:
                return [Reply(ctx.tr("citizen.place.none", text=event.text[:60]), self._nav(ctx, skip=True))]
            rows = [[Option(self._place_label(ctx, f.as_dict()), f"place:{f.place.code}")] for f in found]
            return [Reply(ctx.tr("citizen.place.pick"), rows + self._nav(ctx, skip=True))]
        return self._misfit(ctx, event)

    async def _short_text(self, ctx: _Ctx, event: Event, step: str, skippable: bool) -> list[Reply]:
        if skippable and isinstance(event, Choice) and event.value == "skip":
            ctx.data[step] = None
            return self._advance(ctx)
        if isinstance(event, Text) and event.text.strip():
            text = event.text.strip()
            if len(text) > MAX_SHORT_TEXT:
                return self._again(ctx, "citizen.limit.short", n=MAX_SHORT_TEXT)
            ctx.data[step] = text
            return self._advance(ctx)
        return self._misfit(ctx, event)

    async def _on_subject(self, ctx: _Ctx, event: Event) -> list[Reply]:
        return await self._short_text(ctx, event, "subject", skippable=True)

    async def _on_when(self, ctx: _Ctx, event: Event) -> list[Reply]:
        return await self._short_text(ctx, event, "when", skippable=True)

    async def _on_story(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Text):
            text = event.text.strip()
            if len(text) < MIN_STORY_CHARS:
                return self._again(ctx, "citizen.story.too_short")
            ctx.data["story"] = text
            ctx.data.pop("lead", None)
            ctx.data.pop("triage", None)
            decision = route(self.core.rules, text, ctx.data.get("kind"))
            if decision.ask:
                ctx.data["ask"] = decision.ask
                return self._goto(ctx, "reading")
            return self._advance(ctx)
        return self._misfit(ctx, event)

    async def _on_evidence(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Attachment):
            files = ctx.data.setdefault("files", [])
            problem = self._check_file(ctx, event, len(files))
            if problem:
                return [problem]
            files.append(event.as_dict())
            return [self._evidence_prompt(ctx)]
        if isinstance(event, Choice) and event.value == "done":
            ctx.data["evidence"] = True
            return self._advance(ctx)
        if isinstance(event, Choice) and event.value == "files:clear":
            ctx.data["files"] = []
            return [self._evidence_prompt(ctx)]
        if isinstance(event, Text):
            return self._again(ctx, "citizen.evidence.text_here")
        return self._misfit(ctx, event)

    def _check_file(self, ctx: _Ctx, item: Attachment, count: int) -> Reply | None:
        s = self.core.settings
        if count >= s.max_files_per_case:
            return Reply(
                ctx.tr("citizen.limit.files", n=s.max_files_per_case),
                [[self._opt(ctx, "citizen.btn.done_files", "done")]],
            )
        refused = refusal(s, item.media, item.size, item.mime, item.name)
        return Reply(ctx.tr(refused[0], **refused[1])) if refused else None

    async def _on_identity(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Choice) and event.value == "named":
            ctx.data["identity"] = "named"
            return self._advance(ctx)
        if isinstance(event, Choice) and event.value == "anon":
            ctx.data["identity"] = "anon"
            key = (
                "citizen.anonymous.required_kind"
                if ctx.data.get("kind") in NAMED_REQUIRED
                else "citizen.anonymous.notice"
            )
            return [Reply(ctx.tr(key)), *self._advance(ctx)]
        return self._misfit(ctx, event)

    async def _on_name(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Text):
            name = clean_text(event.text)
            problem = name_problem(name)
            if problem:
                return self._again(ctx, problem)
            return self._keep_identity(ctx, "name", name)
        return self._misfit(ctx, event)

    async def _on_phone(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Text):
            phone = phone_number(event.text)
            if phone is None:
                return self._again(ctx, "citizen.phone.invalid")
            return self._keep_identity(ctx, "phone", phone)
        return self._misfit(ctx, event)

    async def _on_address(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Text):
            address = clean_text(event.text)
            if len(address) < 2:
                return self._again(ctx, "privacy.address.invalid")
            if len(address) > MAX_SHORT_TEXT:
                return self._again(ctx, "citizen.limit.short", n=MAX_SHORT_TEXT)
            return self._keep_identity(ctx, "address", address)
        return self._misfit(ctx, event)

    def _keep_identity(self, ctx: _Ctx, step: str, value: str) -> list[Reply]:
        """Name, phone and address are sealed as soon as typed: the dialogue row never holds them plainly."""
        ctx.data[step] = self.core.privacy.seal_value(value)
        return self._advance(ctx)

    def _identity(self, data: dict[str, Any], step: str) -> str:
        sealed = data.get(step)
        return (self.core.privacy.open_value(sealed) or "") if sealed else ""

    # ---- summary, edit, submit ------------------------------------------------------------------------

    async def _on_confirm(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Choice) and event.value == "send":
            return await self._send(ctx)
        if isinstance(event, Choice) and event.value == "edit":
            return self._goto(ctx, "edit")
        if isinstance(event, Choice) and event.value.startswith("edit:"):
            return await self._on_edit(ctx, event)
        return self._misfit(ctx, event)

    async def _on_edit(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Choice) and event.value.startswith("edit:") and event.value[5:] in STEPS:
            step = event.value[5:]
            ctx.data.pop("dup_ok", None)
            if ctx.state == "edit":
                ctx.state = ctx.history.pop() if ctx.history else "confirm"
            return self._goto(ctx, step)
        return self._misfit(ctx, event)
