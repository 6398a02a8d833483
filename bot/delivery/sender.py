"""The outbox sender: delivers committed outbox rows through a platform transport, once each.

Loop: claim due rows (a lease in the database), ask the rate limiter, deliver, record the outcome in its
own short commit. Outcomes:
- ok: the row becomes `sent` with `sent_at` and the platform's message id; a card is recorded as a
  CardMessage in the same commit, so the card can be edited and replies to it relayed.
- retry_after (429): the chat is paused for the given seconds; the row (and the chat's later rows) wait.
- transient (5xx, timeouts, network): retried for as long as it takes, with exponential backoff and jitter
  capped at `backoff_cap` (10 minutes), so an outage of hours or days delays messages but loses none.
- permanent: the row is `failed` and the admins are told; when the chat itself is gone (bot kicked,
  blocked, chat not found) the AgencyChat or ChatUser is marked and every admin gets one report for it.

Nothing kept that names a reporter: once a row to a reporter's private chat is delivered (or has failed
for good), its payload (the receipt's PIN, the texts), its case and agency and its idempotency key are
scrubbed, so the table no longer links a chat to a case. A relayed question keeps only a sealed
(encrypted) note of its case, which the reporter's reply needs.

One sender at a time, failing over by itself: every instance runs the loop, but only the holder of the
"outbox-sender" lease (storage/leases.py) delivers; it renews the lease while it runs. When it dies, the
lease runs out after `role_seconds` and another instance takes the role, and the rows the dead one had
claimed come back when their own leases run out. Telegram's limits are therefore counted in one process.

Exactly once: only the worker holding a row's lease delivers it, and it does not start a delivery when
the lease would run out during the request. The one remaining window is a crash after the platform
accepted a message and before the `sent` commit; the lease then expires and the row is delivered again.
That window is one local commit long: deliveries that finish while a commit is being written share the
next one (group commit), so under a burst it covers the messages of one batch, and a chat's next message
is sent only once its previous one is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from sqlalchemy import delete, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.delivery.outbox import enqueue
from bot.delivery.ratelimit import Limits, RateLimiter
from bot.i18n import t
from bot.outage import OutageLog, backoff
from bot.redaction import redact
from storage.leases import hold, release
from storage.models import Agency, AgencyChat, CardMessage, Case, ChatUser, OutboxMessage, utcnow
from storage.queue import Sent, claim_outbox, outbox_held, record_sent

log = logging.getLogger(__name__)

ROLE = "outbox-sender"
Outcome = Literal["ok", "retry_after", "transient", "permanent"]
Scope = Literal["message", "chat", "user"]


GROUPS_TTL = 1.0  # seconds the sender trusts its list of agencies' chats

@dataclass(frozen=True)
class Delivery:
    """What a transport needs to deliver one outbox row; `cards` are the message ids of the case's
    existing card in that chat, every part in order (for kind "edit_card")."""

    id: int
    channel: str
    chat_id: str
    kind: str
    payload: dict[str, Any]
    case_id: int | None = None
    agency_id: str | None = None
    attempts: int = 0
    cards: tuple[str, ...] = ()
    digests: tuple[str | None, ...] = ()  # what each of `cards` shows now (None: unknown)


@dataclass(frozen=True)
class DeliveryResult:
    """A transport's answer. For "ok", `extra["new_cards"]` lists card messages posted anew (replacing
    the old ones when `extra["replace_cards"]`), `extra["digests"]` what each card message now shows."""

    outcome: Outcome
    message_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""
    scope: Scope = "message"

    @classmethod
    def ok(cls, message_id: str | int | None, **extra: Any) -> DeliveryResult:
        return cls("ok", None if message_id is None else str(message_id), extra)

    @classmethod
    def retry_after(cls, seconds: float, error: str = "") -> DeliveryResult:
        return cls("retry_after", seconds=float(seconds), error=error or f"retry after {seconds}s")

    @classmethod
    def transient(cls, error: str) -> DeliveryResult:
        return cls("transient", error=error)

    @classmethod
    def permanent(cls, error: str, scope: Scope = "message") -> DeliveryResult:
        return cls("permanent", error=error, scope=scope)


# a delivery waiting for its record: the row, the platform's answer, when, and who waits for the commit
_Delivered = tuple[OutboxMessage, DeliveryResult, dt.datetime, asyncio.Future[None]]


class Transport(Protocol):
    """A chat platform's delivery. It may also declare `limits` (its send-rate limits; without, the
    defaults of `Limits`) and `is_group(chat_id)` (whether a chat is a group, for the group limit; without,
    only rows addressed to an agency count as group messages)."""

    async def deliver(self, delivery: Delivery) -> DeliveryResult: ...


@dataclass
class RunStats:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    retried: int = 0
    failed: int = 0


class Sender:
    """Delivers the outbox through `transports` (one per channel name)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transports: dict[str, Transport],
        worker_id: str,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        admin_ids: Sequence[str] = (),
        admin_channel: str | None = None,
        limits: Limits | None = None,
        batch: int = 50,
        lease_seconds: float = 120.0,
        send_timeout: float = 30.0,
        backoff_base: float = 2.0,
        backoff_cap: float = 600.0,
        poll_interval: float = 0.5,
        rng: random.Random | None = None,
        seal: Callable[[dict[str, Any]], str] | None = None,
        role_seconds: float = 15.0,
        agency_unreachable: Callable[[AsyncSession, str, str], Awaitable[None]] | None = None,
        secrets: Sequence[str] = (),
    ) -> None:
        self.sessions = sessions
        self.transports = transports
        self.worker_id = worker_id
        self.clock = clock
        # who hears of deliveries that failed for good, and on which platform (none without one)
        self.admin_ids = [str(a) for a in admin_ids] if admin_channel else []
        self.admin_channel = admin_channel or ""
        self.secrets = [s for s in secrets if s]  # cut out of every error text the outbox keeps
        # each platform its own limits, counted apart (`limits` overrides them all, e.g. in benchmarks)
        self.limits = {channel: limits or getattr(t, "limits", Limits()) for channel, t in transports.items()}
        self.limiters = {channel: RateLimiter(lim) for channel, lim in self.limits.items()}
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.send_timeout = send_timeout
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.poll_interval = poll_interval
        self.rng = rng or random.Random()
        self.seal = seal
        self.role_seconds = role_seconds
        self.agency_unreachable = agency_unreachable  # (session, agency id, alert key): tell who must act
        self._role_until: dt.datetime | None = None
        self._groups: frozenset[tuple[str, str]] = frozenset()  # agencies' chats, read at most once a second
        self._groups_read = -GROUPS_TTL
        self._wake = asyncio.Event()
        self._sent: list[_Delivered] = []
        self._recording = False  # a group commit of deliveries is being written
        self.outage = OutageLog(log, "outbox sender")

    def wake(self) -> None:
        """Look at the outbox now instead of after the poll interval (e.g. right after a commit)."""
        self._wake.set()

    def watch(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Wake whenever a commit through `sessions` queued a message, so that a reply leaves at once
        rather than up to a poll interval later (other instances' commits are still found by polling)."""
        maker = sessions.kw["sync_session_class"]

        def flushed(session: Session, _context: object) -> None:
            if any(isinstance(obj, OutboxMessage) for obj in session.new):
                session.info["outbox_queued"] = True

        def committed(session: Session) -> None:
            if session.info.pop("outbox_queued", False):
                self.wake()

        def rolled_back(session: Session, _previous: object) -> None:
            session.info.pop("outbox_queued", None)

        event.listen(maker, "after_flush", flushed)
        event.listen(maker, "after_commit", committed)
        event.listen(maker, "after_soft_rollback", rolled_back)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Deliver while holding the sender role; otherwise stand by, ready to take it over. A failing
        round (the database is down) is logged once per outage and retried with growing pauses."""
        try:
            while not stop.is_set():
                pause = self.poll_interval
                try:
                    if not await self.hold_role():
                        self.outage.recovered()
                        self._wake.clear()  # another instance sends: this one's commits are not its work
                        await self._idle(stop, self.role_seconds / 3)
                        continue
                    # Cleared before the claim, not after the round: a commit that wakes the sender while
                    # this round runs may have queued rows its claim did not see, and must not wait a poll
                    # interval for the next one.
                    self._wake.clear()
                    stats = await self.run_once()
                    self.outage.recovered()
                except Exception as exc:
                    pause, stats = self.outage.failed(exc), RunStats()
                    self._wake.clear()  # the database is failing: wait the outage's pause
                if stats.sent == 0:
                    await self._idle(stop, pause)
        finally:
            await self.release_role()

    async def hold_role(self) -> bool:
        """Take or renew the sender role; renewed when a third of the lease is left to run."""
        now = self.clock()
        margin = dt.timedelta(seconds=self.role_seconds / 3)
        if self._role_until is not None and now < self._role_until - margin:
            return True
        async with self.sessions() as session:
            held = await hold(session, ROLE, self.worker_id, self.role_seconds, now)
        if held and self._role_until is None:
            log.info("outbox sender role taken by %s", self.worker_id)
        elif not held and self._role_until is not None:
            log.warning("outbox sender role lost by %s", self.worker_id)
        self._role_until = now + dt.timedelta(seconds=self.role_seconds) if held else None
        return held

    async def release_role(self) -> None:
        if self._role_until is None:
            return
        self._role_until = None
        with contextlib.suppress(Exception):
            async with self.sessions() as session:
                await release(session, ROLE, self.worker_id)

    async def _idle(self, stop: asyncio.Event, pause: float) -> None:
        """Rest until stopped, woken (at once if woken since the last claim) or `pause` seconds pass."""
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def run_once(self) -> RunStats:
        """One round: claim due rows, deliver what the limits allow, defer the rest."""
        async with self.sessions() as session:
            rows = await claim_outbox(session, self.worker_id, self.batch, self.lease_seconds, self.clock())
        stats = RunStats(claimed=len(rows))
        by_chat: dict[tuple[str, str], list[OutboxMessage]] = {}
        for row in rows:
            by_chat.setdefault((row.channel, row.chat_id), []).append(row)
        outcomes = await asyncio.gather(*(self._chat(chat_rows, stats) for chat_rows in by_chat.values()),
                                        return_exceptions=True)
        for outcome in outcomes:  # every chat's round has ended; then the first failure is reported
            if isinstance(outcome, BaseException):
                raise outcome
        return stats

    # one chat's rows, in order -----------------------------------------------------------------------------
    def _spacing(self, channel: str, group: bool) -> float:
        limits = self.limits.get(channel) or Limits()
        spacing = limits.chat_interval
        if group and limits.group_per_minute:
            spacing = max(spacing, 60.0 / limits.group_per_minute)
        return spacing

    def _is_group(self, row: OutboxMessage) -> bool:
        is_group = getattr(self.transports.get(row.channel), "is_group", None)
        return row.agency_id is not None or (is_group is not None and bool(is_group(row.chat_id)))

    async def _chat(self, rows: list[OutboxMessage], stats: RunStats) -> None:
        first = rows[0]
        group = self._is_group(first)
        key = f"{first.channel}:{first.chat_id}"
        limiter = self.limiters.get(first.channel) or RateLimiter()
        for index, row in enumerate(rows):
            rest = rows[index:]
            now = self.clock()
            transport = self.transports.get(row.channel)
            if transport is None:
                await self._release(rest, now + dt.timedelta(seconds=60), "no transport for this channel")
                stats.deferred += len(rest)
                return
            deadline = now + dt.timedelta(seconds=self.send_timeout)
            if row.claimed_until is None or deadline >= row.claimed_until:
                await self._release(rest, now, None)
                stats.deferred += len(rest)
                return
            delay = limiter.reserve(key, group, now.timestamp())
            if delay > 0:
                await self._release(rest, now + dt.timedelta(seconds=delay), None,
                                    self._spacing(first.channel, group))
                stats.deferred += len(rest)
                return
            result = await self._deliver(transport, row)
            now = self.clock()
            if result.outcome == "ok":
                await self._mark_sent(row, result, now)
                stats.sent += 1
                continue
            if result.outcome == "retry_after":
                limiter.block(key, now.timestamp() + result.seconds)
                await self._release(rest, now + dt.timedelta(seconds=result.seconds), result.error,
                                    self._spacing(first.channel, group))
                stats.deferred += len(rest)
                return
            if result.outcome == "transient":
                when = await self._retry(row, result, now)
                stats.retried += 1
                await self._release(rows[index + 1:], when, None, self._spacing(first.channel, group))
                stats.deferred += len(rows) - index - 1
                return
            if result.scope == "message":
                await self._refused(row, result.error)
                stats.failed += 1
                continue
            await self._chat_gone(row, result, now)
            for later in rows[index + 1:]:
                await self._fail(later, result.error)
            stats.failed += len(rest)
            return

    async def _deliver(self, transport: Transport, row: OutboxMessage) -> DeliveryResult:
        """The transport's answer, its error text cleared of secrets before it is stored or reported."""
        result = await self._attempt(transport, row)
        if result.error:
            result = replace(result, error=redact(result.error, self.secrets))
        return result

    async def _attempt(self, transport: Transport, row: OutboxMessage) -> DeliveryResult:
        cards: list[tuple[str, str | None]] = []
        if row.kind == "edit_card" and row.case_id is not None:
            cards = await self._cards(row)
        delivery = Delivery(id=row.id, channel=row.channel, chat_id=row.chat_id, kind=row.kind,
                            payload=dict(row.payload or {}), case_id=row.case_id, agency_id=row.agency_id,
                            attempts=row.attempts, cards=tuple(c for c, _ in cards),
                            digests=tuple(d for _, d in cards))
        try:
            return await asyncio.wait_for(transport.deliver(delivery), self.send_timeout)
        except TimeoutError:
            return DeliveryResult.transient("timed out")
        except Exception as exc:
            log.exception("transport failed on outbox row %s", row.id)
            return DeliveryResult.transient(f"{exc.__class__.__name__}: {exc}")

    async def _cards(self, row: OutboxMessage) -> list[tuple[str, str | None]]:
        query = (select(CardMessage.message_id, CardMessage.digest).where(*self._card_filter(row))
                 .order_by(CardMessage.id))
        async with self.sessions() as session:
            return [(m, d) for m, d in (await session.execute(query)).all()]

    @staticmethod
    def _card_filter(row: OutboxMessage) -> list[Any]:
        """The case's card messages in the row's chat (all parts of a card that needed several)."""
        where = [CardMessage.case_id == row.case_id, CardMessage.channel == row.channel,
                 CardMessage.chat_id == row.chat_id, CardMessage.purpose == "card"]
        if row.agency_id is not None:
            where.append(CardMessage.agency_id == row.agency_id)
        return where

    # recording outcomes ------------------------------------------------------------------------------------
    def _mine(self, row_id: int) -> Any:
        return update(OutboxMessage).where(outbox_held(row_id, self.worker_id)).execution_options(
            synchronize_session=False)

    async def _mark_sent(self, row: OutboxMessage, result: DeliveryResult, now: dt.datetime) -> None:
        """Record a delivery; returns once it is committed. Deliveries that finish while a commit is being
        written wait for the next one and share it (group commit), so a burst costs a commit per batch
        rather than per message, and a quiet bot still commits each delivery at once."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sent.append((row, result, now, done))
        if not self._recording:
            self._recording = True
            batch: list[_Delivered] = []
            try:
                while self._sent:
                    batch, self._sent = self._sent, []
                    await self._record(batch)
            finally:
                self._recording = False
                for *_, waiting in batch + self._sent:  # the writer was cancelled: nobody waits forever
                    if not waiting.done():
                        waiting.set_exception(RuntimeError("delivery not recorded: the sender stopped"))
                self._sent = []
        await done

    async def _record(self, batch: list[_Delivered]) -> None:
        """Record deliveries in one commit and tell their waiters; if it fails, each row on its own, so
        one bad row does not cost the others their record."""
        try:
            async with self.sessions() as session, session.begin():
                await self._record_sent(session, [(row, result, at) for row, result, at, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0][3].set_exception(exc)
                return
            for one in batch:
                await self._record([one])
            return
        for *_, waiting in batch:
            waiting.set_result(None)

    async def _record_sent(self, session: AsyncSession,
                           batch: list[tuple[OutboxMessage, DeliveryResult, dt.datetime]]) -> None:
        """The batch's "sent" rows in one UPDATE each for reporters' and others' rows, then the cards
        each delivery posted or edited."""
        plain: list[Sent] = []
        scrubbed: list[Sent] = []
        for row, result, at in batch:
            message_id = None if result.message_id is None else str(result.message_id)
            if scrub := await self._scrubbed(session, row):
                scrubbed.append(Sent(row.id, at, message_id, scrub["payload"]))
            else:
                plain.append(Sent(row.id, at, message_id))
        held: set[int] = set()
        for deliveries in (plain, scrubbed):
            if deliveries:
                held.update(await session.scalars(record_sent(deliveries, self.worker_id)))
        reporters = {d.row_id for d in scrubbed}
        for row, result, at in batch:
            if row.id not in held:
                log.warning("outbox row %s was delivered after its lease was lost", row.id)
            elif row.case_id is not None:
                await self._record_cards(session, row, result, at, row.id in reporters)

    async def _record_cards(self, session: AsyncSession, row: OutboxMessage, result: DeliveryResult,
                            now: dt.datetime, scrubbed: bool) -> None:
        """Where a delivery put a case's card (new messages, or edits with their digests); a reporter's
        row keeps no link to the case."""
        new_cards = [str(m) for m in result.extra.get("new_cards", [])]
        if row.kind == "card" and not new_cards and result.message_id is not None:
            new_cards = [result.message_id]
        if result.extra.get("replace_cards"):
            await session.execute(delete(CardMessage).where(*self._card_filter(row)))
        if scrubbed:
            return
        digests: dict[str, str] = result.extra.get("digests", {})
        for message_id in dict.fromkeys(new_cards):
            session.add(CardMessage(case_id=row.case_id, agency_id=row.agency_id or "",
                                    channel=row.channel, chat_id=row.chat_id, message_id=message_id,
                                    purpose="card", created_at=now, digest=digests.get(message_id)))
        for message_id, digest in digests.items():
            if message_id not in new_cards:
                await session.execute(update(CardMessage).where(
                    *self._card_filter(row), CardMessage.message_id == message_id,
                ).values(digest=digest).execution_options(synchronize_session=False))

    async def _to_reporter(self, session: AsyncSession, row: OutboxMessage) -> bool:
        """Whether the row goes to someone's private chat: neither an agency's group nor an admin."""
        if row.chat_id in self.admin_ids and row.channel == self.admin_channel:
            return False
        if row.kind in ("card", "edit_card", "media"):
            return False  # only agencies' groups get cards and evidence
        chat = (row.channel, row.chat_id)
        if chat not in self._groups and time.monotonic() - self._groups_read >= GROUPS_TTL:
            # A group bound a moment ago may be missed until the next read: its row is then cleared like a
            # reporter's (the message went out; only the stored copy loses its text). A private chat is
            # never an agency's group, so a reporter's row is never kept by mistake.
            found = await session.execute(select(AgencyChat.channel, AgencyChat.chat_id))
            self._groups = frozenset((c, i) for c, i in found.all())
            self._groups_read = time.monotonic()
        return chat not in self._groups

    async def _scrubbed(self, session: AsyncSession, row: OutboxMessage) -> dict[str, Any]:
        """The values that erase what links a reporter's chat to a case (none for groups and admins)."""
        if not await self._to_reporter(session, row):
            return {}
        payload: dict[str, Any] = {}
        if (row.payload or {}).get("relay") == "question" and row.case_id is not None and self.seal:
            payload = {"relay": "question",
                       "sealed": self.seal({"case_id": row.case_id, "agency_id": row.agency_id})}
        return {"payload": payload, "case_id": None, "agency_id": None,
                "idempotency_key": f"scrubbed:{row.id}"}

    async def _release(self, rows: Sequence[OutboxMessage], when: dt.datetime, error: str | None,
                       spacing: float = 0.0) -> None:
        """Give rows back, due again at `when` (spaced out so a backlog does not come back at once)."""
        if not rows:
            return
        async with self.sessions() as session, session.begin():
            for n, row in enumerate(rows):
                values: dict[str, Any] = {"status": "pending", "claimed_by": None, "claimed_until": None,
                                          "not_before": when + dt.timedelta(seconds=spacing * n)}
                if error is not None:
                    values["last_error"] = error
                await session.execute(self._mine(row.id).values(**values))

    async def _retry(self, row: OutboxMessage, result: DeliveryResult, now: dt.datetime) -> dt.datetime:
        attempts = row.attempts + 1
        pause = backoff(attempts, self.backoff_base, self.backoff_cap, self.rng)
        when = now + dt.timedelta(seconds=pause)
        async with self.sessions() as session, session.begin():
            await session.execute(self._mine(row.id).values(
                status="pending", attempts=attempts, not_before=when, claimed_by=None, claimed_until=None,
                last_error=result.error,
            ))
        return when

    async def _fail(self, row: OutboxMessage, error: str, attempts: int | None = None) -> None:
        async with self.sessions() as session, session.begin():
            await self._fail_in(session, row, error, attempts)

    async def _fail_in(self, session: AsyncSession, row: OutboxMessage, error: str,
                       attempts: int | None = None) -> None:
        scrub = await self._scrubbed(session, row)
        await session.execute(self._mine(row.id).values(
            status="failed", claimed_until=None, last_error=error or "failed",
            attempts=row.attempts if attempts is None else attempts, **scrub,
        ))
        log.warning("outbox row %s to %s:%s failed: %s", row.id, row.channel, row.chat_id, error)

    async def _refused(self, row: OutboxMessage, error: str) -> None:
        """The platform refused this one message for good: fail it and tell the admins what was lost.

        The report names the case and the agency, never a citizen's chat."""
        async with self.sessions() as session, session.begin():
            await self._fail_in(session, row, error)
            if str(row.chat_id) in self.admin_ids and row.case_id is None:
                return  # a report to an admin that cannot be delivered is not reported to the admins again
            code = None
            if row.case_id is not None:
                code = (await session.execute(select(Case.code).where(Case.id == row.case_id))).scalar()
            agency = await session.get(Agency, row.agency_id) if row.agency_id else None
            await self._report(session, f"refused:{row.id}", "delivery.message_refused", skip="",
                               case=code or "-", reason=error,
                               to=lambda loc: (_agency_name(agency, row.agency_id or "", loc) if row.agency_id
                                               else t("delivery.to_citizen", loc)))

    async def _chat_gone(self, row: OutboxMessage, result: DeliveryResult, now: dt.datetime) -> None:
        """The chat cannot receive anything: mark it, fail the row and tell the admins once per chat."""
        async with self.sessions() as session, session.begin():
            await self._fail_in(session, row, result.error)
            bound = (await session.execute(select(AgencyChat).where(
                AgencyChat.channel == row.channel, AgencyChat.chat_id == row.chat_id))).scalar_one_or_none()
            if bound is not None:
                if bound.failed_at is None:
                    bound.failed_at, bound.failure = now, result.error
                agency = await session.get(Agency, bound.agency_id)
                key = f"chat-failed:{row.channel}:{row.chat_id}:{int(bound.bound_at.timestamp())}"
                if self.agency_unreachable is not None:
                    await session.flush()
                    await self.agency_unreachable(session, bound.agency_id, key)
                    return
                await self._report(session, key, "system.chat_failed", chat=row.chat_id, reason=result.error,
                                   agency=lambda loc: _agency_name(agency, bound.agency_id, loc),
                                   skip=row.chat_id)
                return
            user = await session.get(ChatUser, (row.channel, row.chat_id))
            if user is None:
                user = ChatUser(channel=row.channel, user_id=row.chat_id)
                session.add(user)
            if user.blocked_at is None:
                user.blocked_at = now
            if str(row.chat_id) in self.admin_ids:
                await self._report(session, f"chat-failed:{row.channel}:{row.chat_id}",
                                   "system.recipient_unreachable", chat=row.chat_id, reason=result.error,
                                   skip=row.chat_id)
            elif row.case_id is not None:
                code = (await session.execute(select(Case.code).where(Case.id == row.case_id))).scalar()
                await self._report(session, f"reporter-unreachable:{row.case_id}",
                                   "system.reporter_unreachable", case=code or row.case_id,
                                   reason=result.error, skip=row.chat_id)

    async def _report(self, session: AsyncSession, key: str, text_key: str, *, skip: str,
                      **params: Any) -> None:
        for admin in self.admin_ids:
            if admin == skip:
                continue
            user = await session.get(ChatUser, (self.admin_channel, admin))
            locale = (user.locale if user is not None else None) or "vi"
            values = {k: (v(locale) if callable(v) else v) for k, v in params.items()}
            await enqueue(session, channel=self.admin_channel, chat_id=admin, kind="text",
                          payload={"text": t(text_key, locale, **values)}, key=f"{key}:{admin}")


def _agency_name(agency: Agency | None, agency_id: str, locale: str) -> str:
    if agency is None:
        return agency_id
    return (agency.name_en if locale == "en" else None) or agency.name_vi or agency_id
