"""What the dialogue asks at each step: the prompts, menus, summary and navigation rows."""

from __future__ import annotations

from typing import Any

from bot.core import Core
from bot.i18n import catalog
from bot.intake.events import (
    Option,
    Reply,
)
from bot.intake.state import (
    IDENTITY_STEPS,
    IDLE,
    STEPS,
    _Ctx,
)
from bot.kinds import KINDS, NAMED_REQUIRED


class Prompts:
    """The questions and menus; mixed into `Intake`."""

    core: Core

    def _opt(self, ctx: _Ctx, key: str, value: str, **params: Any) -> Option:
        return Option(ctx.tr(key, **params), value)

    def _nav(self, ctx: _Ctx, skip: bool = False) -> list[list[Option]]:
        row = [
            self._opt(ctx, "citizen.btn.back", "nav:back"),
            self._opt(ctx, "citizen.btn.cancel", "nav:cancel"),
        ]
        return ([[self._opt(ctx, "citizen.btn.skip", "skip")]] if skip else []) + [row]

    def _menu(self, ctx: _Ctx) -> Reply:
        return Reply(
            ctx.tr("citizen.menu.text"),
            [
                [self._opt(ctx, "citizen.btn.new", "menu:new")],
                [
                    self._opt(ctx, "citizen.btn.lookup", "menu:lookup"),
                    self._opt(ctx, "citizen.btn.mycases", "menu:mycases"),
                ],
                [self._opt(ctx, "citizen.btn.help", "menu:help")],
            ],
        )

    def _step_label(self, ctx: _Ctx, state: str) -> str:
        key = f"citizen.steplabel.{state}"
        return ctx.tr(key) if key in catalog("vi") else state

    def _prompt_current(self, ctx: _Ctx) -> list[Reply]:
        state = ctx.state
        if state == IDLE:
            return [self._menu(ctx)]
        if state == "kind":
            rows = [[Option(ctx.tr(f"kind.{k}"), f"kind:{k}")] for k in KINDS]
            return [Reply(ctx.tr("citizen.ask.kind"), rows + self._nav(ctx))]
        if state == "field":
            rows = [[Option(f.name.get(ctx.locale), f"field:{f.id}")] for f in self.core.rules.fields]
            return [Reply(ctx.tr("citizen.ask.field"), rows + self._nav(ctx, skip=True))]
        if state == "place":
            return [Reply(ctx.tr("citizen.ask.place"), self._nav(ctx, skip=True))]
        if state in ("subject", "when"):
            return [Reply(ctx.tr(f"citizen.ask.{state}"), self._nav(ctx, skip=True))]
        if state == "story":
            return [Reply(ctx.tr("citizen.ask.story", n=self.core.settings.max_text_chars), self._nav(ctx))]
        if state == "evidence":
            return [self._evidence_prompt(ctx)]
        if state == "identity":
            key = (
                "citizen.ask.identity_required"
                if ctx.data.get("kind") in NAMED_REQUIRED
                else "citizen.ask.identity"
            )
            rows = [
                [self._opt(ctx, "citizen.btn.named", "named")],
                [self._opt(ctx, "citizen.btn.anonymous", "anon")],
            ]
            return [Reply(ctx.tr(key), rows + self._nav(ctx))]
        if state in IDENTITY_STEPS:
            return [Reply(ctx.tr(f"citizen.ask.{state}"), self._nav(ctx))]
        if state == "proposal":
            return [self._proposal_prompt(ctx)]
        if state == "reading":
            rows = [[Option(self._reading(ctx, lead), f"read:{lead}")] for lead in ctx.data.get("ask", [])]
            rows.append([self._opt(ctx, "citizen.btn.reading_unsure", "read:unsure")])
            return [Reply(ctx.tr("citizen.reading.ask"), rows + self._nav(ctx))]
        if state == "confirm":
            return [self._summary(ctx)]
        if state == "edit":
            return [self._edit_menu(ctx)]
        if state == "duplicate":
            return [self._duplicate_prompt(ctx)]
        if state == "lookup_code":
            return [
                Reply(
                    ctx.tr("citizen.lookup.ask_code"), [[self._opt(ctx, "citizen.btn.cancel", "nav:cancel")]]
                )
            ]
        if state == "lookup_pin":
            return [Reply(ctx.tr("citizen.lookup.ask_pin"), self._nav(ctx))]
        if state == "addinfo":
            return [
                Reply(
                    ctx.tr(
                        "citizen.addinfo.ask",
                        code=ctx.data.get("add_code", ""),
                        n=self.core.settings.max_file_mb,
                    ),
                    [
                        [self._opt(ctx, "citizen.btn.send_info", "done")],
                        [self._opt(ctx, "citizen.btn.cancel", "nav:cancel")],
                    ],
                )
            ]
        self._reset(ctx)
        return [self._menu(ctx)]

    def _evidence_prompt(self, ctx: _Ctx) -> Reply:
        files = ctx.data.get("files", [])
        s = self.core.settings
        text = ctx.tr("citizen.ask.evidence", mb=s.max_file_mb, n=s.max_files_per_case)
        if files:
            text += "\n" + ctx.tr("citizen.evidence.count", count=len(files))
        rows = [[self._opt(ctx, "citizen.btn.done_files" if files else "citizen.btn.no_files", "done")]]
        if files:
            rows.append([self._opt(ctx, "citizen.btn.clear_files", "files:clear")])
        return Reply(text, rows + self._nav(ctx))

    def _agency_names(self, ctx: _Ctx, ids: list[str]) -> str:
        names = []
        for agency_id in ids:
            try:
                names.append(self.core.rules.agency(agency_id).name.get(ctx.locale))
            except KeyError:
                names.append(agency_id)
        return ", ".join(names) if names else "-"

    def _reading(self, ctx: _Ctx, lead: str) -> str:
        """What an agency handles, in a citizen's words (the rules' `reading`), or its name."""
        agency = self.core.rules.agency(lead)
        return (agency.reading or agency.name).get(ctx.locale)

    def _field_name(self, ctx: _Ctx, field_id: str | None) -> str:
        if not field_id:
            return ctx.tr("citizen.none")
        try:
            return self.core.rules.field(field_id).name.get(ctx.locale)
        except KeyError:
            return field_id

    @staticmethod
    def _place_label(ctx: _Ctx, place: dict[str, str]) -> str:
        """A ward of today, with the old name the citizen knew it by when it was found through one."""
        former = place.get("former")
        if not former:
            return place["name"]
        key = "citizen.place.former_district" if place.get("former_level") == "district" else (
            "citizen.place.former_ward")
        return ctx.tr(key, place=place["name"], former=former[:1].lower() + former[1:])

    def _proposal_prompt(self, ctx: _Ctx) -> Reply:
        p = ctx.data["proposal"]
        place = p.get("place")
        text = ctx.tr(
            "citizen.proposal.text",
            kind=ctx.tr(f"kind.{p['kind']}"),
            field=self._field_name(ctx, p.get("field")),
            lead=self._agency_names(ctx, [p["lead"]]),
            cooperating=self._agency_names(ctx, p.get("cooperating", [])),
            place=self._place_label(ctx, place) if place else ctx.tr("citizen.none"),
        )
        rows = [
            [self._opt(ctx, "citizen.btn.proposal_yes", "prop:yes")],
            [self._opt(ctx, "citizen.btn.proposal_kind", "prop:kind")],
        ]
        return Reply(text, rows + self._nav(ctx))

    def _summary(self, ctx: _Ctx) -> Reply:
        d = ctx.data
        none = ctx.tr("citizen.none")
        named = d.get("identity") == "named"
        identity = (
            ctx.tr(
                "citizen.summary.named",
                name=self._identity(d, "name"),
                phone=self._identity(d, "phone"),
                address=self._identity(d, "address"),
            )
            if named
            else ctx.tr("citizen.summary.anonymous")
        )
        text = ctx.tr(
            "citizen.summary.text",
            kind=ctx.tr(f"kind.{d['kind']}"),
            field=self._field_name(ctx, d.get("field")),
            place=self._place_label(ctx, d["place"]) if d.get("place") else none,
            subject=d.get("subject") or none,
            story=d.get("story", ""),
            when=d.get("when") or none,
            files=len(d.get("files", [])),
            identity=identity,
        )
        return Reply(
            text,
            [
                [self._opt(ctx, "citizen.btn.send", "send")],
                [self._opt(ctx, "citizen.btn.edit", "edit")],
                [
                    self._opt(ctx, "citizen.btn.back", "nav:back"),
                    self._opt(ctx, "citizen.btn.cancel", "nav:cancel"),
                ],
            ],
        )

    def _edit_menu(self, ctx: _Ctx) -> Reply:
        steps = [s for s in STEPS if s not in IDENTITY_STEPS or ctx.data.get("identity") == "named"]
        rows = [[Option(self._step_label(ctx, s), f"edit:{s}")] for s in steps]
        return Reply(ctx.tr("citizen.edit.ask"), rows + self._nav(ctx))

    def _duplicate_prompt(self, ctx: _Ctx) -> Reply:
        """Only ever the citizen's own earlier report: another person's case is never hinted at."""
        dup = ctx.data["dup"]
        status = ctx.tr(f"status.{dup['status']}")
        return Reply(
            ctx.tr("citizen.duplicate.mine", code=dup["code"], status=status),
            [
                [self._opt(ctx, "citizen.btn.dup_add", "dup:add")],
                [self._opt(ctx, "citizen.btn.dup_file", "dup:file")],
                [self._opt(ctx, "citizen.btn.cancel", "nav:cancel")],
            ],
        )

    def _again(self, ctx: _Ctx, key: str, **params: Any) -> list[Reply]:
        return [Reply(ctx.tr(key, **params)), *self._prompt_current(ctx)]

    # ---- starting a report ---------------------------------------------------------------------------
