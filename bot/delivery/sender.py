"""The outbox sender: delivers committed outbox rows through a platform transport, once each.

Loop: claim due rows (a lease in the database), ask the rate limiter, deliver, record the outcome
(`bot.delivery.outcomes`). Outcomes:
- ok: the row becomes `sent` with `sent_at` and the platform's message id; a card is recorded as a
  CardMessage in the same commit, so the card can be edited and replies to it relayed.
- retry_after (429): the chat is paused for the given seconds; the row (and the chat's later rows) wait.
- transient (5xx, timeouts, network): retried for as long as it takes, with exponential backoff and jitter
  capped at `backoff_cap` (10 minutes), so an outage of hours or days delays messages but loses none.
- permanent: the row is `failed` and the admins are told; when the chat itself is gone (bot kicked,
  blocked, chat not found) the AgencyChat or ChatUser is marked and every admin gets one report for it.

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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.delivery.outbox import Outgoing, outgoing
from bot.delivery.outcomes import Outcomes, card_filter
from bot.delivery.ratelimit import Limits, RateLimiter
from bot.delivery.transport import Delivery, DeliveryResult, Transport
from bot.outage import OutageLog
from bot.privacy import Privacy
from bot.redaction import redact
from storage.leases import hold, release
from storage.models import CardMessage, OutboxMessage, utcnow
from storage.queue import claim_outbox

log = logging.getLogger(__name__)

ROLE = "outbox-sender"


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
        privacy: Privacy,
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
        role_seconds: float = 15.0,
        agency_unreachable: Callable[[AsyncSession, str, str], Awaitable[None]] | None = None,
        secrets: Sequence[str] = (),
    ) -> None:
        self.sessions = sessions
        self.transports = transports
        self.worker_id = worker_id
        self.privacy = privacy  # opens the rows sealed for people's chats, only to send them
        self.clock = clock
        self.secrets = [s for s in secrets if s]  # cut out of every error text the outbox keeps
        # each platform its own limits, counted apart (`limits` overrides them all, e.g. in benchmarks)
        self.limits = {channel: limits or getattr(t, "limits", Limits()) for channel, t in transports.items()}
        self.limiters = {channel: RateLimiter(lim) for channel, lim in self.limits.items()}
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.send_timeout = send_timeout
        self.poll_interval = poll_interval
        self.role_seconds = role_seconds
        # who hears of deliveries that failed for good, and on which platform (none without one)
        self.outcomes = Outcomes(
            sessions, worker_id, admin_ids=[str(a) for a in admin_ids] if admin_channel else [],
            admin_channel=admin_channel or "", backoff_base=backoff_base, backoff_cap=backoff_cap,
            rng=rng or random.Random(), privacy=privacy, agency_unreachable=agency_unreachable,
        )
        self._role_until: dt.datetime | None = None
        self._wake = asyncio.Event()
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
            claimed = await claim_outbox(session, self.worker_id, self.batch, self.lease_seconds,
                                         self.clock())
        stats = RunStats(claimed=len(claimed))
        rows = await self._opened(claimed, stats)
        by_chat: dict[tuple[str, str], list[Outgoing]] = {}
        for row in rows:
            by_chat.setdefault((row.channel, row.chat), []).append(row)
        outcomes = await asyncio.gather(*(self._chat(chat_rows, stats) for chat_rows in by_chat.values()),
                                        return_exceptions=True)
        for outcome in outcomes:  # every chat's round has ended; then the first failure is reported
            if isinstance(outcome, BaseException):
                raise outcome
        return stats

    async def _opened(self, claimed: list[OutboxMessage], stats: RunStats) -> list[Outgoing]:
        """The claimed rows as they are sent; a sealed row this key cannot open fails (it never could be
        sent; start-up refuses a key that is not the database's, so this is a row sealed elsewhere)."""
        rows: list[Outgoing] = []
        for row in claimed:
            opened = outgoing(row, self.privacy)
            if opened is not None:
                rows.append(opened)
                continue
            unopened = Outgoing(id=row.id, channel=row.channel, chat=row.chat_id, chat_id=row.chat_id,
                                kind=row.kind, payload={}, case_id=None, agency_id=None,
                                attempts=row.attempts, claimed_until=row.claimed_until, sealed=True)
            await self.outcomes.refused(unopened, "sealed with another encryption key")
            stats.failed += 1
        return rows

    # one chat's rows, in order -----------------------------------------------------------------------------
    def _spacing(self, channel: str, group: bool) -> float:
        limits = self.limits.get(channel) or Limits()
        spacing = limits.chat_interval
        if group and limits.group_per_minute:
            spacing = max(spacing, 60.0 / limits.group_per_minute)
        return spacing

    def _is_group(self, row: Outgoing) -> bool:
        if row.sealed:
            return False  # a person's own chat
        is_group = getattr(self.transports.get(row.channel), "is_group", None)
        return row.agency_id is not None or (is_group is not None and bool(is_group(row.chat_id)))

    async def _chat(self, rows: list[Outgoing], stats: RunStats) -> None:
        first = rows[0]
        group = self._is_group(first)
        key = f"{first.channel}:{first.chat}"
        limiter = self.limiters.get(first.channel) or RateLimiter()
        for index, row in enumerate(rows):
            rest = rows[index:]
            now = self.clock()
            transport = self.transports.get(row.channel)
            if transport is None:
                await self.outcomes.release(rest, now + dt.timedelta(seconds=60),
                                            "no transport for this channel")
                stats.deferred += len(rest)
                return
            deadline = now + dt.timedelta(seconds=self.send_timeout)
            if row.claimed_until is None or deadline >= row.claimed_until:
                await self.outcomes.release(rest, now, None)
                stats.deferred += len(rest)
                return
            delay = limiter.reserve(key, group, now.timestamp())
            if delay > 0:
                await self.outcomes.release(rest, now + dt.timedelta(seconds=delay), None,
                                    self._spacing(first.channel, group))
                stats.deferred += len(rest)
                return
            result = await self._deliver(transport, row)
            now = self.clock()
            if result.outcome == "ok":
                await self.outcomes.sent(row, result, now)
                stats.sent += 1
                continue
            if result.outcome == "retry_after":
                limiter.block(key, now.timestamp() + result.seconds)
                await self.outcomes.release(rest, now + dt.timedelta(seconds=result.seconds), result.error,
                                    self._spacing(first.channel, group))
                stats.deferred += len(rest)
                return
            if result.outcome == "transient":
                when = await self.outcomes.retry(row, result, now)
                stats.retried += 1
                await self.outcomes.release(rows[index + 1:], when, None, self._spacing(first.channel, group))
                stats.deferred += len(rows) - index - 1
                return
            if result.scope == "message":
                await self.outcomes.refused(row, result.error)
                stats.failed += 1
                continue
            await self.outcomes.chat_gone(row, result, now)
            for later in rows[index + 1:]:
                await self.outcomes.fail(later, result.error)
            stats.failed += len(rest)
            return

    async def _deliver(self, transport: Transport, row: Outgoing) -> DeliveryResult:
        """The transport's answer, its error text cleared of secrets before it is stored or reported."""
        result = await self._attempt(transport, row)
        if result.error:
            result = replace(result, error=redact(result.error, self.secrets))
        return result

    async def _attempt(self, transport: Transport, row: Outgoing) -> DeliveryResult:
        cards: list[tuple[str, str | None]] = []
        if row.kind == "edit_card" and row.case_id is not None:
            cards = await self._cards(row)
        delivery = Delivery(id=row.id, channel=row.channel, chat_id=row.chat_id, kind=row.kind,
                            payload=dict(row.payload), case_id=row.case_id, agency_id=row.agency_id,
                            attempts=row.attempts, cards=tuple(c for c, _ in cards),
                            digests=tuple(d for _, d in cards))
        try:
            return await asyncio.wait_for(transport.deliver(delivery), self.send_timeout)
        except TimeoutError:
            return DeliveryResult.transient("timed out")
        except Exception as exc:
            log.exception("transport failed on outbox row %s", row.id)
            return DeliveryResult.transient(f"{exc.__class__.__name__}: {exc}")

    async def _cards(self, row: Outgoing) -> list[tuple[str, str | None]]:
        query = (select(CardMessage.message_id, CardMessage.digest).where(*card_filter(row))
                 .order_by(CardMessage.id))
        async with self.sessions() as session:
            return [(m, d) for m, d in (await session.execute(query)).all()]
