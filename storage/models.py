"""SQLAlchemy 2 typed models: the whole persistent state of the bot.

Everything a restart or a second instance must see lives here: cases and their agencies, the encrypted
reporter identity (kept apart from the case), the append-only audit log, the outbox of messages to send,
the jobs table for time-based work, meetings, dialogue state and bound agency chats.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, dt.datetime: UTCDateTime}


class Agency(Base):
    """An agency of the rules file, mirrored at start-up so cases can reference it."""

    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(Text)


class AgencyChat(Base):
    """A group chat bound to an agency on one channel; any member acts for the agency."""

    __tablename__ = "agency_chats"
    __table_args__ = (
        UniqueConstraint("channel", "chat_id", name="uq_agency_chats_channel_chat"),
        UniqueConstraint("agency_id", "channel", name="uq_agency_chats_agency_channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16), default="admin")  # admin | rules
    bound_by: Mapped[str | None] = mapped_column(String(64))
    bound_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    failed_at: Mapped[dt.datetime | None] = mapped_column()  # permanently undeliverable since
    failure: Mapped[str | None] = mapped_column(Text)


class Case(Base):
    """A report (tin báo, khiếu nại, tố cáo, kiến nghị) and its lifecycle. No reporter identity here."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(255))  # "scrypt$salt$digest" is 168 characters
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    field: Mapped[str | None] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(128))  # ward/commune code
    area_name: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(Text)  # the people or body involved
    summary: Mapped[str] = mapped_column(Text)  # what happened
    occurred: Mapped[str | None] = mapped_column(String(255))  # when, as the citizen said it
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    status: Mapped[str] = mapped_column(String(24), default="new", index=True)
    lead_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    watched: Mapped[bool] = mapped_column(Boolean, default=False)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)  # linked to
    likely_duplicates: Mapped[list[Any]] = mapped_column(default=list)  # [{id, code, score, evidence}]
    rule_id: Mapped[str | None] = mapped_column(String(64))
    routing: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the routing decision and its reasons
    received_on: Mapped[dt.date] = mapped_column(Date, index=True)  # local date of receipt
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)  # thụ lý
    stage: Mapped[str | None] = mapped_column(String(32))  # the deadline stage now running
    due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    paused_at: Mapped[dt.datetime | None] = mapped_column()  # waiting for the citizen since
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(Text)  # resolution or rejection text for the citizen
    assignee: Mapped[str | None] = mapped_column(String(255))  # the officer who accepted (thụ lý), as shown
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column()
    pin_locked_until: Mapped[dt.datetime | None] = mapped_column()  # look-ups refused after many wrong PINs
    version: Mapped[int] = mapped_column(Integer, default=1)

    agencies: Mapped[list[CaseAgency]] = relationship(
        back_populates="case", cascade="all, delete-orphan", lazy="selectin"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="case", cascade="all, delete-orphan", lazy="selectin", order_by="Attachment.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def cooperating_ids(self) -> list[str]:
        return [a.agency_id for a in self.agencies if a.role == "cooperating"]

    @property
    def is_open(self) -> bool:
        return self.status not in ("resolved", "rejected", "merged")


class DuplicateTerm(Base):
    """One index term of a case (a fact such as an amount or plot number, or a pair of content words),
    so that the cases sharing rare terms with a new report are found without reading every case."""

    __tablename__ = "duplicate_terms"
    __table_args__ = (Index("ix_duplicate_terms_term_case", "term", "case_id"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    term: Mapped[str] = mapped_column(String(64), primary_key=True)


class DuplicateTermCount(Base):
    """How many cases carry a term: common terms ("cán bộ") are skipped when narrowing candidates."""

    __tablename__ = "duplicate_term_counts"

    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)


class CaseAgency(Base):
    """An agency holding a case: the lead or a co-operating one, and why it was added."""

    __tablename__ = "case_agencies"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))  # lead | cooperating | former
    reason: Mapped[str | None] = mapped_column(Text)
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="agencies")


