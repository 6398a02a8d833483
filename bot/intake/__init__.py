"""The intake dialogue: a platform-neutral state machine a citizen talks to, step by step or in free text.

`dialogue` runs one update (`Intake.handle`); `events` are what adapters hand in and get back; `state`
holds the steps and the per-update context; `prompts`, `steps`, `filing` and `lookup` are the parts of
the dialogue, mixed into `Intake`.
"""

from bot.intake.dialogue import Intake
from bot.intake.events import (
    EDITED,
    FILE_UNAVAILABLE,
    Attachment,
    Choice,
    Command,
    Event,
    Option,
    Other,
    Reply,
    Text,
    reply_payload,
)
from bot.intake.state import IDLE, STEPS, UNLOCK_TTL, normalize_phone

__all__ = [
    "EDITED", "FILE_UNAVAILABLE", "IDLE", "STEPS", "UNLOCK_TTL", "Attachment", "Choice", "Command", "Event",
    "Intake", "Option", "Other", "Reply", "Text", "normalize_phone", "reply_payload",
]
