"""The intake dialogue: a platform-neutral state machine a citizen talks to, step by step or in free text.

An adapter turns a platform update into an event (text, command, button choice, file, anything else) and
renders the replies (text and option rows). State lives in `DialogState`, keyed by (channel, keyed hash of
the user id), and is written in the same transaction as the step it records, so a restart or another
instance resumes it. Replies queued for the person are sealed (`enqueue_private`).

Steps are answered in order; the next step is always the first one not yet answered, so a free-text
report (the story first) asks only for what is missing, and editing one answer returns to the summary."""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from bot import cases
from bot.cases import Citizen
from bot.channels import capabilities
from bot.core import Core
from bot.delivery.outbox import enqueue_private
from bot.i18n import LOCALES, pick_locale, t
from bot.intake.events import (
    EDITED,
    FILE_UNAVAILABLE,
    Choice,
    Command,
    Event,
    Option,
    Other,
    Reply,
    Text,
    reply_payload,
)
from bot.intake.filing import Filing
from bot.intake.lookup import Lookup
from bot.intake.prompts import Prompts
from bot.intake.state import (
    IDENTITY_STEPS,
    IDLE,
    MAX_HISTORY,
    STEPS,
    _Ctx,
    _from_menu,
    _remember_menu,
)
from bot.intake.steps import Steps
from bot.limits import SlidingWindow
from bot.pin_guard import Verdict, precheck
from bot.receipts import normalize_code
from storage.db import lost_a_race
from storage.group_commit import GroupCommit
from storage.models import ChatUser, DialogState

# What the citizen hears about something the dialogue cannot take, by its kind (else: not usable here).
OTHER_NOTICES = {FILE_UNAVAILABLE: "citizen.unexpected.file_unavailable", EDITED: "citizen.unexpected.edited"}
FILING_CHOICES = frozenset({"send", "dup:file"})  # the presses that file the report being written
LOOKED_UP = "intake.looked_up"  # session.info: who `_look_up` found, for the steps of a shared transaction


