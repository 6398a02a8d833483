"""The dialogue's steps, limits and per-update context, and reading a numbered menu's answers."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases import Citizen
from bot.i18n import t
from bot.identity_input import phone_number
from bot.intake.events import (
    Choice,
    Event,
    Reply,
    Text,
)
from bot.pin_guard import Verdict
from bot.textnorm import fold
from storage.models import ChatUser, DialogState

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
    pin: tuple[str, str] | None = None  # a receipt PIN and its hash, made before the transaction opened
    newcomer: bool = False  # writing to the bot for the first time on this channel

    def tr(self, key: str, **params: Any) -> str:
        return t(key, self.locale, **params)

