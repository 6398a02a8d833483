"""The case card an agency group sees: platform-neutral text and action buttons. Never the reporter.

The card carries only what the agency needs to act (Luật Tố cáo 2018 Điều 47-48: the reporter's identity
stays sealed in `Reporter`); buttons carry signed presses (`bot.presses`) so a forged or replayed press is
refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import inspect
from sqlalchemy.orm import object_session
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.util import identity_key

from bot import presses, quoting
from bot import status as st
from bot.core import Core
from bot.deadlines import stage_of
from bot.i18n import catalog, fmt_date, t
from storage.models import Case

# Button action codes (short: they travel in callback data).
ACCEPT, ASK, TRANSFER, COOPERATE, EXTEND, WATCH, REFER, REJECT, RESOLVE, COMMENT = (
    "acc",
    "ask",
    "tr",
    "co",
    "ext",
    "w",
    "inv",
    "rj",
    "res",
    "cm",
)
LINK, MERGE, DIFFERENT = "lk", "mg", "nd"  # with the other case's id as argument
REJECT_REASONS = ("not_competent", "anonymous", "duplicate", "insufficient")


def signed(
    core: Core, agency_id: str, case_id: int, version: int, action: str, arg: str | None = None
) -> presses.Press:
    """The press of one button of `agency_id`'s card, signed for that agency, so it cannot be replayed
    in another group or after the case has changed."""
    return presses.sign(core, agency_id, presses.CASE, case_id, action, version, arg)


def verified(core: Core, agency_id: str, press: presses.Press | None) -> presses.Press | None:
    """`press` if it is a case button signed for `agency_id`; None when forged or foreign."""
    return presses.verified(core, agency_id, press, (presses.CASE,))


def agency_name(core: Core, agency_id: str, locale: str = "vi") -> str:
    try:
        return core.rules.agency(agency_id).name.get(locale)
    except KeyError:
        return agency_id


def _loaded(case: Case, name: str) -> Any:
    """A relationship's value if already loaded; never triggers I/O (cards render inside transactions)."""
    value = inspect(case).attrs[name].loaded_value
    return None if value is NO_VALUE else value


def holders(case: Case) -> list[tuple[str, str]]:
    """(agency id, role) of every agency holding the case, lead first."""
    rows = _loaded(case, "agencies")
    if rows is None:
        coop = [a for a in case.routing.get("cooperating", []) if a != case.lead_agency_id]
        return [(case.lead_agency_id, st.LEAD), *((a, st.COOPERATING) for a in coop)]
    order = {st.LEAD: 0, st.COOPERATING: 1, st.FORMER: 2}
    return sorted(((a.agency_id, a.role) for a in rows), key=lambda pair: order.get(pair[1], 3))


def _duplicate_code(case: Case) -> str | None:
    """The code of the case this one may duplicate, if that case is already in the session."""
    if case.duplicate_of_id is None:
        return None
    session = object_session(case)
    if session is not None:
        other = session.identity_map.get(identity_key(Case, case.duplicate_of_id))
        if other is not None:
            return other.code
    return f"#{case.duplicate_of_id}"


def stage_name(core: Core, case: Case, locale: str) -> tuple[str, str | None]:
    """The name and legal basis of the stage a case is in, from the case's own deadline policy."""
    found = stage_of(core.rules, case.kind, case.received_on, case.rule_id, case.stage)
    if found is None:
        return case.stage or "", None
    stage, policy = found
    return stage.name.get(locale), stage.basis or policy.basis


def _explanation(case: Case, locale: str) -> str | None:
    """Why the case was routed here, on one line: it quotes the citizen's words that matched, and a line
    break among them must not start a line of its own."""
    value = case.routing.get("explanation")
    if isinstance(value, dict):
        value = value.get(locale) or value.get("vi")
    return " ".join(value.split()) if isinstance(value, str) else None


def card_text(
    core: Core, case: Case, agency_id: str, role: str, locale: str = "vi", duplicate_code: str | None = None,
    *, files_follow: bool = True,
) -> str:
    """The card as one plain text (the citizen's words behind `quoting.MARK`)."""
    return quoting.plain(card_blocks(core, case, agency_id, role, locale, duplicate_code,
                                     files_follow=files_follow))


def _follower_codes(case: Case) -> list[str]:
    """The cases linked to this one (it is their primary) that the session has loaded: an action on the
    primary loads its followers to move them along, so a card refreshed then lists them all."""
    session = object_session(case)
    if session is None:
        return []
    found = [c for c in session.identity_map.values()
             if isinstance(c, Case) and c.duplicate_of_id == case.id and c.id != case.id]
    return sorted(c.code for c in found)


