"""The wire format of signed buttons on Telegram: `<kind>:<target>:<action[.arg]>:<version>:<tag>`.

The core signs a `bot.presses.Press`; here it becomes callback data (at most 64 bytes, Telegram's limit,
which aiogram's `CallbackData.pack` enforces) and callback data becomes a press again. The format is the
one the first versions wrote, so buttons already under messages in groups keep working.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot import presses


class _Signed(CallbackData, prefix="signed"):
    target: int
    code: str  # the action, with its argument after a dot
    version: int
    tag: str


class CaseButton(_Signed, prefix=presses.CASE):
    """A case card's button (or a picker's under it)."""


class MeetingButton(_Signed, prefix=presses.MEETING):
    """A meeting message's button."""


class DecisionButton(_Signed, prefix=presses.DECISION):
    """A decision reminder's button."""


_KINDS: dict[str, type[_Signed]] = {
    presses.CASE: CaseButton,
    presses.MEETING: MeetingButton,
    presses.DECISION: DecisionButton,
}


def pack(press: presses.Press) -> str:
    """Callback data of a signed press; ValueError if it would not fit Telegram's 64 bytes."""
    button = _KINDS[press.kind](target=press.target, code=press.code, version=press.version, tag=press.tag)
    return button.pack()


def unpack(data: str | None) -> presses.Press | None:
    """The press in callback data, or None when it is not one of ours or is malformed."""
    kind = (data or "").partition(":")[0]
    if kind not in _KINDS or data is None:
        return None
    try:
        button = _KINDS[kind].unpack(data)
    except (TypeError, ValueError):
        return None
    action, _, arg = button.code.partition(".")
    return presses.Press(kind, button.target, action, arg or None, button.version, button.tag)
