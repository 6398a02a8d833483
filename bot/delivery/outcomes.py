"""What the sender records of each delivery, in the database: sent, given back, retried or failed.

Deliveries that finish while a commit is being written share the next one (group commit), so a burst
costs a commit per batch rather than per message. Every update is guarded by the row's lease, so a sender
that lost its claim records nothing over the one that holds it.

Nothing kept that names a person or ties them to a case: a sealed row (to a person's own chat), once
delivered or failed for good, is deleted; a relayed question keeps only a sealed note of its case, which
the reply needs, and no time finer than its day. A message refused for good, or a chat that is gone, is
reported to the admins (naming the case and the agency, never a citizen's chat).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.outbox import Outgoing, enqueue, question_note
from bot.delivery.transport import DeliveryResult
from bot.i18n import t
from bot.outage import backoff
from bot.privacy import Privacy
from storage.models import Agency, AgencyChat, CardMessage, Case, ChatUser, OutboxMessage
from storage.queue import Sent, delete_held, outbox_held, record_sent

log = logging.getLogger(__name__)

# a delivery waiting for its record: the row, the platform's answer, when, and who waits for the commit
_Delivered = tuple[Outgoing, DeliveryResult, dt.datetime, asyncio.Future[None]]


def _day(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def card_filter(row: Outgoing) -> list[Any]:
    """The case's card messages in the row's chat (all parts of a card that needed several)."""
    where = [CardMessage.case_id == row.case_id, CardMessage.channel == row.channel,
             CardMessage.chat_id == row.chat_id, CardMessage.purpose == "card"]
    if row.agency_id is not None:
        where.append(CardMessage.agency_id == row.agency_id)
    return where


class Outcomes:
    """The records of one sender (`worker_id`, whose leases guard every update)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        worker_id: str,
        *,
        admin_ids: Sequence[str],
        admin_channel: str,
        backoff_base: float,
        backoff_cap: float,
        rng: random.Random,
        privacy: Privacy,
        agency_unreachable: Callable[[AsyncSession, str, str], Awaitable[None]] | None,
    ) -> None:
        self.sessions = sessions
        self.worker_id = worker_id
        self.admin_ids = list(admin_ids)
        self.admin_channel = admin_channel
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.rng = rng
        self.privacy = privacy
        self.agency_unreachable = agency_unreachable  # (session, agency id, alert key): tell who must act
        self._sent: list[_Delivered] = []
        self._recording = False  # a group commit of deliveries is being written

    def _mine(self, row_id: int) -> Any:
        return update(OutboxMessage).where(outbox_held(row_id, self.worker_id)).execution_options(
            synchronize_session=False)

    async def sent(self, row: Outgoing, result: DeliveryResult, now: dt.datetime) -> None:
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
                           batch: list[tuple[Outgoing, DeliveryResult, dt.datetime]]) -> None:
        """The batch in one statement each: "sent" for groups' and admins' rows, a sealed note for
        questions to people, deletion for every other message to a person; then the cards each
        delivery posted or edited."""
        plain: list[Sent] = []
        notes: list[Sent] = []
        gone: list[int] = []
        for row, result, at in batch:
            message_id = None if result.message_id is None else str(result.message_id)
            if not row.sealed:
                plain.append(Sent(row.id, at, message_id))
            elif row.question:
                notes.append(Sent(row.id, _day(at), message_id, question_note(self.privacy, row, _day(at))))
            else:
                gone.append(row.id)
        held: set[int] = set()
        for deliveries in (plain, notes):
            if deliveries:
                held.update(await session.scalars(record_sent(deliveries, self.worker_id)))
        if gone:
            held.update(await session.scalars(delete_held(gone, self.worker_id)))
        for row, result, at in batch:
            if row.id not in held:
                log.warning("outbox row %s was delivered after its lease was lost", row.id)
            elif row.case_id is not None and not row.sealed:
                await self._record_cards(session, row, result, at)

    async def _record_cards(self, session: AsyncSession, row: Outgoing, result: DeliveryResult,
                            now: dt.datetime) -> None:
        """Where a delivery put a case's card (new messages, or edits with their digests)."""
        new_cards = [str(m) for m in result.extra.get("new_cards", [])]
        if row.kind == "card" and not new_cards and result.message_id is not None:
            new_cards = [result.message_id]
        if result.extra.get("replace_cards"):
            await session.execute(delete(CardMessage).where(*card_filter(row)))
        digests: dict[str, str] = result.extra.get("digests", {})
        for message_id in dict.fromkeys(new_cards):
            session.add(CardMessage(case_id=row.case_id, agency_id=row.agency_id or "",
                                    channel=row.channel, chat_id=row.chat_id, message_id=message_id,
                                    purpose="card", created_at=now, digest=digests.get(message_id)))
        for message_id, digest in digests.items():
            if message_id not in new_cards:
                await session.execute(update(CardMessage).where(
                    *card_filter(row), CardMessage.message_id == message_id,
                ).values(digest=digest).execution_options(synchronize_session=False))

    async def release(self, rows: Sequence[Outgoing], when: dt.datetime, error: str | None,
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

    async def retry(self, row: Outgoing, result: DeliveryResult, now: dt.datetime) -> dt.datetime:
        attempts = row.attempts + 1
        pause = backoff(attempts, self.backoff_base, self.backoff_cap, self.rng)
        when = now + dt.timedelta(seconds=pause)
        async with self.sessions() as session, session.begin():
            await session.execute(self._mine(row.id).values(
                status="pending", attempts=attempts, not_before=when, claimed_by=None, claimed_until=None,
                last_error=result.error,
            ))
        return when

    async def fail(self, row: Outgoing, error: str, attempts: int | None = None) -> None:
        async with self.sessions() as session, session.begin():
            await self._fail_in(session, row, error, attempts)

    async def _fail_in(self, session: AsyncSession, row: Outgoing, error: str,
                       attempts: int | None = None) -> None:
        """The row failed for good: kept as failed, or deleted when it was to a person (sealed)."""
        if row.sealed:
            await session.execute(delete_held([row.id], self.worker_id))
        else:
            await session.execute(self._mine(row.id).values(
                status="failed", claimed_until=None, last_error=error or "failed",
                attempts=row.attempts if attempts is None else attempts,
            ))
        log.warning("outbox row %s to %s:%s failed: %s", row.id, row.channel, row.chat, error)

    async def refused(self, row: Outgoing, error: str) -> None:
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

    async def chat_gone(self, row: Outgoing, result: DeliveryResult, now: dt.datetime) -> None:
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
            key = self.privacy.chat_key(row.channel, row.chat_id)  # a private chat's id is its user's
            user = await session.get(ChatUser, (row.channel, key))
            if user is None:
                user = ChatUser(channel=row.channel, user_key=key)
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
            key = self.privacy.chat_key(self.admin_channel, admin)
            user = await session.get(ChatUser, (self.admin_channel, key))
            locale = (user.locale if user is not None else None) or "vi"
            values = {k: (v(locale) if callable(v) else v) for k, v in params.items()}
            await enqueue(session, channel=self.admin_channel, chat_id=admin, kind="text",
                          payload={"text": t(text_key, locale, **values)}, key=f"{key}:{admin}")


def _agency_name(agency: Agency | None, agency_id: str, locale: str) -> str:
    if agency is None:
        return agency_id
    return (agency.name_en if locale == "en" else None) or agency.name_vi or agency_id