class Attachment(Base):
    """Evidence: a platform file reference (photo, document, voice, video) attached to a case."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    media: Mapped[str] = mapped_column(String(16))  # photo | document | voice | video | audio
    file_id: Mapped[str] = mapped_column(Text)
    file_unique_id: Mapped[str | None] = mapped_column(String(128))
    mime: Mapped[str | None] = mapped_column(String(128))
    size: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(255))
    added_by: Mapped[str] = mapped_column(String(16), default="citizen")
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="attachments")


class Reporter(Base):
    """Who reported a case, stored apart from it and encrypted; officers never see this.

    `reporter_key` is a keyed hash of (channel, user id) so a reporter's own cases can be found without
    decrypting anything; `identity` is a Fernet token of the chat address, name, phone and address.
    """

    __tablename__ = "reporters"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    reporter_key: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    named: Mapped[bool] = mapped_column(Boolean, default=False)
    identity: Mapped[str] = mapped_column(Text)  # Fernet token
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Append-only log of every action: who, when, what, before and after. Never updated or deleted."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_action_at", "action", "at"),)  # figures count actions by period

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(16))  # citizen | officer | admin | system
    actor_id: Mapped[str | None] = mapped_column(String(64))
    agency_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    reason: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(default=dict)
    public: Mapped[bool] = mapped_column(Boolean, default=False)  # shown on the citizen's timeline


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise PermissionError("audit events are append-only")


class OutboxMessage(Base):
    """A message to deliver, written in the same transaction as the change that caused it.

    `payload` is platform-neutral (text, options, media, edit target); `idempotency_key` makes a retried
    enqueue a no-op. The sender claims rows, delivers them and records the platform message id.

    A message to a person's own chat (a citizen, whoever talks to the bot privately) is `sealed`: the row
    holds its chat only as a keyed hash in `chat_id`, its idempotency key hashed, and the chat id, payload,
    case and agency only inside `sealed`; once delivered the row is deleted (a relayed question keeps a
    sealed note of its case, for the reply). Rows to agency groups and admins are kept readable.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64), index=True)  # a person's chat: its keyed hash
    kind: Mapped[str] = mapped_column(String(24))  # text | card | edit_card | media
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    agency_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column()
    message_id: Mapped[str | None] = mapped_column(String(64))  # the platform's id once accepted
    last_error: Mapped[str | None] = mapped_column(Text)
    sealed: Mapped[str | None] = mapped_column(Text)  # Fernet: {chat_id, payload, case_id, agency_id}


