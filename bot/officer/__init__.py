"""The case lifecycle as officers drive it from their agency's group.

An action runs one way, as production runs it: a press of a signed button (`press`), and for an action that
needs a text, the officer's reply to the bot's prompt (`submit_input`). Each is one function: permission
check, state change, audit event and every message it causes (card edits for each holding agency, a
confirmation in the acting group, the citizen's notification) in one transaction. A reply under a card
is a question (from the lead) or a comment, run the same way. A refusal raises `ActionRefused` with a
locale key and changes nothing; adapters only translate it.

Modules: `permissions` (who may act), `lifecycle` (stages and the change every action ends with), `messages`
(cards and notices), `actions` (one function an action), `prompts` (buttons and typed reasons), `queries`
(/case, /cases, replies under a card).
"""

from bot.officer.lifecycle import current_stage
from bot.officer.messages import card_message_id, notify_citizen, refresh_cards, reporter_chat, to_group
from bot.officer.permissions import INVESTIGATORS, LEAD_ONLY, PROSECUTORS, ActionRefused, Actor, Outcome
from bot.officer.prompts import has_pending, press, submit_input
from bot.officer.queries import card_of_message, officer_reply, open_cases, reply_to_card, show_case

__all__ = [
    "INVESTIGATORS", "LEAD_ONLY", "PROSECUTORS", "ActionRefused", "Actor", "Outcome", "card_message_id",
    "card_of_message", "current_stage", "has_pending", "notify_citizen", "officer_reply", "open_cases",
    "press", "refresh_cards", "reply_to_card", "reporter_chat", "show_case", "submit_input", "to_group",
]
