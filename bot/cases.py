"""A citizen's cases: filing one, looking one up by code and PIN, listing one's own, adding to one.

Filing is one transaction: the case, the agencies holding it, the sealed reporter identity, the evidence,
the "submitted" audit event and every message it causes (cards and media for the bound agency groups).
The caller owns the session and its transaction, so the dialogue state changes in the same commit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import quoting
from bot import status as st
from bot.agency_chats import chats_of_agencies
from bot.audit import record
from bot.cards import agency_name, card_payload
from bot.core import Core
from bot.deadline_jobs import replan
from bot.deadlines import schedule
from bot.delivery.outbox import enqueue, enqueue_evidence
from bot.delivery.unreachable import tell_unreachable
from bot.duplicate_model import for_corpus
from bot.duplicates import Similar, find_likely, index_case, own_similar, report_text
from bot.dupscore import Report
from bot.evidence import Evidence
from bot.i18n import t
from bot.pin_guard import (
    Verdict,
    account_locked_until,
    dummy_hash,
    hold_account,
    hold_case,
    is_locked,
    is_reporter,
    matches,
    new_pin_hash,
    wrong_pin,
)
from bot.quoting import Block, quote
from bot.receipts import new_code, new_pin, normalize_code
from bot.routing import RoutingDecision, route
from bot.status import CLOSED
from storage.models import AgencyChat, Attachment, AuditEvent, Case, CaseAgency, LookupFailure, Reporter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Draft:
    """Everything the dialogue collected for one report."""

    kind: str
    summary: str
    field: str | None = None
    area: str | None = None
    area_name: str | None = None
    subject: str | None = None
    occurred: str | None = None
    files: tuple[Evidence, ...] = ()
    named: bool = False
    name: str | None = None
    phone: str | None = None
    address: str | None = None
    locale: str = "vi"
    lead: str | None = None  # the lead the citizen chose when the bot asked
    triage: bool = False  # the citizen could not say: `lead` is the rules' triage agency, which assigns

    @property
    def text(self) -> str:
        return report_text(self.subject, self.summary)


@dataclass(frozen=True)
class Citizen:
    """Who is talking to the bot, on which channel and in which chat."""

    channel: str
    user_id: str
    chat_id: str


@dataclass
class Filed:
    case: Case
    pin: str
    decision: RoutingDecision
    delivered_to: list[str] = field(default_factory=list)  # agencies with a bound group
    unbound: list[str] = field(default_factory=list)  # agencies with no group yet: an admin must bind one
    basis: str | None = None
    deadline_error: str | None = None  # the rules could not date the case; it was filed anyway


def reporter_key(core: Core, sender: Citizen) -> str:
    return core.privacy.key_for(sender.channel, sender.user_id)


async def own_similar_cases(
    session: AsyncSession, core: Core, sender: Citizen, draft: Draft
) -> list[Similar]:
    """The sender's own open cases telling the same incident (never anyone else's)."""
    report = Report(draft.text, draft.kind, draft.area_name)
    return await own_similar(session, report, reporter_key(core, sender), for_corpus(core.rules.corpus))




async def _unique_code(session: AsyncSession) -> str:
    while True:
        code = new_code()
        taken = (await session.execute(select(Case.id).where(Case.code == code))).first()
        if taken is None:
            return code


async def receipt_pin() -> tuple[str, str]:
    """A new receipt PIN and its hash (scrypt, tens of milliseconds in a worker thread): made before the
    filing's transaction opens, so that no connection, and no shared transaction, waits for it."""
    pin = new_pin()
    return pin, await new_pin_hash(pin)


