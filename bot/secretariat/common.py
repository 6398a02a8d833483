"""What every part of the secretariat shares: refusals, signed buttons, who may act, where to write.

Buttons on meeting and decision messages carry presses (`bot.presses`) signed for the agency whose group
received them, so a press from another group or after a reschedule (the version moved) is refused like a
forged case button.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.agencies import agency_of_chat
from bot.audit import record
from bot.core import Core
from bot.delivery.outbox import enqueue
from bot.officer import Actor
from bot.presses import Press
from bot.refusals import Refused
from storage.models import AgencyChat, Meeting


class SecretariatRefused(Refused):
    """A secretariat action that must not happen."""


@dataclass(frozen=True)
class Reply:
    """What the adapter shows at once: a text, buttons as rows of (label, signed press), or a request to
    reply."""

    text: str
    buttons: list[list[tuple[str, Press]]] = field(default_factory=list)
    expects_answer: bool = False  # the adapter asks for a reply to this message (Telegram: ForceReply)


def secretariat_id(core: Core) -> str:
    """The agency that runs the meetings (`secretariat: true` in the rules), else the first agency."""
    for agency in core.rules.agencies:
        if agency.secretariat:
            return agency.id
    return core.rules.agencies[0].id


def agency_name(core: Core, agency_id: str, locale: str = "vi", short: bool = True) -> str:
    try:
        spec = core.rules.agency(agency_id)
    except KeyError:
        return agency_id
    text = spec.short if short and spec.short else spec.name
    return text.get(locale)


async def acting_agency(session: AsyncSession, actor: Actor) -> str:
    """The agency the actor's group is bound to; refused outside a bound group."""
    agency_id = await agency_of_chat(session, actor.channel, actor.chat_id)
    if agency_id is None:
        raise SecretariatRefused("secretariat.refused.unbound")
    return agency_id


def may_manage(core: Core, meeting: Meeting | None, agency_id: str) -> bool:
    """The secretariat manages every meeting; a meeting's chair manages its own."""
    return agency_id == secretariat_id(core) or (meeting is not None and meeting.chair == agency_id)


def local(core: Core, moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(core.calendar.timezone)


def fmt_when(core: Core, moment: dt.datetime | None) -> str:
    """A moment as readers here write it: 08:00 18/06/2026 (local time)."""
    if moment is None:
        return "—"
    return local(core, moment).strftime("%H:%M %d/%m/%Y")


async def send(
    session: AsyncSession,
    chat: AgencyChat,
    text: str,
    key: str,
    *,
    agency_id: str | None = None,
    buttons: list[list[dict[str, Any]]] | None = None,
) -> None:
    """Queue a text to a group in the caller's transaction (once per key)."""
    payload: dict[str, Any] = {"text": text}
    if buttons:
        payload["buttons"] = buttons
    await enqueue(
        session, channel=chat.channel, chat_id=chat.chat_id, kind="text", payload=payload, key=key,
        agency_id=agency_id,
    )


async def send_file(
    session: AsyncSession,
    chat: AgencyChat,
    name: str,
    data: bytes,
    caption: str,
    key: str,
    *,
    agency_id: str | None = None,
) -> None:
    """Queue a generated document (agenda, invitation) to a group."""
    import base64

    payload = {"name": name, "data": base64.b64encode(data).decode(), "caption": caption}
    await enqueue(
        session, channel=chat.channel, chat_id=chat.chat_id, kind="file", payload=payload, key=key,
        agency_id=agency_id,
    )


def audit(
    session: AsyncSession,
    action: str,
    meeting: Meeting | None,
    *,
    actor: Actor | None = None,
    agency_id: str | None = None,
    reason: str | None = None,
    **after: Any,
) -> None:
    """One audit event for a secretariat action (meetings have no case: the ids go in `after`)."""
    details: dict[str, Any] = {"meeting_id": meeting.id if meeting else None, **after}
    record(
        session,
        action,
        actor_type="officer" if actor else "system",
        actor_id=actor.user_id if actor else None,
        agency_id=agency_id,
        reason=reason,
        after={k: v for k, v in details.items() if v is not None},
    )