def card_blocks(
    core: Core, case: Case, agency_id: str, role: str, locale: str = "vi", duplicate_code: str | None = None,
    *, files_follow: bool = True,
) -> list[quoting.Block]:
    """The card for one holding agency: what it needs to act, and nothing about the reporter. The bot's
    fields come first and the citizen's words last, quoted, so no line a citizen writes can precede or
    pass for one of the bot's fields."""
    lines = _fields(core, case, role, locale, files_follow)
    dup = duplicate_code or _duplicate_code(case)
    if dup:
        key = "duplicates.card.merged" if case.status == st.MERGED else "duplicates.card.linked"
        lines.append(t(key, locale, code=dup))
    followers = _follower_codes(case)
    if followers:
        lines.append(t("duplicates.card.followers", locale, codes=", ".join(followers)))
    lines += _likely_lines(case, locale)
    if case.assignee:
        lines.append(t("officer.card.assignee", locale, name=case.assignee, on=fmt_date(case.accepted_on)))
    if case.watched:
        lines.append(t("officer.card.watched", locale))
    if case.result and not case.is_open:
        lines.append(t("officer.card.result", locale, result=case.result))
    return [quoting.Block("\n".join(lines)), *_citizen_words(case, locale)]


def _fields(core: Core, case: Case, role: str, locale: str, files_follow: bool) -> list[str]:
    """The case's own fields, from the title to the deadline."""
    lines = [t("officer.card.title", locale, code=case.code, kind=t(f"kind.{case.kind}", locale))]
    if role == st.COOPERATING:
        lines.append(
            t("officer.card.cooperating_mark", locale, lead=agency_name(core, case.lead_agency_id, locale))
        )
    if role == st.FORMER:
        lines.append(t("officer.card.moved", locale, lead=agency_name(core, case.lead_agency_id, locale)))
    lines.append(t("officer.card.status", locale, status=t(f"status.{case.status}", locale)))
    if case.field:
        try:
            field = core.rules.field(case.field).name.get(locale)
        except KeyError:
            field = case.field
        lines.append(t("officer.card.field", locale, field=field))
    if case.area_name or case.area:
        lines.append(t("officer.card.place", locale, place=case.area_name or case.area))
    files = _loaded(case, "attachments")
    if files:
        key = "officer.card.evidence" if files_follow else "officer.card.evidence_on_card"
        lines.append(t(key, locale, count=len(files)))
    lines.append(
        t("officer.card.identity_sealed" if not case.anonymous else "officer.card.anonymous", locale)
    )
    explanation = _explanation(case, locale)
    moves = case.routing.get("moves") or []
    if explanation:
        key = "officer.card.routing_first" if moves else "officer.card.routing"
        lines.append(t(key, locale, explanation=explanation))
    for move in moves:
        on = fmt_date(dt.date.fromisoformat(move["on"]))
        lines.append(t("officer.card.transferred", locale, old=agency_name(core, move["from"], locale),
                       new=agency_name(core, move["to"], locale), on=on, reason=move.get("reason") or "—"))
    lines.append(t("officer.card.lead", locale, lead=agency_name(core, case.lead_agency_id, locale)))
    coop = [agency_name(core, a, locale) for a, r in holders(case) if r == st.COOPERATING]
    if coop:
        lines.append(t("officer.card.cooperating", locale, agencies=", ".join(coop)))
    if case.due_on and case.is_open:
        name, basis = stage_name(core, case, locale)
        key = "officer.card.deadline_paused" if case.paused_at else "officer.card.deadline"
        lines.append(t(key, locale, stage=name, due=fmt_date(case.due_on), basis=basis or "—"))
    if case.extensions:
        lines.append(t("officer.card.extensions", locale, count=case.extensions))
    return lines


def _citizen_words(case: Case, locale: str) -> list[quoting.Block]:
    """What the citizen wrote (who, when, what happened), each under the bot's own label, quoted."""
    out = [quoting.Block(t("officer.card.words", locale))]
    for key, value in (("subject", case.subject), ("occurred", case.occurred), ("summary", case.summary)):
        if value and value.strip():
            out += [quoting.Block(t(f"officer.card.{key}", locale)), quoting.quote(value)]
    return out


def _likely(case: Case) -> list[dict[str, Any]]:
    """The likely duplicates found when the case came in, without the one it is already linked to."""
    return [d for d in case.likely_duplicates or [] if d.get("id") != case.duplicate_of_id]


def _why(item: dict[str, Any], locale: str) -> str:
    reasons = []
    for evidence in item.get("evidence", []):
        name, _, value = str(evidence).partition(" ")
        if name == "text":
            reasons.append(t("duplicates.why.text", locale, score=value))
        elif value == "same":
            reasons.append(t(f"duplicates.why.{name}", locale))
        elif value == "differs":
            reasons.append(t(f"duplicates.differs.{name}", locale))
    return ", ".join(reasons)


def _likely_lines(case: Case, locale: str) -> list[str]:
    likely = _likely(case) if case.is_open else []
    if not likely:
        return []
    return [t("duplicates.card.likely_title", locale)] + [
        t("duplicates.card.likely", locale, code=d["code"], score=d["score"], why=_why(d, locale))
        for d in likely
    ]