def _routed(core: Core, draft: Draft) -> RoutingDecision:
    """The routing of a draft: the lead the citizen chose is taken; a case the citizen could not place
    goes to the triage agency alone, with the likeliest readings for it to choose from."""
    if draft.lead is None:
        return route(core.rules, draft.text, draft.kind)
    if not draft.triage:
        return route(core.rules, draft.text, draft.kind, lead=draft.lead)
    decision = route(core.rules, draft.text, draft.kind)
    rules = core.rules
    options = ", ".join(rules.agency(a).name.vi for a in (decision.ask or [decision.lead]))
    triage = rules.agency(draft.lead).name.vi
    explanation = (f"Công dân chưa rõ loại việc: {triage} phân loại và giao cơ quan chủ trì "
                   f"(nút «Chuyển đơn»); khả năng cao nhất: {options}.")
    return dataclasses.replace(decision, lead=draft.lead, cooperating=[], added=[], explanation=explanation,
                               triage=True)


async def submit(
    session: AsyncSession, core: Core, sender: Citizen, draft: Draft, *, duplicate_of_id: int | None = None,
    pin: tuple[str, str] | None = None,
) -> Filed:
    """Store and route a report; queue its cards and evidence for the agency groups. No commit here.
    `pin` is the receipt's PIN and hash if made beforehand (`receipt_pin`)."""
    decision = _routed(core, draft)
    received = core.calendar.today(core.clock.now())
    try:
        stages = schedule(core.rules, draft.kind, received, core.calendar, rule_id=decision.rule)
        deadline_error = None
    except Exception as exc:
        log.exception("no deadline for a %s received %s", draft.kind, received)
        stages, deadline_error = [], f"{exc.__class__.__name__}: {exc}"
    first = stages[0] if stages else None
    pin, pin_hash = pin or await receipt_pin()
    case = Case(
        code=await _unique_code(session),
        pin_hash=pin_hash,
        channel=sender.channel,
        kind=draft.kind,
        field=draft.field or decision.field,
        area=draft.area,
        area_name=draft.area_name,
        subject=draft.subject,
        summary=draft.summary,
        occurred=draft.occurred,
        anonymous=not draft.named,
        locale=draft.locale,
        lead_agency_id=decision.lead,
        rule_id=decision.rule,
        routing=decision.to_json(),
        received_on=received,
        duplicate_of_id=duplicate_of_id,
        stage=first.stage if first else None,
        due_on=first.due if first else None,
    )
    reasons = {a.agency: a.reason for a in decision.added}
    case.agencies.append(CaseAgency(agency_id=decision.lead, role=st.LEAD, reason=decision.explanation))
    for agency_id in dict.fromkeys(decision.cooperating):
        if agency_id != decision.lead:
            case.agencies.append(
                CaseAgency(
                    agency_id=agency_id,
                    role=st.COOPERATING,
                    reason=reasons.get(agency_id, decision.explanation),
                )
            )
    for item in draft.files:
        case.attachments.append(
            Attachment(channel=sender.channel, added_by="citizen", **_attachment_fields(item))
        )
    likely = await find_likely(session, Report(draft.text, draft.kind, draft.area_name),
                               model=for_corpus(core.rules.corpus))
    case.likely_duplicates = [s.to_json() for s in likely if s.case_id != duplicate_of_id]
    session.add(case)
    await session.flush()
    await session.refresh(case)
    await index_case(session, case)
    await replan(session, core, case)
    duplicate_code = None
    if duplicate_of_id is not None:
        duplicate_code = (
            await session.execute(select(Case.code).where(Case.id == duplicate_of_id))
        ).scalar_one()
    identity = {
        "channel": sender.channel,
        "user_id": sender.user_id,
        "chat_id": sender.chat_id,
        "name": draft.name if draft.named else None,
        "phone": draft.phone if draft.named else None,
        "address": draft.address if draft.named else None,
    }
    session.add(
        Reporter(
            case_id=case.id,
            reporter_key=reporter_key(core, sender),
            channel=sender.channel,
            named=draft.named,
            identity=core.privacy.seal(identity),
        )
    )
    holders = [(a.agency_id, a.role) for a in case.agencies]
    chats = await chats_of_agencies(session, [a for a, _ in holders], working=True)
    unbound = [a for a, _ in holders if a not in chats]
    record(
        session,
        "submitted",
        case_id=case.id,
        actor_type="citizen",
        public=True,
        after={
            "kind": case.kind,
            "lead": decision.lead,
            "cooperating": case.cooperating_ids,
            "rule": decision.rule,
            "duplicate_of": duplicate_of_id,
            "files": len(draft.files),
            "unbound_agencies": unbound,
        },
    )
    if deadline_error is not None:
        await deadline_unknown(session, core, case, deadline_error)
    if unbound:
        record(
            session,
            "delivery_unbound",
            case_id=case.id,
            reason=", ".join(agency_name(core, a) for a in unbound),
            after={"agencies": unbound},
        )
    for agency_id, role in holders:
        chat = chats.get(agency_id)
        if chat is None:
            continue
        channel, chat_id = chat.channel, chat.chat_id
        await enqueue(
            session,
            channel=channel,
            chat_id=chat_id,
            kind="card",
            payload=card_payload(core, case, agency_id, role, "vi", duplicate_code=duplicate_code),
            key=f"card:{case.id}:{agency_id}",
            case_id=case.id,
            agency_id=agency_id,
        )
        await enqueue_evidence(
            session,
            channel=channel,
            chat_id=chat_id,
            files=((a.media, a.file_id) for a in case.attachments),
            caption=case.code,
            key=f"media:{case.id}:{agency_id}",
            case_id=case.id,
            agency_id=agency_id,
        )
    for agency_id in unbound:  # after the cards, so an alert never holds a card back in a shared group
        failed = await session.scalar(select(AgencyChat.id).where(AgencyChat.agency_id == agency_id))
        await tell_unreachable(session, core, agency_id, why="removed" if failed else "unbound",
                               key=f"unreachable:{agency_id}:case:{case.id}")
    return Filed(
        case=case,
        pin=pin,
        decision=decision,
        delivered_to=[a for a, _ in holders if a in chats],
        unbound=unbound,
        basis=first.basis if first else None,
        deadline_error=deadline_error,
    )


