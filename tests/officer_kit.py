"""Test data for the officer side: bound agency groups, a routed case with its sent cards, and actors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from bot.core import Core
from bot.officer import Actor
from storage.models import (
    AgencyChat,
    Attachment,
    AuditEvent,
    CardMessage,
    Case,
    CaseAgency,
    OutboxMessage,
    Reporter,
)
from tests.sealed import all_rows, chat_key

CHANNELS = ("telegram", "zalo")
CHATS = {
    "noi-chinh": "-1001",
    "thanh-tra": "-1002",
    "ubkt": "-1003",
    "cong-an": "-1004",
    "vksnd": "-1005",
    "toa-an": "-1006",
    "mttq": "-1007",
    "bao": "-1008",
}  # nhnn stays unbound
CITIZEN = "7001"
IDENTITY = {"name": "Nguyễn Thị Mai", "phone": "0912345678", "address": "Số 8 phố Hạ Long, Bãi Cháy"}


def shown_text(payload: object) -> str:
    """Every text a payload carries, but a press's signature, whose hex may spell any digits."""
    if isinstance(payload, dict):
        return " ".join(shown_text(v) for k, v in payload.items() if k != "tag")
    if isinstance(payload, list | tuple):
        return " ".join(shown_text(v) for v in payload)
    return "" if payload is None else str(payload)


NOW = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)  # Monday 10:00 in Hanoi
TODAY = dt.date(2026, 3, 2)


async def bind_groups(core: Core) -> None:
    async with core.sessions() as session, session.begin():
        for agency_id, chat_id in CHATS.items():
            session.add(AgencyChat(agency_id=agency_id, channel="telegram", chat_id=chat_id, source="admin"))


_card_ids = iter(range(500, 10_000))


async def make_case(
    core: Core,
    *,
    kind: str = "denunciation",
    lead: str = "thanh-tra",
    cooperating: tuple[str, ...] = ("noi-chinh",),
    named: bool = True,
    code: str = "ABCD-EFGH",
    stage: str | None = "classify",
    due_on: dt.date | None = dt.date(2026, 3, 11),
    chat_id: str = CITIZEN,
    locale: str = "vi",
    files: int = 1,
    duplicate_of_id: int | None = None,
    channel: str = "telegram",
) -> Case:
    """A routed case as intake leaves it, with its cards already delivered to the groups."""
    async with core.sessions() as session, session.begin():
        case = Case(
            code=code,
            pin_hash="x",
            channel=channel,
            kind=kind,
            field="dat-dai",
            area="22",
            area_name="Phường Bãi Cháy, TP Hạ Long",
            subject="Cán bộ địa chính phường",
            summary="Thu tiền để cấp sổ đỏ nhanh",
            anonymous=not named,
            locale=locale,
            lead_agency_id=lead,
            received_on=TODAY,
            stage=stage,
            due_on=due_on,
            duplicate_of_id=duplicate_of_id,
            routing={"explanation": "Tố cáo cán bộ về đất đai: Thanh tra tỉnh chủ trì"},
        )
        case.agencies.append(CaseAgency(agency_id=lead, role="lead", reason="routing"))
        for agency_id in cooperating:
            case.agencies.append(CaseAgency(agency_id=agency_id, role="cooperating", reason="routing"))
        for n in range(files):
            case.attachments.append(Attachment(channel=channel, media="photo", file_id=f"photo-{n}"))
        session.add(case)
        await session.flush()
        identity: dict[str, Any] = {
            "channel": channel,
            "user_id": chat_id,
            "chat_id": chat_id,
            "name": None,
            "phone": None,
            "address": None,
        }
        if named:
            identity.update(IDENTITY)
        session.add(
            Reporter(
                case_id=case.id,
                reporter_key=core.privacy.key_for(channel, chat_id),
                channel=channel,
                named=named,
                identity=core.privacy.seal(identity),
            )
        )
        session.add(AuditEvent(case_id=case.id, actor_type="citizen", action="submitted", public=True))
        for agency_id in (lead, *cooperating):
            if agency_id in CHATS:
                session.add(
                    CardMessage(
                        case_id=case.id,
                        agency_id=agency_id,
                        channel="telegram",
                        chat_id=CHATS[agency_id],
                        message_id=str(next(_card_ids)),
                    )
                )
    return case


def officer(agency_id: str, user_id: str = "501", name: str = "Trần Văn Bình") -> Actor:
    return Actor(channel="telegram", chat_id=CHATS[agency_id], user_id=user_id, name=name)


async def load(core: Core, case_id: int) -> Case:
    async with core.sessions() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        return case


async def outbox(core: Core, *, chat_id: str | None = None, kind: str | None = None) -> list[OutboxMessage]:
    """The outbox, or one chat's rows (a group's by id, a person's by keyed hash), sealed rows opened."""
    where = []
    if chat_id is not None:
        where.append(OutboxMessage.chat_id.in_([chat_id, *(chat_key(core, chat_id, ch) for ch in CHANNELS)]))
    if kind is not None:
        where.append(OutboxMessage.kind == kind)
    return await all_rows(core, *where)


async def audit(core: Core, case_id: int) -> list[AuditEvent]:
    async with core.sessions() as session:
        return list(
            (
                await session.execute(
                    select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)
                )
            ).scalars()
        )


async def card_id(core: Core, case_id: int, agency_id: str) -> str:
    async with core.sessions() as session:
        return (
            (
                await session.execute(
                    select(CardMessage.message_id)
                    .where(CardMessage.case_id == case_id, CardMessage.agency_id == agency_id)
                    .order_by(CardMessage.id.desc())
                )
            )
            .scalars()
            .first()
        )


async def mark_sent(core: Core, row_id: int, message_id: str) -> None:
    """What the sender does once Telegram accepted a message: remember its id."""
    async with core.sessions() as session, session.begin():
        row = await session.get(OutboxMessage, row_id)
        assert row is not None
        row.status, row.message_id = "sent", message_id

