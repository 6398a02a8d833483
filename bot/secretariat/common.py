"""What every part of the secretariat shares: refusals, signed buttons, who may act, where to write.

Buttons on meeting messages carry `mt:<meeting>:<action[.arg]>:<version>:<tag>` (decisions: `dc:`),
signed for the agency whose group received them, so a press from another group or after a reschedule
(the version moved) is refused like a forged case button.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.agencies import agency_of_chat
from bot.agency_chats import chats_of_agencies
from bot.audit import record
from bot.core import Core
from bot.officer import Actor
from bot.outbox import enqueue
from bot.refusals import Refused
from storage.models import Meeting

TAG_CHARS = 10
MAX_DATA = 64
CHANNEL = "telegram"


class SecretariatRefused(Refused):
    """A secretariat action that must not happen."""


@dataclass(frozen=True)
class Reply:
    """What the adapter shows at once: a text, buttons as rows of (label, data), or a request to reply."""

    text: str
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)
    expects_answer: bool = False  # the adapter asks for a reply to this message (Telegram: ForceReply)


@dataclass(frozen=True)
class Press:
    prefix: str
    target: int
    action: str
    arg: str | None
    version: int


def _tag(core: Core, agency_id: str, body: str) -> str:
    return core.privacy.key_for("meeting-button", f"{agency_id}|{body}")[:TAG_CHARS]


def button(
    core: Core,
    agency_id: str,
    prefix: str,
    target: int,
    action: str,
    version: int = 0,
    arg: str | None = None,
) -> str:
    """Signed callback data of a secretariat button sent to `agency_id`'s group."""
    code = f"{action}.{arg}" if arg else action
    body = f"{prefix}:{target}:{code}:{version}"
    data = f"{body}:{_tag(core, agency_id, body)}"
    if len(data.encode()) > MAX_DATA:
        raise ValueError(f"callback data too long for Telegram: {data!r}")
    return data


def parse(core: Core, agency_id: str, data: str) -> Press | None:
    """The press in `data` if it was signed for `agency_id`; None when forged or malformed."""
    parts = data.split(":")
    if len(parts) != 5 or parts[0] not in ("mt", "dc"):
        return None
    body, tag = ":".join(parts[:4]), parts[4]
    if not hmac.compare_digest(tag, _tag(core, agency_id, body)):
        return None
    try:
        target, version = int(parts[1]), int(parts[3])
    except ValueError:
        return None
    action, _, arg = parts[2].partition(".")
    return Press(parts[0], target, action, arg or None, version)


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


async def groups(session: AsyncSession, agency_ids: list[str]) -> dict[str, str]:
    """The bound group chat of each agency that has one."""
    chats = await chats_of_agencies(session, agency_ids, channel=CHANNEL)
    return {agency_id: chat.chat_id for agency_id, chat in chats.items()}


def local(core: Core, moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(core.calendar.timezone)


def fmt_when(core: Core, moment: dt.datetime | None) -> str:
    """A moment as readers here write it: 08:00 18/06/2026 (local time)."""
    if moment is None:
        return "—"
    return local(core, moment).strftime("%H:%M %d/%m/%Y")


async def send(
    session: AsyncSession,
    chat_id: str,
    text: str,
    key: str,
    *,
    agency_id: str | None = None,
    buttons: list[list[dict[str, str]]] | None = None,
) -> None:
    """Queue a text to a group in the caller's transaction (once per key)."""
    payload: dict[str, Any] = {"text": text}
    if buttons:
        payload["buttons"] = buttons
    await enqueue(
        session, channel=CHANNEL, chat_id=chat_id, kind="text", payload=payload, key=key, agency_id=agency_id
    )


async def send_file(
    session: AsyncSession,
    chat_id: str,
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
        session, channel=CHANNEL, chat_id=chat_id, kind="file", payload=payload, key=key, agency_id=agency_id
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