async def deadline_unknown(session: AsyncSession, core: Core, case: Case, error: str) -> None:
    """The rules could not date this case: keep it, audit why, and tell the admins to fix the rules."""
    record(session, "deadline_unknown", case_id=case.id, reason=error[:500])
    for admin in core.settings.admin_ids:
        await enqueue(session, channel="telegram", chat_id=admin, kind="text",
                      payload={"text": t("privacy.rules_error.admin", "vi", code=case.code, kind=case.kind,
                                         error=error[:300])},
                      key=f"deadline-unknown:{case.id}:{admin}")




def _attachment_fields(item: Evidence) -> dict[str, Any]:
    return {
        "media": item.media,
        "file_id": item.file_id,
        "file_unique_id": item.file_unique_id,
        "mime": item.mime,
        "size": item.size,
        "name": (item.name or None) and item.name[:255],
    }


async def cases_of(session: AsyncSession, core: Core, sender: Citizen, limit: int = 20) -> list[Case]:
    """The reporter's own cases on this channel, newest first."""
    query = (
        select(Case)
        .join(Reporter, Reporter.case_id == Case.id)
        .where(Reporter.reporter_key == reporter_key(core, sender))
        .order_by(Case.id.desc())
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def set_reporter_locale(session: AsyncSession, core: Core, sender: Citizen, locale: str) -> None:
    """A citizen who switches language hears about each of their cases in it from then on: status
    notices are written long after the dialogue, in the case's language."""
    mine = select(Reporter.case_id).where(Reporter.reporter_key == reporter_key(core, sender))
    await session.execute(
        update(Case).where(Case.id.in_(mine)).values(locale=locale).execution_options(synchronize_session=False)
    )


async def owns(session: AsyncSession, core: Core, sender: Citizen, case_id: int) -> bool:
    found = (
        await session.execute(
            select(Reporter.id).where(
                Reporter.case_id == case_id, Reporter.reporter_key == reporter_key(core, sender)
            )
        )
    ).first()
    return found is not None


async def get_case(session: AsyncSession, case_id: int) -> Case | None:
    return await session.get(Case, case_id)


@dataclass
class Lookup:
    """The outcome of a look-up: `case` only when code and PIN matched; `throttled` when refused unseen."""

    case: Case | None = None
    throttled: dt.datetime | None = None  # the account is locked out of look-ups until then
    locked: bool = False  # the code is right but the case refuses look-ups after too many wrong PINs
    timeline: list[AuditEvent] = field(default_factory=list)


async def lookup(session: AsyncSession, core: Core, requester: Citizen, code_text: str, pin: str,
                 verdict: Verdict | None = None) -> Lookup:
    """Check a code and PIN; a wrong code and a wrong PIN look and take the same. Failures are counted,
    but not the reporter's own on their own case, which is never locked to them.

    `verdict` is the PIN already checked by `pin_guard.precheck` outside the transaction, when it was."""
    key = reporter_key(core, requester)
    now = core.clock.now()
    code = normalize_code(code_text)
    await hold_account(session, key)
    case = await hold_case(session, code)
    if case is not None and await is_reporter(session, case.id, key):
        if await matches(pin, code, case.pin_hash, verdict):
            return Lookup(case=case, timeline=await public_timeline(session, case.id))
        return Lookup()
    until = await account_locked_until(session, core, key)
    if until is not None:
        return Lookup(throttled=until)
    if case is not None and is_locked(case, now):
        session.add(LookupFailure(requester_key=key, at=now))
        return Lookup(locked=True)
    matched = await matches(pin, code, case.pin_hash if case is not None else await dummy_hash(), verdict)
    if case is None:
        session.add(LookupFailure(requester_key=key, at=now))
        return Lookup()
    if not matched:
        await wrong_pin(session, core, case, key)
        return Lookup()
    return Lookup(case=case, timeline=await public_timeline(session, case.id))


async def public_timeline(session: AsyncSession, case_id: int) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.case_id == case_id, AuditEvent.public.is_(True))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return list((await session.execute(query)).scalars())


