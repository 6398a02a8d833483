"""The intake dialogue: a platform-neutral state machine a citizen talks to, step by step or in free text.

An adapter turns a platform update into an event (text, command, button choice, file, anything else) and
renders the replies (text and option rows). State lives in `DialogState`, keyed by (channel, user id), and
is written in the same transaction as the step it records, so a restart or another instance resumes it.

Steps are answered in order; the next step is always the first one not yet answered, so a free-text
report (the story first) asks only for what is missing, and editing one answer returns to the summary.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from bot import cases
from bot.cards import stage_name
from bot.cases import Citizen, Draft, Evidence
from bot.channels import capabilities
from bot.core import Core
from bot.i18n import LOCALES, catalog, fmt_date, pick_locale, t
from bot.identity_input import clean_text, name_problem, phone_number
from bot.kinds import KINDS, NAMED_REQUIRED
from bot.limits import SlidingWindow, cases_last_day
from bot.outbox import enqueue
from bot.pin_guard import Verdict, precheck
from bot.places import by_code, find_in_text, search
from bot.receipts import normalize_code
from bot.routing import route
from bot.textnorm import fold
from storage.models import Case, ChatUser, DialogState

# ---- events (what the citizen did) -------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Command:
    name: str  # without the slash: "start", "cancel"
    args: str = ""


@dataclass(frozen=True)
class Choice:
    value: str  # an Option.value the citizen picked


@dataclass(frozen=True)
class Attachment:
    media: str  # photo | document | voice | audio | video
    file_id: str
    file_unique_id: str | None = None
    size: int | None = None
    mime: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Other:
    kind: str  # sticker, location, contact, poll, ...: something this dialogue cannot use


Event = Text | Command | Choice | Attachment | Other

# ---- replies (what the bot says) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    label: str
    value: str


@dataclass
class Reply:
    """What to say. A durable reply reports a change (a receipt with its PIN, added information): it is
    written to the outbox in the change's own transaction, so a failed send cannot lose it."""

    text: str
    options: list[list[Option]] = field(default_factory=list)
    durable: bool = False


def option_data(value: str) -> str:
    """The button payload of an option; the Telegram adapter's IntakeCallback reads the same format."""
    return f"in|{value}"


def reply_payload(reply: Reply) -> dict[str, Any]:
    """A reply as a platform-neutral outbox payload."""
    buttons = [[{"text": o.label, "data": option_data(o.value)} for o in row] for row in reply.options]
    return {"text": reply.text, "buttons": buttons} if buttons else {"text": reply.text}


IDLE = "idle"
STEPS = (
    "kind",
    "field",
    "place",
    "subject",
    "story",
    "when",
    "evidence",
    "identity",
    "name",
    "phone",
    "address",
)
IDENTITY_STEPS = frozenset({"name", "phone", "address"})
ALLOWED_MEDIA = frozenset({"photo", "document", "voice", "audio", "video"})
DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
}
MIN_STORY_CHARS = 15
FREE_TEXT_MIN_WORDS = 5
MAX_SHORT_TEXT = 300
MAX_HISTORY = 40
UNLOCK_TTL = dt.timedelta(minutes=30)  # how long /status lets the citizen add to a case without the PIN


normalize_phone = phone_number  # a valid Vietnamese number as 0xxxxxxxxx, or None


def _remember_menu(data: dict[str, Any], replies: list[Reply]) -> None:
    """On a platform without buttons the options are shown numbered; keep them so that the citizen's
    answer ("2", or the option's words) can be read as a press of that option."""
    shown = [r for r in replies if r.options]
    options = [[o.label, o.value] for row in shown[-1].options for o in row] if shown else []
    if options:
        data["menu"] = options
    else:
        data.pop("menu", None)


MENU_WORDS_MIN_SCORE = 88


