"""The coordination rules of one province (quy chế phối hợp) as validated data.

The YAML file holds agencies, fields, routing rules, deadline policies and meeting schedules. Loading
validates everything and reports problems as `FILE:LINE: message`, so a broken file never starts the bot.
Besides the shape: ids are unique and known wherever named; every kind has a catch-all rule (one without
`when_any`) so no report is left without an agency; no rule, kind or word of a rule is taken first by an
earlier rule; every field lists at least one competent agency and one keyword; dates and recurrence rules
are valid and two deadline policies never apply to one kind on the same day.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from pathlib import Path
from typing import Annotated, Any, Final, Literal, get_args

import yaml
from dateutil.rrule import rrulestr
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from bot.kinds import KINDS
from bot.rules_yaml import YamlProblem, check_size, parse
from bot.textnorm import fold

CHANNELS: Final[tuple[str, ...]] = ("telegram", "zalo")
FIRST_YEAR, LAST_YEAR = 1945, 2100  # dates outside these are typing errors (9999 broke every filing)
MAX_DAYS = 730  # no legal time limit of a stage is longer than two years
MAX_EXTENSIONS = 10


def _sane_date(day: dt.date) -> dt.date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"{day} is out of range: a date between {FIRST_YEAR} and {LAST_YEAR} is expected")
    return day


SaneDate = Annotated[dt.date, AfterValidator(_sane_date)]
Days = Annotated[int, Field(gt=0, le=MAX_DAYS)]


class Text(BaseModel):
    """A text in Vietnamese (required) and English (falls back to Vietnamese)."""

    model_config = ConfigDict(extra="forbid")
    vi: str
    en: str | None = None

    def get(self, locale: str) -> str:
        return (self.en or self.vi) if locale == "en" else self.vi


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgencySpec(_Strict):
    id: str
    name: Text
    short: Text | None = None
    role: str | None = None
    secretariat: bool = False  # receives meeting reminders and escalations
    supervises: bool = False  # told of overdue cases of other agencies (follows up, e.g. Ban Nội chính)
    chats: dict[str, str] = Field(default_factory=dict)  # channel -> chat id, bound from the file


class FieldSpec(_Strict):
    id: str
    name: Text
    agencies: list[str] = Field(default_factory=list)  # agencies competent in the field; at least one
    keywords: list[str] = Field(default_factory=list)  # words that detect the field in a text
    unless_any: list[str] = Field(default_factory=list)  # phrases whose words do not count


class AddAgency(_Strict):
    """A co-operating agency added when some words occur (e.g. `cong-an` on signs of a crime)."""

    agency: str
    when_any: list[str]
    reason: Text


class RoutingRule(_Strict):
    id: str
    title: Text
    kinds: list[str] = Field(default_factory=lambda: list(KINDS))  # kinds this rule may apply to
    when_any: list[str] = Field(default_factory=list)  # words or @vocabulary lists; empty = catch-all
    unless_any: list[str] = Field(default_factory=list)
    lead: str
    cooperating: list[str] = Field(default_factory=list)
    add: list[AddAgency] = Field(default_factory=list)
    deadline_policy: str | None = None  # overrides the kind's policy (e.g. party discipline)
    guess_kind: str | None = None  # the kind proposed when this rule matches a text sent without one


class Stage(_Strict):
    id: str
    name: Text
    days: Days
    unit: Literal["working_days", "calendar_days"]
    start: Literal["received", "accepted", "previous"] = "received"
    complex_days: Days | None = None  # longer limit for complex cases
    complex_unit: Literal["working_days", "calendar_days", "months"] | None = None  # default: unit
    max_extensions: int = Field(default=0, ge=0, le=MAX_EXTENSIONS)
    extension_days: Days | None = None
    extension_unit: Literal["working_days", "calendar_days", "months"] | None = None
    basis: str | None = None  # the article for this stage; default: the policy's basis


class DeadlinePolicy(_Strict):
    id: str
    kinds: list[str] = Field(default_factory=list)  # kinds it applies to by default
    basis: str  # the legal basis, e.g. "Luật Khiếu nại 2011, Điều 27-28"
    valid_from: SaneDate
    valid_to: SaneDate | None = None
    stages: list[Stage]
    remind_before: list[int] = Field(default_factory=lambda: [3, 1, 0])  # working days before a due date
    waiting_days: int = Field(default=10, gt=0, le=MAX_DAYS)  # tell the officer the citizen has not answered


class MeetingSchedule(_Strict):
    id: str
    title: Text
    agencies: list[str]
    chair: str
    rrule: str  # RFC 5545 recurrence rule, read with python-dateutil
    start: SaneDate
    time: dt.time = dt.time(8, 0)  # local time of day, quoted in YAML ("14:00")
    basis: str | None = None
    remind_days_before: list[int] = Field(default_factory=lambda: [7, 1])

    @field_validator("time", mode="before")
    @classmethod
    def _quoted_time(cls, value: object) -> object:
        if isinstance(value, int):  # YAML 1.1 reads an unquoted 14:00 as the number 840
            raise ValueError('write the time quoted, as "HH:MM"')
        return value


class MoneyUnit(_Strict):
    """A unit of money after a number ("5 triệu"), with the other ways people write it ("5tr", "5 củ")."""

    unit: str
    value: float = Field(gt=0)  # in đồng
    also: list[str] = Field(default_factory=list)


class Normalise(_Strict):
    """Chat forms read as what they stand for before matching (whole words, compared without diacritics)."""

    words: dict[str, str] = Field(default_factory=dict)  # "cb": "cán bộ"
    units: list[MoneyUnit] = Field(default_factory=list)
    amount_words: dict[str, float] = Field(default_factory=dict)  # "hàng tỷ": 1000000000

    def unit_table(self) -> dict[str, tuple[str, float]]:
        """Every way of writing a unit -> (the unit, its value)."""
        return {alias: (u.unit, u.value) for u in self.units for alias in (u.unit, *u.also)}


class PatternSpec(_Strict):
    """Groups of words that must all occur within `within` words of each other, in any order."""

    near: list[str | list[str]]
    within: int = Field(default=6, gt=0)

    def groups(self) -> list[list[str]]:
        return [[g] if isinstance(g, str) else g for g in self.near]


class SecondOpinion(_Strict):
    """A classifier trained on labelled messages, asked only when the rules reach a catch-all."""

    examples: str  # JSON lines {"text", "rule"}, relative to the rules file
    min_confidence: float = Field(default=0.5, gt=0, le=1)


CountMeasure = Literal["received", "accepted", "resolved", "transferred_out", "referred"]
COUNT_MEASURES: tuple[str, ...] = get_args(CountMeasure)


class TargetSpec(_Strict):
    """A target (chỉ tiêu) for the agencies named (none named: every agency, each on its own).

    Shares, with `percent`: `resolved_on_time`, of the cases resolved in the period the share resolved on
    time; `first_action_within`, of the cases received the share acted on within `within_days` working
    days. Counts, with `count` cases `per` year (half, quarter, month), scaled to the period reported:
    `received`, `accepted`, `resolved`, `transferred_out` (forwarded to the competent body), `referred`
    (to investigators), as the scorecard counts them.
    """

    id: str
    title: Text
    measure: Literal["resolved_on_time", "first_action_within"] | CountMeasure
    percent: float | None = Field(default=None, gt=0, le=100)
    count: int | None = Field(default=None, gt=0, le=10_000_000)
    per: Literal["year", "half", "quarter", "month"] | None = None
    within_days: int | None = Field(default=None, gt=0)
    kinds: list[str] = Field(default_factory=list)  # empty: every kind
    agencies: list[str] = Field(default_factory=list)  # empty: every agency
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    basis: str | None = None

    @property
    def counts(self) -> bool:
        """A number of cases to reach, rather than a share in percent."""
        return self.measure in COUNT_MEASURES


class Province(_Strict):
    id: str
    name: Text


class Rules(_Strict):
    province: Province
    agencies: list[AgencySpec]
    fields: list[FieldSpec] = Field(default_factory=list)
    normalise: Normalise = Field(default_factory=Normalise)
    vocabulary: dict[str, list[str]] = Field(default_factory=dict)
    patterns: dict[str, PatternSpec] = Field(default_factory=dict)  # used as @name, like vocabulary
    kind_words: dict[str, list[str]] = Field(default_factory=dict)  # kind -> words that announce it
    routing: list[RoutingRule]
    deadlines: list[DeadlinePolicy] = Field(default_factory=list)
    meetings: list[MeetingSchedule] = Field(default_factory=list)
    targets: list[TargetSpec] = Field(default_factory=list)
    second_opinion: SecondOpinion | None = None
    _examples: list[tuple[str, str]] = PrivateAttr(default_factory=list)  # (text, rule id), read at load

    @property
    def examples(self) -> list[tuple[str, str]]:
        return self._examples

    def agency(self, agency_id: str) -> AgencySpec:
        for agency in self.agencies:
            if agency.id == agency_id:
                return agency
        raise KeyError(agency_id)

    def field(self, field_id: str) -> FieldSpec:
        for field in self.fields:
            if field.id == field_id:
                return field
        raise KeyError(field_id)


class RulesError(Exception):
    """The rules file is invalid; `problems` are `FILE:LINE: message` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def expand(vocabulary: dict[str, list[str]], words: list[str]) -> list[str]:
    """The words of a list with each `@name` replaced by its vocabulary list (patterns, unknowns dropped)."""
    out: list[str] = []
    for word in words:
        out.extend(vocabulary.get(word[1:], []) if word.startswith("@") else [word])
    return out