class CardMessage(Base):
    """Where a case card was posted, so it can be edited in place and replies to it relayed."""

    __tablename__ = "card_messages"
    __table_args__ = (UniqueConstraint("channel", "chat_id", "message_id", name="uq_card_messages_msg"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16), default="card")  # card | question | relay
    digest: Mapped[str | None] = mapped_column(String(64))  # of what it shows, to skip no-op edits
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PendingInput(Base):
    """A text the bot asked an officer for (a reason, a question, a result), awaited across restarts.

    One per officer per chat; the officer's reply to the bot's prompt completes the action.
    """

    __tablename__ = "pending_inputs"
    __table_args__ = (UniqueConstraint("channel", "chat_id", "user_id", name="uq_pending_inputs_officer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer)  # the case version the officer acted on
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Job(Base):
    """Time-based work (deadline reminders, escalations, meeting reminders) as claimable rows."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "status", "run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(48))
    run_at: Mapped[dt.datetime] = mapped_column()
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|running|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column()


class DigestLine(Base):
    """One line of an agency group's morning digest (a reminder, an overdue case, a long wait).

    Deadline jobs write lines; the digest job sends each group one message with its unsent lines and
    stamps them. `key` makes a line written twice (a job run again after a crash) count once.
    """

    __tablename__ = "digest_lines"
    __table_args__ = (Index("ix_digest_lines_unsent", "sent_at", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    agency_id: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(24))  # due_in | due_today | overdue | escalated | waiting
    stage: Mapped[str | None] = mapped_column(String(32))
    due_on: Mapped[dt.date | None] = mapped_column(Date)  # the deadline the line speaks of
    days: Mapped[int] = mapped_column(Integer, default=0)  # as written; the digest counts again
    day: Mapped[dt.date] = mapped_column(Date)  # the local working day the line is for
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column()


class Meeting(Base):
    """One review meeting (giao ban, sơ kết): an occurrence of a rules schedule, or called ad hoc.

    `scheduled_for` is the occurrence's date by its schedule (the key that keeps materialisation
    idempotent); `starts_at` is when it really takes place, moved by a reschedule, which bumps `version`
    so reminders and buttons of the old time are void.
    """

    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("schedule_id", "scheduled_for", name="uq_meetings_occurrence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[str] = mapped_column(String(64))  # a rules schedule id, or "adhoc-..."
    title: Mapped[str] = mapped_column(String(255))
    scheduled_for: Mapped[dt.date] = mapped_column(Date)
    agencies: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="planned")  # planned | held | cancelled
    agenda: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    starts_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    chair: Mapped[str | None] = mapped_column(String(64))
    place: Mapped[str | None] = mapped_column(Text)  # a room, or an online link
    items: Mapped[list[Any]] = mapped_column(default=list)  # agenda items added by hand
    remind_days_before: Mapped[list[Any]] = mapped_column(default=list)
    period_from: Mapped[dt.date | None] = mapped_column(Date)  # the agenda's figures start here
    agenda_at: Mapped[dt.datetime | None] = mapped_column()  # when the agenda was last built
    reason: Mapped[str | None] = mapped_column(Text)  # why it was last rescheduled or cancelled
    created_by: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=0)


class MeetingAnswer(Base):
    """An agency's answer to a meeting invitation: who attends, or why it cannot."""

    __tablename__ = "meeting_answers"
    __table_args__ = (UniqueConstraint("meeting_id", "agency_id", name="uq_meeting_answers_agency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[str] = mapped_column(String(64))
    attends: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text)  # names and titles, or the reason for absence
    by_user: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Decision(Base):
    """A decision of a meeting, owned by an agency and followed up until it is closed."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner_agency_id: Mapped[str] = mapped_column(String(64), index=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    result: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column()


class SecretariatInput(Base):
    """A text the bot asked for in a group about a meeting (a dialogue step, a reason, names, a result).

    One per person per chat; the person's reply to the bot's prompt completes the step.
    """

    __tablename__ = "secretariat_inputs"
    __table_args__ = (
        UniqueConstraint("channel", "chat_id", "user_id", name="uq_secretariat_inputs_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    agency_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ChatUser(Base):
    """A person talking to the bot on a channel: language and delivery state, nothing identifying.

    `user_key` is the keyed hash of the user id (`Privacy.chat_key`), never the id itself."""

    __tablename__ = "chat_users"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    blocked_at: Mapped[dt.datetime | None] = mapped_column()  # the user blocked the bot
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DialogState(Base):
    """The intake dialogue of one user on one channel; kept in the database so restarts lose nothing.

    Keyed by the keyed hash of the user id (`Privacy.chat_key`); the chat it happens in is sealed."""

    __tablename__ = "dialog_states"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sealed_chat: Mapped[str | None] = mapped_column(Text)  # Fernet: the chat id, to write there
    state: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    history: Mapped[list[Any]] = mapped_column(default=list)  # previous states, for /back
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LookupFailure(Base):
    """A failed status look-up (wrong code or PIN), for throttling guessers: per requester, and per case
    when the code was right (so many accounts cannot share the guessing of one PIN)."""

    __tablename__ = "lookup_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_key: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Lease(Base):
    """A role only one instance may hold at a time (the outbox sender), until `until` unless renewed.

    An instance that dies stops renewing; once `until` has passed another instance takes the role."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    until: Mapped[dt.datetime] = mapped_column()
    since: Mapped[dt.datetime] = mapped_column()  # when this holder took the role


class WorkDay(Base):
    """A day of one working-day calendar with its running count of working days, so the figures can
    measure durations in working days inside SQL (ordinal of the end minus ordinal of the start).

    `calendar` names the calendar (timezone and provincial exceptions) the ordinals were counted in.
    """

    __tablename__ = "work_days"

    calendar: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer)  # working days from the calendar's anchor through `day`