def _from_menu(data: dict[str, Any], event: Event) -> Event:
    """A typed number or the words of an option of the last numbered menu, as the press of that option."""
    menu = data.get("menu")
    if not isinstance(event, Text) or not menu:
        return event
    typed = event.text.strip().rstrip(".)")
    if typed.isdigit():
        number = int(typed)
        return Choice(menu[number - 1][1]) if 1 <= number <= len(menu) else event
    if len(typed) > 60:
        return event
    words = fold(re.sub(r"[^\w\s]", " ", typed)).strip()
    labels = [fold(re.sub(r"[^\w\s]", " ", label)).strip() for label, _ in menu]
    best = process.extractOne(words, labels, scorer=fuzz.ratio, score_cutoff=MENU_WORDS_MIN_SCORE)
    return Choice(menu[best[2]][1]) if best else event


@dataclass
class _Ctx:
    session: AsyncSession
    sender: Citizen
    locale: str
    user: ChatUser
    row: DialogState | None
    state: str = IDLE
    data: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    verdict: Verdict | None = None  # a look-up's PIN, checked before the transaction opened

    def tr(self, key: str, **params: Any) -> str:
        return t(key, self.locale, **params)


class Intake:
    """The dialogue for one channel-neutral bot; one instance per process (it holds the message limiter)."""

    def __init__(self, core: Core, *, queue_changes: bool = False) -> None:
        """With `queue_changes`, every reply to a step that changed the dialogue goes through the outbox
        in the step's transaction (what a chat adapter wants: a failed send is retried, never lost);
        without, only durable replies do and the rest are returned to the caller to send."""
        self.core = core
        self.queue_changes = queue_changes
        self.messages = SlidingWindow(core.settings.messages_per_minute, 60.0)
        self._warned: set[str] = set()

    async def handle(
        self, channel: str, user_id: str, chat_id: str, event: Event, language_code: str | None = None
    ) -> list[Reply]:
        """Apply one event to the user's dialogue and return what to say; state is committed before return."""
        sender = Citizen(channel, str(user_id), str(chat_id))
        limiter_key = f"{channel}:{user_id}"
        if not self.messages.hit(limiter_key):
            if limiter_key in self._warned:
                return []
            self._warned.add(limiter_key)
            locale = pick_locale(language_code)
            return [Reply(t("citizen.limit.messages", locale, n=self.core.settings.messages_per_minute))]
        self._warned.discard(limiter_key)
        verdict = await self._precheck(sender, event)
        for attempt in range(3):
            try:
                async with self.core.sessions() as session, session.begin():
                    ctx = await self._load(session, sender, language_code)
                    before = (ctx.state, copy.deepcopy(ctx.data), ctx.locale)
                    ctx.verdict = verdict
                    menu = not capabilities(channel).buttons
                    step = _from_menu(ctx.data, event) if menu else event
                    replies = await self._expire_or_dispatch(ctx, step)
                    if menu:
                        _remember_menu(ctx.data, replies)
                    await self._save(ctx)
                    changed = self.queue_changes and before != (ctx.state, ctx.data, ctx.locale)
                    if replies and (changed or any(r.durable for r in replies)):
                        await self._queue(ctx, replies)
                        replies = []
                return replies
            except (IntegrityError, StaleDataError):
                if attempt == 2:
                    raise
        return []

    async def _precheck(self, sender: Citizen, event: Event) -> Verdict | None:
        """For an event that looks up a case, check its PIN (scrypt) before a connection is taken."""
        code = None
        if isinstance(event, Command) and event.name.lower() == "status" and len(event.args.split()) >= 2:
            parts = event.args.split()
            code, pin = (parts[0] if len(parts) == 2 else "".join(parts[:-1])), parts[-1]
        elif isinstance(event, Text) and len(words := event.text.split()) == 2 and normalize_code(words[0]):
            code, pin = words
        elif isinstance(event, Text) and re.fullmatch(r"\d{4,8}", event.text.strip()):
            async with self.core.sessions() as session:
                row = await session.get(DialogState, (sender.channel, sender.user_id))
            if row is not None and row.state == "lookup_pin":
                code, pin = str((row.data or {}).get("lookup_code", "")), event.text.strip()
        if code is None:
            return None
        return await precheck(self.core, cases.reporter_key(self.core, sender), code, pin)

    async def locale_of(self, channel: str, user_id: str) -> str:
        """The language this person chose (or was given), for messages outside the dialogue."""
        async with self.core.sessions() as session:
            user = await session.get(ChatUser, (channel, str(user_id)))
        return user.locale if user is not None and user.locale else pick_locale(None)

    async def takes(self, channel: str, user_id: str, event: Event) -> bool:
        """Whether the dialogue would take this event as part of what it is doing (a report or a look-up
        under way, or a pick from the last numbered menu) rather than as something new; a platform
        without replies asks this before reading a message as the answer to an officer's question."""
        async with self.core.sessions() as session:
            row = await session.get(DialogState, (channel, str(user_id)))
        if row is None:
            return False
        if row.state != IDLE:
            return True
        return _from_menu(dict(row.data or {}), event) != event

    # ---- persistence ----------------------------------------------------------------------------------

    async def _load(self, session: AsyncSession, sender: Citizen, language_code: str | None) -> _Ctx:
        user = await session.get(ChatUser, (sender.channel, sender.user_id))
        if user is None:
            user = ChatUser(channel=sender.channel, user_id=sender.user_id, locale=pick_locale(language_code))
            session.add(user)
        row = (
            await session.execute(
                select(DialogState)
                .where(DialogState.channel == sender.channel, DialogState.user_id == sender.user_id)
                .with_for_update()
            )
        ).scalar_one_or_none()
        ctx = _Ctx(
            session=session,
            sender=sender,
            locale=user.locale or pick_locale(language_code),
            user=user,
            row=row,
        )
        if row is not None:
            ctx.state, ctx.data, ctx.history = row.state, dict(row.data or {}), list(row.history or [])
        return ctx

    async def _save(self, ctx: _Ctx) -> None:
        if "unlocked" in ctx.data and not self._unlocked(ctx):
            del ctx.data["unlocked"]  # an expired look-up leaves no trace of which case it opened
        if ctx.state == IDLE and not ctx.data:
            if ctx.row is not None:
                await ctx.session.delete(ctx.row)
            return
        if ctx.row is None:
            ctx.row = DialogState(channel=ctx.sender.channel, user_id=ctx.sender.user_id, state=ctx.state)
            ctx.session.add(ctx.row)
        ctx.row.state = ctx.state
        ctx.row.data = ctx.data
        ctx.row.history = ctx.history[-MAX_HISTORY:]
        ctx.row.updated_at = dt.datetime.now(dt.UTC)
        flag_modified(ctx.row, "data")
        flag_modified(ctx.row, "history")

    async def _queue(self, ctx: _Ctx, replies: list[Reply]) -> None:
        """Write this step's replies to the outbox (all of them, so they arrive in order)."""
        step = uuid.uuid4().hex
        for i, reply in enumerate(replies):
            await enqueue(
                ctx.session,
                channel=ctx.sender.channel,
                chat_id=ctx.sender.chat_id,
                kind="text",
                payload=reply_payload(reply),
                key=f"reply:{ctx.sender.channel}:{ctx.sender.chat_id}:{step}:{i}",
            )

    async def _expire_or_dispatch(self, ctx: _Ctx, event: Event) -> list[Reply]:
        ttl = dt.timedelta(hours=self.core.settings.dialogue_ttl_hours)
        if ctx.row is not None and ctx.state != IDLE and ctx.row.updated_at < dt.datetime.now(dt.UTC) - ttl:
            self._reset(ctx)
            notice = Reply(ctx.tr("citizen.expired", hours=self.core.settings.dialogue_ttl_hours))
            if isinstance(event, Command):
                return [notice, *await self._dispatch(ctx, event)]
            return [notice, self._menu(ctx)]
        return await self._dispatch(ctx, event)

    # ---- dispatch -------------------------------------------------------------------------------------

    async def _dispatch(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Command):
            return await self._command(ctx, event)
        if isinstance(event, Choice):
            handled = await self._global_choice(ctx, event.value)
            if handled is not None:
                return handled
        if isinstance(event, Other):
            return [Reply(ctx.tr("citizen.unexpected.other")), *self._prompt_current(ctx)]
        if isinstance(event, Text) and len(event.text) > self.core.settings.max_text_chars:
            return [
                Reply(ctx.tr("citizen.limit.text", n=self.core.settings.max_text_chars)),
                *self._prompt_current(ctx),
            ]
        handler = getattr(self, f"_on_{ctx.state}", None)
        if handler is None:
            self._reset(ctx)
            return [self._menu(ctx)]
        return await handler(ctx, event)

    async def _command(self, ctx: _Ctx, cmd: Command) -> list[Reply]:
        name = cmd.name.lower()
        if name == "start":
            if ctx.state not in (IDLE, "lookup_code", "lookup_pin"):
                return [
                    Reply(
                        ctx.tr("citizen.resume.ask", step=self._step_label(ctx, ctx.state)),
                        [
                            [self._opt(ctx, "citizen.btn.resume", "resume")],
                            [self._opt(ctx, "citizen.btn.restart", "restart")],
                        ],
                    )
                ]
            self._reset(ctx)
            return [Reply(ctx.tr("citizen.welcome")), self._menu(ctx)]
        if name == "help":
            return [Reply(ctx.tr("citizen.help")), *self._prompt_current(ctx)]
        if name in ("cancel", "stop"):
            return self._cancel(ctx)
        if name == "back":
            return self._back(ctx)
        if name in ("new", "report"):
            return await self._start_report(ctx)
        if name == "status":
            parts = cmd.args.split()
            if len(parts) >= 2:
                self._reset(ctx, keep_unlocked=True)
                return await self._lookup(
                    ctx, parts[0] if len(parts) == 2 else "".join(parts[:-1]), parts[-1]
                )
            return self._goto_lookup(ctx)
        if name == "mycases":
            return await self._my_cases(ctx)
        if name in ("lang", "language"):
            choice = cmd.args.strip().lower()
            if choice in LOCALES:
                return await self._set_locale(ctx, choice)
            return [
                Reply(
                    ctx.tr("citizen.lang.ask"),
                    [[Option("Tiếng Việt", "lang:vi"), Option("English", "lang:en")]],
                )
            ]
        if name in ("skip", "done"):
            return await self._dispatch(ctx, Choice(name))
        return [Reply(ctx.tr("citizen.unknown_command")), *self._prompt_current(ctx)]

    async def _global_choice(self, ctx: _Ctx, value: str) -> list[Reply] | None:
        if value == "menu:new":
            return await self._start_report(ctx)
        if value == "menu:lookup":
            return self._goto_lookup(ctx)
        if value == "menu:mycases":
            return await self._my_cases(ctx)
        if value == "menu:help":
            return [Reply(ctx.tr("citizen.help")), *self._prompt_current(ctx)]
        if value == "nav:cancel":
            return self._cancel(ctx)
        if value == "nav:back":
            return self._back(ctx)
        if value.startswith("lang:") and value[5:] in LOCALES:
            return await self._set_locale(ctx, value[5:])
        if value == "resume":
            return self._prompt_current(ctx)
        if value == "restart":
            self._reset(ctx, keep_unlocked=True)
            return await self._start_report(ctx)
        if value.startswith("add:"):
            return await self._start_add(ctx, value[4:])
        return None

    # ---- navigation -----------------------------------------------------------------------------------

    def _reset(self, ctx: _Ctx, keep_unlocked: bool = False) -> None:
        unlocked = ctx.data.get("unlocked") if keep_unlocked else None
        ctx.state, ctx.data, ctx.history = IDLE, {}, []
        if unlocked:
            ctx.data["unlocked"] = unlocked

    def _cancel(self, ctx: _Ctx) -> list[Reply]:
        was_active = ctx.state != IDLE
        self._reset(ctx)
        key = "citizen.cancelled" if was_active else "citizen.nothing_to_cancel"
        return [Reply(ctx.tr(key)), self._menu(ctx)]

    def _back(self, ctx: _Ctx) -> list[Reply]:
        if not ctx.history:
            if ctx.state == IDLE:
                return [Reply(ctx.tr("citizen.back.nothing")), self._menu(ctx)]
            return [Reply(ctx.tr("citizen.back.first")), *self._prompt_current(ctx)]
        ctx.state = ctx.history.pop()
        ctx.data.pop("dup", None)
        return self._prompt_current(ctx)

    def _goto(self, ctx: _Ctx, state: str) -> list[Reply]:
        if ctx.state != state and ctx.state != IDLE:
            ctx.history.append(ctx.state)
        ctx.state = state
        return self._prompt_current(ctx)

    def _next_step(self, data: dict[str, Any]) -> str:
        for step in STEPS:
            if step in IDENTITY_STEPS and data.get("identity") != "named":
                continue
            if step not in data:
                return step
        return "confirm"

    def _advance(self, ctx: _Ctx) -> list[Reply]:
        return self._goto(ctx, self._next_step(ctx.data))

    async def _set_locale(self, ctx: _Ctx, locale: str) -> list[Reply]:
        ctx.user.locale = locale
        ctx.locale = locale
        await cases.set_reporter_locale(ctx.session, self.core, ctx.sender, locale)
        return [Reply(ctx.tr("citizen.lang.set")), *self._prompt_current(ctx)]

    # ---- prompts --------------------------------------------------------------------------------------

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

    def _field_name(self, ctx: _Ctx, field_id: str | None) -> str:
        if not field_id:
            return ctx.tr("citizen.none")
        try:
            return self.core.rules.field(field_id).name.get(ctx.locale)
        except KeyError:
            return field_id

    def _proposal_prompt(self, ctx: _Ctx) -> Reply:
        p = ctx.data["proposal"]
        place = p.get("place")
        text = ctx.tr(
            "citizen.proposal.text",
            kind=ctx.tr(f"kind.{p['kind']}"),
            field=self._field_name(ctx, p.get("field")),
            lead=self._agency_names(ctx, [p["lead"]]),
            cooperating=self._agency_names(ctx, p.get("cooperating", [])),
            place=place["name"] if place else ctx.tr("citizen.none"),
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
            place=(d.get("place") or {}).get("name") or none,
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

    async def _over_daily_limit(self, ctx: _Ctx) -> bool:
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
            ctx.data.update(
                mode="free",
                story=text,
                proposal={
                    "kind": decision.kind,
                    "field": decision.field,
                    "lead": decision.lead,
                    "cooperating": list(decision.cooperating),
                    "place": {"code": place.code, "name": place.name} if place else None,
                },
            )
            ctx.state = "proposal"
            return self._prompt_current(ctx)
        if isinstance(event, Attachment):
            return [Reply(ctx.tr("citizen.idle.file")), self._menu(ctx)]
        return [Reply(ctx.tr("citizen.stale_button")), self._menu(ctx)]

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
            rows = [[Option(p.name, f"place:{p.code}")] for p in found]
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
            return self._advance(ctx)
        return self._misfit(ctx, event)

    async def _on_evidence(self, ctx: _Ctx, event: Event) -> list[Reply]:
        if isinstance(event, Attachment):
            files = ctx.data.setdefault("files", [])
            problem = self._check_file(ctx, event, len(files))
            if problem:
                return [problem]
            files.append(
                Evidence(
                    event.media, event.file_id, event.file_unique_id, event.size, event.mime, event.name
                ).as_dict()
            )
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
        if item.media not in ALLOWED_MEDIA or (item.media == "document" and not _document_allowed(item)):
            return Reply(ctx.tr("citizen.limit.file_type"))
        if item.size is not None and item.size > s.max_file_mb * 1024 * 1024:
            return Reply(ctx.tr("citizen.limit.file_size", mb=s.max_file_mb))
        return None

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
        filed = await cases.submit(ctx.session, self.core, ctx.sender, draft, duplicate_of_id=duplicate_of_id)
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
        if found.throttled:
            return [Reply(ctx.tr("citizen.lookup.throttled")), self._menu(ctx)]
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
            files.append(
                Evidence(
                    event.media, event.file_id, event.file_unique_id, event.size, event.mime, event.name
                ).as_dict()
            )
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
        group_text = t(
            "citizen.to_agency.added_info", "vi", code=case.code, text=text or "-", files=len(files)
        )
        await cases.add_information(
            ctx.session, self.core, ctx.sender, case, text, files, group_text=group_text
        )


def _document_allowed(item: Attachment) -> bool:
    extension = (item.name or "").rsplit(".", 1)[-1].lower() if item.name and "." in item.name else ""
    if extension:
        return extension in DOCUMENT_TYPES
    return item.mime in DOCUMENT_TYPES.values()