def word_key(word: str) -> str:
    """The identity of a word for comparing lists: same letters, marks and case-insensitive."""
    return " ".join(unicodedata.normalize("NFC", word).lower().split())


def load_rules(path: str | Path) -> Rules:
    """Read and validate a rules file; raise RulesError listing every problem found, with its line."""
    path = Path(path)
    try:
        check_size(path)
        text = path.read_text(encoding="utf-8")
        root, data, duplicates = parse(text)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise RulesError([f"{path}:0: cannot read: {reason}"]) from exc
    except YamlProblem as exc:
        raise RulesError([f"{path}:{line}: {message}" for line, message in exc.problems]) from None
    if not isinstance(data, dict):
        raise RulesError([f"{path}:{root.start_mark.line + 1}: the file must be a mapping of sections"])
    problems = [f"{path}:{line}: {message}" for line, message in duplicates]
    locate = _Locator(root)
    try:
        rules = Rules.model_validate(data)
    except ValidationError as exc:
        problems += [f"{path}:{locate(err['loc'])}: {_describe(err)}" for err in exc.errors()]
        raise RulesError(problems) from None
    located = sorted(((locate(loc), message) for loc, message in check(rules)), key=lambda lm: lm[0])
    problems += [f"{path}:{line}: {message}" for line, message in located]
    if rules.second_opinion is not None:
        where = f"{path}:{locate(('second_opinion', 'examples'))}"
        problems += _read_examples(rules, path.parent / rules.second_opinion.examples, where)
    if problems:
        raise RulesError(problems)
    return rules