class Intake(Prompts, Steps, Filing, Lookup):
    """The dialogue for one channel-neutral bot; one instance per process (it holds the message limiter)."""

    def __init__(self, core: Core, *, queue_changes: bool = False) -> None:
        """With `queue_changes`, every reply to a step that changed the dialogue goes through the outbox
        in the step's transaction (what a chat adapter wants: a failed send is retried, never lost);
        without, only durable replies do and the rest are returned to the caller to send."""
        self.core = core
        self.queue_changes = queue_changes
        self.messages = SlidingWindow(core.settings.messages_per_minute, 60.0)
        self._warned: set[str] = set()
        # steps that arrive together share a commit; SQLite writes one transaction at a time anyway
        sqlite = core.settings.database_url.startswith("sqlite")
        self.steps = GroupCommit(lambda: self.core.sessions(), lanes=1 if sqlite else 2, alone=self._alone,
                                 prepare=self._look_up)

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
        # a press that files a report: its receipt PIN is hashed now, not while the transaction holds a
        # connection (on SQLite the only one) and the steps sharing it wait
        files = isinstance(event, Choice) and event.value in FILING_CHOICES
        pin = await cases.receipt_pin() if files else None

        async def step(session: AsyncSession) -> list[Reply]:
            ctx = await self._load(session, sender, language_code)
            before = (ctx.state, copy.deepcopy(ctx.data), ctx.locale)
            ctx.verdict, ctx.pin = verdict, pin
            menu = not capabilities(channel).buttons
            current = _from_menu(ctx.data, event) if menu else event
            replies = await self._expire_or_dispatch(ctx, current)
            if menu:
                _remember_menu(ctx.data, replies)
            await self._save(ctx)
            changed = self.queue_changes and before != (ctx.state, ctx.data, ctx.locale)
            if replies and (changed or any(r.durable for r in replies)):
                await self._queue(ctx, replies)
                replies = []
            return replies

        return await self.steps.run(step, key=(sender.channel, sender.user_id))

    def held_back(self, channel: str, user_id: str, language_code: str | None = None) -> str | None:
        """What to tell a person over MESSAGES_PER_MINUTE (and when to try again), counting nothing; None
        when they may go on. For a platform that must answer at once, such as a button press."""
        wait = self.messages.wait(f"{channel}:{user_id}")
        if wait <= 0:
            return None
        n = self.core.settings.messages_per_minute
        return t("citizen.limit.press", pick_locale(language_code), n=n, seconds=max(1, math.ceil(wait)))

    async def _alone(self, step: Callable[[AsyncSession], Awaitable[list[Reply]]]) -> list[Reply]:
        """One step in its own transaction, run again when it lost a race with another transaction."""
        for attempt in range(3):
            try:
                async with self.core.sessions() as session, session.begin():
                    return await step(session)
            except (StaleDataError, DBAPIError) as exc:  # IntegrityError is a DBAPIError
                # a newcomer's rows written first by another instance, a dialogue changed under this
                # step, or a deadlock with another transaction (two filings counting the same words)
                retry = isinstance(exc, (IntegrityError, StaleDataError)) or lost_a_race(exc)
                if attempt == 2 or not retry:
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
                row = await session.get(DialogState, self._stored(sender.channel, sender.user_id))
            if row is not None and row.state == "lookup_pin":
                code, pin = str((row.data or {}).get("lookup_code", "")), event.text.strip()
        if code is None:
            return None
        return await precheck(self.core, cases.reporter_key(self.core, sender), code, pin)

    async def locale_of(self, channel: str, user_id: str) -> str:
        """The language this person chose (or was given), for messages outside the dialogue."""
        async with self.core.sessions() as session:
            user = await session.get(ChatUser, self._stored(channel, str(user_id)))
        return user.locale if user is not None and user.locale else pick_locale(None)

    async def takes(self, channel: str, user_id: str, event: Event) -> bool:
        """Whether the dialogue would take this event as part of what it is doing (a report or a look-up
        under way, or a pick from the last numbered menu) rather than as something new; a platform
        without replies asks this before reading a message as the answer to an officer's question."""
        async with self.core.sessions() as session:
            row = await session.get(DialogState, self._stored(channel, str(user_id)))
        if row is None:
            return False
        if row.state != IDLE:
            return True
        return _from_menu(dict(row.data or {}), event) != event

    # ---- persistence ----------------------------------------------------------------------------------

    def _stored(self, channel: str, user_id: str) -> tuple[str, str]:
        """A person's key in `chat_users` and `dialog_states`: the user id only as its keyed hash."""
        return channel, self.core.privacy.chat_key(channel, user_id)

    async def _look_up(self, session: AsyncSession, people: list[tuple[str, str]]) -> None:
        """Everyone whose step shares this transaction, read in two queries instead of two each, their
        dialogues locked as `_load` would lock each; `_load` takes what was found (or not) from here."""
        stored = {person: self._stored(*person) for person in set(people)}
        keys = sorted(stored.values())
        users = {(u.channel, u.user_key): u for u in (await session.execute(
            select(ChatUser).where(tuple_(ChatUser.channel, ChatUser.user_key).in_(keys))
        )).scalars()}
        rows = {(r.channel, r.user_key): r for r in (await session.execute(
            select(DialogState).where(tuple_(DialogState.channel, DialogState.user_key).in_(sorted(users)))
            .with_for_update()
        )).scalars()} if users else {}
        # the rows themselves, not only their keys: the session keeps unchanged rows only while referenced
        session.info[LOOKED_UP] = {p: (users.get(k), rows.get(k)) for p, k in stored.items()}

    async def _load(self, session: AsyncSession, sender: Citizen, language_code: str | None) -> _Ctx:
        # No flush first: in a shared transaction (GroupCommit) the steps before this one leave their rows
        # pending, and they are written together at the commit (one INSERT per table) rather than each by
        # the next step's first query. A person's own pending rows cannot be among them: one person's
        # updates are handled one at a time, and if they were, the commit would fail and each step would
        # run again alone.
        found = session.info.get(LOOKED_UP, {}).pop((sender.channel, sender.user_id), None)  # `_look_up`
        channel, user_key = self._stored(sender.channel, sender.user_id)
        with session.no_autoflush:
            user = found[0] if found is not None else await session.get(ChatUser, (channel, user_key))
            newcomer = user is None
            if user is None:
                user = ChatUser(channel=channel, user_key=user_key, locale=pick_locale(language_code))
                session.add(user)
            # A newcomer has no dialogue yet; if another instance is starting one for them at this moment,
            # the two inserts of the same person collide at commit and this update is run again.
            if newcomer:
                row = None
            elif found is not None:
                row = found[1]  # locked by `_look_up`
            else:
                row = (await session.execute(
                    select(DialogState)
                    .where(DialogState.channel == channel, DialogState.user_key == user_key)
                    .with_for_update()
                )).scalar_one_or_none()
        ctx = _Ctx(
            session=session,
            sender=sender,
            locale=user.locale or pick_locale(language_code),
            user=user,
            row=row,
            newcomer=newcomer,
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
            ctx.row = DialogState(channel=ctx.user.channel, user_key=ctx.user.user_key, state=ctx.state)
            ctx.session.add(ctx.row)
        if ctx.row.sealed_chat is None:  # a private chat's id does not change: sealed once
            ctx.row.sealed_chat = self.core.privacy.seal_value(ctx.sender.chat_id)
        ctx.row.state = ctx.state
        ctx.row.data = ctx.data
        ctx.row.history = ctx.history[-MAX_HISTORY:]
        ctx.row.updated_at = dt.datetime.now(dt.UTC)
        flag_modified(ctx.row, "data")
        flag_modified(ctx.row, "history")

    async def _queue(self, ctx: _Ctx, replies: list[Reply]) -> None:
        """Write this step's replies to the outbox (all of them, so they arrive in order), sealed."""
        step = uuid.uuid4().hex
        for i, reply in enumerate(replies):
            await enqueue_private(
                ctx.session,
                self.core.privacy,
                channel=ctx.sender.channel,
                chat_id=ctx.sender.chat_id,
                payload=reply_payload(reply),
                key=f"reply:{step}:{i}",
                fresh=True,
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
            notice = OTHER_NOTICES.get(event.kind, "citizen.unexpected.other")
            return [Reply(ctx.tr(notice)), *self._prompt_current(ctx)]
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