def is_open(case: Case) -> bool:
    return case.status not in CLOSED


async def add_information(
    session: AsyncSession,
    core: Core,
    sender: Citizen,
    case: Case,
    text: str | None,
    files: tuple[Evidence, ...],
    *,
    heading: str,
) -> list[str]:
    """Add the citizen's text and files to an open case and queue them for its groups; the agencies reached.

    The groups read `heading` (the bot's line, already localised by the caller), then the text, quoted.
    """
    for item in files:
        case.attachments.append(
            Attachment(channel=sender.channel, added_by="citizen", **_attachment_fields(item))
        )
    event = record(
        session,
        "citizen_added_info",
        case_id=case.id,
        actor_type="citizen",
        public=True,
        after={"text": text, "files": len(files)},
    )
    case.updated_at = core.clock.now()
    await session.flush()
    holders = [a.agency_id for a in case.agencies if a.role in st.HOLDING]
    chats = await chats_of_agencies(session, holders, working=True)
    for agency_id in holders:
        chat = chats.get(agency_id)
        if chat is None:
            continue
        channel, chat_id = chat.channel, chat.chat_id
        if text:
            await enqueue(
                session,
                channel=channel,
                chat_id=chat_id,
                kind="text",
                payload=quoting.payload([Block(heading), quote(text)]),
                key=f"info:{event.id}:{agency_id}",
                case_id=case.id,
                agency_id=agency_id,
            )
        await enqueue_evidence(
            session,
            channel=channel,
            chat_id=chat_id,
            files=((f.media, f.file_id) for f in files),
            caption=case.code,
            key=f"infomedia:{event.id}:{agency_id}",
            case_id=case.id,
            agency_id=agency_id,
        )
    return [a for a in holders if a in chats]
