"""The checks of meaning on rules whose shape is valid, each a problem with where it is in the file.

Ids are unique and known wherever named; every kind has a catch-all rule (one without `when_any`) so no
report is left without an agency; no rule, kind or word of a rule is taken first by an earlier rule; every
field lists at least one competent agency and one keyword; vocabulary, patterns and normalisation are
usable; dates and recurrence rules are valid, two deadline policies never apply to one kind on the same
day, targets are one kind each, within range, and a party document names the committee above its issuer.
`bot.rules.load_rules` runs them and turns each location into a line of the file.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dateutil.rrule import rrulestr

from bot.kinds import KINDS
from bot.rules import CHANNELS, MAX_DAYS, DeadlinePolicy, RoutingRule, Rules, expand, word_key
from bot.textnorm import fold

Problem = tuple[tuple[str | int, ...], str]


def check(rules: Rules) -> list[Problem]:
    """Every problem of meaning in valid-shaped rules: unknown ids, gaps, rules that can never fire, dates."""
    return [
        *_duplicate_ids(rules),
        *_unknown_agencies(rules),
        *_unknown_kinds(rules),
        *_vocabulary_problems(rules),
        *_normalise_problems(rules),
        *_pattern_problems(rules),
        *_field_problems(rules),
        *_shadowed_rules(rules),
        *_uncovered_kinds(rules),
        *_deadline_problems(rules),
        *_meeting_problems(rules),
        *_target_problems(rules),
        *_documents_problems(rules),
    ]


def _duplicate_ids(rules: Rules) -> list[Problem]:
    found: list[Problem] = []
    sections: dict[str, list[Any]] = {"agencies": rules.agencies, "fields": rules.fields,
                                      "routing": rules.routing, "deadlines": rules.deadlines,
                                      "meetings": rules.meetings, "targets": rules.targets}
    for section, items in sections.items():
        found += _duplicates_in((section,), items)
    for i, policy in enumerate(rules.deadlines):
        found += _duplicates_in(("deadlines", i, "stages"), policy.stages)
    return found


def _duplicates_in(where: tuple[str | int, ...], items: list[Any]) -> list[Problem]:
    seen: set[str] = set()
    found: list[Problem] = []
    for i, item in enumerate(items):
        if item.id in seen:
            found.append(((*where, i, "id"), f"duplicate id '{item.id}' in {where[-1]}"))
        seen.add(item.id)
    return found


def _agency_refs(rules: Rules) -> list[tuple[tuple[str | int, ...], str]]:
    """Every place the file names an agency, with that name."""
    refs: list[tuple[tuple[str | int, ...], str]] = []
    for i, rule in enumerate(rules.routing):
        refs.append((("routing", i, "lead"), rule.lead))
        refs += [(("routing", i, "cooperating", j), a) for j, a in enumerate(rule.cooperating)]
        refs += [(("routing", i, "add", j, "agency"), add.agency) for j, add in enumerate(rule.add)]
    for i, field in enumerate(rules.fields):
        refs += [(("fields", i, "agencies", j), a) for j, a in enumerate(field.agencies)]
    for i, target in enumerate(rules.targets):
        refs += [(("targets", i, "agencies", j), a) for j, a in enumerate(target.agencies)]
    if rules.triage is not None:
        refs.append((("triage",), rules.triage))
    for i, meeting in enumerate(rules.meetings):
        refs.append((("meetings", i, "chair"), meeting.chair))
        refs += [(("meetings", i, "agencies", j), a) for j, a in enumerate(meeting.agencies)]
    return refs


def _unknown_agencies(rules: Rules) -> list[Problem]:
    known = {a.id for a in rules.agencies}
    found: list[Problem] = [(loc, f"unknown agency '{name}'") for loc, name in _agency_refs(rules)
                            if name and name not in known]
    for i, rule in enumerate(rules.routing):
        if not rule.lead.strip():
            found.append((("routing", i, "lead"), f"rule '{rule.id}' has no lead agency"))
        elif rule.lead in rule.cooperating:
            found.append((("routing", i, "cooperating"), f"rule '{rule.id}': the lead is also co-operating"))
    for i, agency in enumerate(rules.agencies):
        found += [(("agencies", i, "chats", ch), f"unknown channel '{ch}' (known: {', '.join(CHANNELS)})")
                  for ch in agency.chats if ch not in CHANNELS]
    return found


def _unknown_kinds(rules: Rules) -> list[Problem]:
    lists: list[tuple[tuple[str | int, ...], list[str]]] = [(("kind_words",), list(rules.kind_words))]
    lists += [(("routing", i, "kinds"), r.kinds) for i, r in enumerate(rules.routing)]
    lists += [(("routing", i, "guess_kind"), [r.guess_kind]) for i, r in enumerate(rules.routing)
              if r.guess_kind is not None]
    lists += [(("deadlines", i, "kinds"), p.kinds) for i, p in enumerate(rules.deadlines)]
    lists += [(("targets", i, "kinds"), tg.kinds) for i, tg in enumerate(rules.targets)]
    found: list[Problem] = []
    for loc, kinds in lists:
        found += [(loc, f"unknown kind '{k}' (known: {', '.join(KINDS)})") for k in kinds if k not in KINDS]
    found += [(("routing", i, "kinds"), f"rule '{r.id}' lists no kinds")
              for i, r in enumerate(rules.routing) if not r.kinds]
    return found


def _word_lists(rules: Rules) -> list[tuple[tuple[str | int, ...], list[str]]]:
    """Every list of words in the file, with its place."""
    lists: list[tuple[tuple[str | int, ...], list[str]]] = []
    for i, rule in enumerate(rules.routing):
        lists += [(("routing", i, "when_any"), rule.when_any),
                  (("routing", i, "unless_any"), rule.unless_any)]
        lists += [(("routing", i, "add", j, "when_any"), a.when_any) for j, a in enumerate(rule.add)]
    for i, field in enumerate(rules.fields):
        lists += [(("fields", i, "keywords"), field.keywords),
                  (("fields", i, "unless_any"), field.unless_any)]
    lists += [(("kind_words", kind), words) for kind, words in rules.kind_words.items()]
    lists += [(("vocabulary", name), words) for name, words in rules.vocabulary.items()]
    return lists


def _vocabulary_problems(rules: Rules) -> list[Problem]:
    from bot.matching import phrase_elements

    found: list[Problem] = []
    for loc, words in _word_lists(rules):
        for j, word in enumerate(words):
            if word.startswith("@"):
                name = word[1:]
                if loc[0] == "vocabulary":
                    found.append(((*loc, j), f"lists cannot refer to other lists: '{word}'"))
                elif name in rules.patterns and (loc[-1] == "unless_any" or loc[0] == "kind_words"):
                    found.append(((*loc, j), f"pattern '{word}' cannot be used here, only plain words"))
                elif name not in rules.vocabulary and name not in rules.patterns:
                    found.append(((*loc, j), f"unknown vocabulary reference '{word}'"))
                continue
            if not fold(word):
                found.append(((*loc, j), "empty word"))
                continue
            try:
                phrase_elements(word)
            except ValueError as exc:
                found.append(((*loc, j), f"'{word}': {exc}"))
    found += [(("vocabulary", name), f"vocabulary '{name}' is empty")
              for name, words in rules.vocabulary.items() if not words]
    for i, rule in enumerate(rules.routing):
        found += [(("routing", i, "add", j, "when_any"),
                   f"rule '{rule.id}': added agency '{a.agency}' has no words")
                  for j, a in enumerate(rule.add) if not a.when_any]
    return found


def _normalise_problems(rules: Rules) -> list[Problem]:
    """Chat forms and units are single words; a way of writing means one thing only."""
    found: list[Problem] = []
    table = rules.normalise
    for key, value in table.words.items():
        if len(fold(key).split()) != 1:
            found.append((("normalise", "words", key), f"chat form '{key}' must be one word"))
        if not fold(value):
            found.append((("normalise", "words", key), f"chat form '{key}' stands for nothing"))
    seen: dict[str, str] = {}
    for i, unit in enumerate(table.units):
        for alias in (unit.unit, *unit.also):
            folded = fold(alias)
            if len(folded.split()) != 1 or not folded.isalpha():
                found.append((("normalise", "units", i), f"unit '{alias}' must be one word of letters"))
            elif folded in seen and seen[folded] != unit.unit:
                found.append((("normalise", "units", i),
                              f"'{alias}' is given for both '{seen[folded]}' and '{unit.unit}'"))
            seen.setdefault(folded, unit.unit)
    for key, value in table.amount_words.items():
        if value <= 0 or not fold(key):
            found.append((("normalise", "amount_words", key), f"amount word '{key}' needs a positive value"))
    return found


def _pattern_problems(rules: Rules) -> list[Problem]:
    from bot.matching import phrase_elements

    found: list[Problem] = []
    for name, pattern in rules.patterns.items():
        where: tuple[str | int, ...] = ("patterns", name, "near")
        if name in rules.vocabulary:
            found.append((("patterns", name), f"'{name}' is both a vocabulary list and a pattern"))
        if len(pattern.near) < 2:
            found.append((where, f"pattern '{name}' needs at least two groups of words in `near`"))
        for j, group in enumerate(pattern.groups()):
            if not group:
                found.append(((*where, j), f"pattern '{name}': empty group"))
            for word in group:
                if word.startswith("@"):
                    if word[1:] not in rules.vocabulary:
                        found.append(((*where, j), f"pattern '{name}': unknown vocabulary '{word}'"))
                    continue
                try:
                    if not phrase_elements(word):
                        found.append(((*where, j), f"pattern '{name}': empty word"))
                except ValueError as exc:
                    found.append(((*where, j), f"pattern '{name}': '{word}': {exc}"))
    return found


def _field_problems(rules: Rules) -> list[Problem]:
    found: list[Problem] = []
    for i, field in enumerate(rules.fields):
        if not field.agencies:
            found.append((("fields", i), f"field '{field.id}': no agency is competent in it (`agencies`)"))
        if not field.keywords:
            found.append((("fields", i), f"field '{field.id}': no keywords, so no text can be routed to it"))
    return found


def _shadowed_rules(rules: Rules) -> list[Problem]:
    """Rules, or kinds and words of rules, that an earlier rule always takes first (first match wins)."""
    found: list[Problem] = []
    for j, later in enumerate(rules.routing):
        for i, earlier in enumerate(rules.routing[:j]):
            problem = _shadow(rules, earlier, later)
            if problem:
                found.append((("routing", j, "id"), f"rule '{later.id}' {problem}: rule '{earlier.id}' "
                                                    f"(routing item {i + 1}) matches first"))
                break
    return found


def _shadow(rules: Rules, earlier: RoutingRule, later: RoutingRule) -> str | None:
    """Why `later` (or part of it) can never fire after `earlier`, or None."""
    shared = [k for k in later.kinds if k in earlier.kinds]
    if not shared:
        return None
    if not earlier.when_any:
        if len(shared) == len(later.kinds):
            return "can never fire (unreachable)"
        return f"never sees kind {', '.join(shared)}"
    earlier_words = {word_key(w) for w in expand(rules.vocabulary, earlier.when_any)}
    later_words = {word_key(w) for w in expand(rules.vocabulary, later.when_any)}
    earlier_unless = {word_key(w) for w in expand(rules.vocabulary, earlier.unless_any)}
    later_unless = {word_key(w) for w in expand(rules.vocabulary, later.unless_any)}
    if not later_words or not earlier_unless <= later_unless:
        return None
    patterns = any(w.startswith("@") and w[1:] in rules.patterns for w in later.when_any)
    dead = sorted(later_words & earlier_words)
    if dead and len(shared) == len(later.kinds):
        if later_words <= earlier_words and not patterns:
            return "can never fire (same or fewer words and kinds)"
        return f"never fires on {', '.join(repr(w) for w in dead)}"
    return None


def _uncovered_kinds(rules: Rules) -> list[Problem]:
    """Every kind needs a catch-all rule, so no report is ever left without a lead agency."""
    found: list[Problem] = []
    for kind in KINDS:
        if not any(kind in r.kinds for r in rules.routing):
            found.append((("routing",), f"kind {kind}: no rule covers it"))
        elif not any(kind in r.kinds and not r.when_any for r in rules.routing):
            found.append((("routing",), f"kind {kind}: no catch-all rule (one without when_any) covers it, "
                                        "so a report with none of the words would have no agency"))
    return found


def _deadline_problems(rules: Rules) -> list[Problem]:
    found: list[Problem] = []
    defined = {p.id for p in rules.deadlines}
    for i, rule in enumerate(rules.routing):
        if rule.deadline_policy is not None and rule.deadline_policy not in defined:
            found.append((("routing", i, "deadline_policy"),
                          f"rule '{rule.id}': deadline policy '{rule.deadline_policy}' is not defined"))
    for i, policy in enumerate(rules.deadlines):
        if policy.valid_to is not None and policy.valid_to < policy.valid_from:
            found.append((("deadlines", i, "valid_to"),
                          f"deadline policy '{policy.id}': valid_to {policy.valid_to} is before "
                          f"valid_from {policy.valid_from}"))
        found += [(("deadlines", i, "remind_before", j),
                   f"deadline policy '{policy.id}': reminder days must not be negative (got {d})")
                  for j, d in enumerate(policy.remind_before) if d < 0]
        found += [(("deadlines", i, "remind_before", j),
                   f"deadline policy '{policy.id}': reminder {d} working days before is more than {MAX_DAYS}")
                  for j, d in enumerate(policy.remind_before) if d > MAX_DAYS]
        found += [(("deadlines", i, "remind_before", j),
                   f"deadline policy '{policy.id}': reminder day {d} is listed twice")
                  for j, d in enumerate(policy.remind_before) if d in policy.remind_before[:j]]
        for j, other in enumerate(rules.deadlines[:i]):
            for kind in sorted(set(policy.kinds) & set(other.kinds)):
                if _periods_overlap(policy, other):
                    found.append((("deadlines", i, "valid_from"),
                                  f"deadline policies '{other.id}' (item {j + 1}) and '{policy.id}' both "
                                  f"apply to kind {kind} over overlapping dates"))
    return found


def _periods_overlap(a: DeadlinePolicy, b: DeadlinePolicy) -> bool:
    far = dt.date.max
    return a.valid_from <= (b.valid_to or far) and b.valid_from <= (a.valid_to or far)


def _meeting_problems(rules: Rules) -> list[Problem]:
    found: list[Problem] = []
    for i, meeting in enumerate(rules.meetings):
        start = dt.datetime.combine(meeting.start, dt.time())
        try:
            rrulestr(meeting.rrule, dtstart=start)
        except (ValueError, TypeError, AttributeError) as exc:
            found.append((("meetings", i, "rrule"), f"meeting '{meeting.id}': invalid rrule: {exc}"))
        found += [(("meetings", i, "remind_days_before", j), f"meeting '{meeting.id}': negative reminder day")
                  for j, d in enumerate(meeting.remind_days_before) if d < 0]
        found += [(("meetings", i, "remind_days_before", j),
                   f"meeting '{meeting.id}': reminder {d} days before is more than a year")
                  for j, d in enumerate(meeting.remind_days_before) if d > 366]
    return found


def _target_problems(rules: Rules) -> list[Problem]:
    found: list[Problem] = []
    for i, target in enumerate(rules.targets):
        if target.counts and target.count is None:
            found.append((("targets", i, "measure"),
                          f"target '{target.id}': {target.measure} is a number of cases: give count"))
        if target.counts and target.percent is not None:
            found.append((("targets", i, "percent"),
                          f"target '{target.id}': {target.measure} is a number of cases: count, not percent"))
        if not target.counts and target.percent is None:
            found.append((("targets", i, "measure"),
                          f"target '{target.id}': {target.measure} is a share of cases: give percent"))
        if not target.counts and (target.count is not None or target.per is not None):
            found.append((("targets", i, "count" if target.count is not None else "per"),
                          f"target '{target.id}': count and per only apply to a number of cases"))
        if target.measure == "first_action_within" and target.within_days is None:
            found.append((("targets", i, "measure"),
                          f"target '{target.id}': first_action_within needs within_days (working days)"))
        if target.measure != "first_action_within" and target.within_days is not None:
            found.append((("targets", i, "within_days"),
                          f"target '{target.id}': within_days only applies to first_action_within"))
        if target.valid_from and target.valid_to and target.valid_to < target.valid_from:
            found.append((("targets", i, "valid_to"),
                          f"target '{target.id}': valid_to {target.valid_to} is before valid_from "
                          f"{target.valid_from}"))
    return found


def _documents_problems(rules: Rules) -> list[Problem]:
    """The party form heads a document with the issuer under its parent committee: it cannot go without."""
    spec = rules.documents
    if spec is not None and spec.style == "party" and spec.parent is None:
        return [(("documents", "style"), "documents: the party form puts the issuer under its parent "
                                         "committee: give parent (for example TỈNH ỦY QUẢNG NINH)")]
    return []