def _lead_buttons(core: Core, case: Case, agency_id: str, locale: str) -> list[tuple[str, str]]:
    status = case.status
    actions: list[str] = []
    if status == st.NEW:
        actions.append(ACCEPT)
    actions += [ASK, TRANSFER, COOPERATE]
    if status in (st.ACCEPTED, st.INVESTIGATING) and case.due_on:
        actions.append(EXTEND)
    actions.append(WATCH)
    if status != st.INVESTIGATING:
        actions.append(REFER)
    if case.accepted_on is None:
        actions.append(REJECT)
    if status in (st.ACCEPTED, st.INVESTIGATING):
        actions.append(RESOLVE)
    actions.append(COMMENT)
    return [(action, _label(action, case, locale)) for action in actions]


def _label(action: str, case: Case, locale: str) -> str:
    if action == WATCH:
        return t("officer.button.unwatch" if case.watched else "officer.button.watch", locale)
    return t(f"officer.button.{action}", locale)


def buttons(
    core: Core, case: Case, agency_id: str, role: str, locale: str = "vi"
) -> list[list[dict[str, Any]]]:
    """The card's buttons, two a row; a closed case or a former holder gets none."""
    if not case.is_open or role == st.FORMER:
        return []
    version = case.version or 1
    if role == st.LEAD:
        pairs = _lead_buttons(core, case, agency_id, locale)
    else:
        pairs = [(COMMENT, _label(COMMENT, case, locale))]
        if _may_watch(core, agency_id):
            pairs.insert(0, (WATCH, _label(WATCH, case, locale)))
    flat = [
        presses.button(label, signed(core, agency_id, case.id, version, action)) for action, label in pairs
    ]
    rows = [flat[i : i + 2] for i in range(0, len(flat), 2)]
    if role == st.LEAD:
        for item in _likely(case):
            rows.append(
                [
                    presses.button(
                        t(f"duplicates.button.{action}", locale, code=item["code"]),
                        signed(core, agency_id, case.id, version, action, str(item["id"])),
                    )
                    for action in (LINK, MERGE, DIFFERENT)
                ]
            )
    return rows


def _may_watch(core: Core, agency_id: str) -> bool:
    try:
        return core.rules.agency(agency_id).secretariat
    except KeyError:
        return False


def card_payload(
    core: Core,
    case: Case,
    agency_id: str,
    role: str,
    locale: str = "vi",
    *,
    duplicate_code: str | None = None,
) -> dict[str, Any]:
    """The outbox payload ({"text", "blocks", "buttons"}) of the card for `agency_id` holding `case` as
    `role`."""
    blocks = card_blocks(core, case, agency_id, role, locale, duplicate_code)
    return {**quoting.payload(blocks), "buttons": buttons(core, case, agency_id, role, locale)}


def picker(
    core: Core, case: Case, agency_id: str, action: str, options: list[tuple[str, str]]
) -> list[list[dict[str, Any]]]:
    """Buttons to pick an argument for an action (a target agency, a reason), one a row."""
    version = case.version or 1
    return [
        [presses.button(label, signed(core, agency_id, case.id, version, action, arg))]
        for arg, label in options
    ]


def timeline_blocks(core: Core, case: Case, events: list[Any], locale: str = "vi") -> list[quoting.Block]:
    """The audit trail of a case for officers: when, which agency, what and why; what the citizen wrote
    (an answer) quoted. Officers' ids stay out."""
    zone = ZoneInfo(core.settings.timezone)
    blocks: list[quoting.Block] = []
    lines = [t("officer.case.timeline", locale)]
    for event in events:
        key = f"officer.event.{event.action}"
        action = t(key, locale) if key in catalog("vi") else event.action
        who = (
            agency_name(core, event.agency_id, locale)
            if event.agency_id
            else t(f"officer.actor.{event.actor_type}", locale)
        )
        line = f"• {event.at.astimezone(zone):%d/%m/%Y %H:%M} — {action} ({who})"
        if event.reason and event.actor_type == "citizen":
            blocks += [quoting.Block("\n".join([*lines, line + ":"])), quoting.quote(event.reason)]
            lines = []
            continue
        if event.reason:
            line += f": {event.reason}"
        lines.append(line)
    if lines:
        blocks.append(quoting.Block("\n".join(lines)))
    return blocks


def open_cases_text(core: Core, cases: list[Case], agency_id: str, today: dt.date, locale: str = "vi") -> str:
    """An agency's open cases by deadline, overdue first."""
    if not cases:
        return t("officer.cases.none", locale)
    lines = [t("officer.cases.title", locale, agency=agency_name(core, agency_id, locale), count=len(cases))]
    for case in cases:
        role = next((r for a, r in holders(case) if a == agency_id), st.LEAD)
        overdue = case.due_on is not None and case.due_on < today and case.paused_at is None
        key = "officer.cases.line_overdue" if overdue else "officer.cases.line"
        lines.append(
            t(
                key,
                locale,
                code=case.code,
                kind=t(f"kind.{case.kind}", locale),
                status=t(f"status.{case.status}", locale),
                due=fmt_date(case.due_on),
                role=t(f"role.{role}", locale),
            )
        )
    return "\n".join(lines)
