"""The case lifecycle as officers drive it from their agency's group.

Every action is one function: permission check, state change, audit event and every message it causes
(card edits for each holding agency, a confirmation in the acting group, the citizen's notification) in
one transaction. A refusal raises `ActionRefused` with a locale key and changes
nothing; adapters only translate it.

Modules: `permissions` (who may act), `lifecycle` (stages and the one way an action runs), `messages`
(cards and notices), `actions` (one function an action), `prompts` (buttons and typed reasons), `queries`
(/case, /cases, replies under a card).
"""

from bot.officer.actions import (
    accept,
    add_cooperating,
    comment,
    extend,
    refer_to_investigators,
    reject,
    request_info,
    resolve,
    transfer,
    watch,
)
from bot.officer.lifecycle import current_stage
from bot.officer.messages import card_message_id, notify_citizen, refresh_cards, reporter_chat, to_group
from bot.officer.permissions import INVESTIGATORS, LEAD_ONLY, PROSECUTORS, ActionRefused, Actor, Outcome
from bot.officer.prompts import has_pending, press, submit_input
from bot.officer.queries import card_of_message, officer_reply, open_cases, reply_to_card, show_case

__all__ = [
    "INVESTIGATORS", "LEAD_ONLY", "PROSECUTORS", "ActionRefused", "Actor", "Outcome", "accept",
    "add_cooperating", "card_message_id", "card_of_message", "comment", "current_stage", "extend",
    "has_pending", "notify_citizen", "officer_reply", "open_cases", "press", "refer_to_investigators",
    "refresh_cards", "reject", "reply_to_card", "reporter_chat", "request_info", "resolve", "show_case",
    "submit_input", "to_group", "transfer", "watch",
]