def _read_examples(rules: Rules, path: Path, where: str) -> list[str]:
    """Load the second opinion's labelled messages into `rules`; the problems as FILE:LINE lines."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return [f"{where}: cannot read the examples file {path}"]
    known = {r.id for r in rules.routing}
    problems: list[str] = []
    examples: list[tuple[str, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text, rule = item["text"], item["rule"]
        except (ValueError, KeyError, TypeError):
            problems.append(f"{path}:{number}: expected a JSON object with 'text' and 'rule'")
            continue
        if not isinstance(text, str) or rule not in known:
            problems.append(f"{path}:{number}: unknown rule {rule!r}" if isinstance(text, str)
                            else f"{path}:{number}: 'text' must be a string")
            continue
        examples.append((text, rule))
    if not examples and not problems:
        problems.append(f"{where}: the examples file {path} holds no examples")
    rules._examples = examples
    return problems


class _Locator:
    """Maps a location (keys and indexes, as pydantic reports them) to a 1-based line of the file."""

    def __init__(self, root: yaml.Node) -> None:
        self.root = root

    def __call__(self, loc: tuple[str | int, ...] | list[str | int]) -> int:
        node, line = self.root, self.root.start_mark.line + 1
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
                if pair is None:
                    break
                line, node = pair[0].start_mark.line + 1, pair[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line


def _describe(err: Any) -> str:
    """A pydantic error as one readable message naming the offending key."""
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"unknown key '{err['loc'][-1]}' (in {loc})"
    if err["type"] == "missing":
        return f"missing required key '{err['loc'][-1]}' (in {loc})"
    return f"{loc}: {err['msg']}"


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
