"""The coordination rules of one province (quy chế phối hợp) as validated data.

The YAML file holds agencies, fields, routing rules, deadline policies and meeting schedules. Loading
validates the shape here and the meaning in `bot.rule_checks`, and reports problems as
`FILE:LINE: message`, so a broken file never starts the bot.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Final, Literal, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from bot.kinds import KINDS
from bot.rules_yaml import YamlProblem, check_size, parse

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


def _as_text(value: object) -> object:
    """A plain string stands for its Vietnamese text; a blank one is refused (a document would show it)."""
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("must not be empty")
        return {"vi": value}
    return value


PlainOrText = Annotated[Text, BeforeValidator(_as_text)]


class AgencySpec(_Strict):
    id: str
    name: Text
    short: Text | None = None
    role: str | None = None
    secretariat: bool = False  # receives meeting reminders and escalations
    supervises: bool = False  # told of overdue cases of other agencies (follows up, e.g. Ban Nội chính)
    chats: dict[str, str] = Field(default_factory=dict)  # channel -> chat id, bound from the file
    reading: Text | None = None  # what this agency handles, in a citizen's words, offered when the bot asks


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
    decides: bool = False  # when its words match, its lead stands whatever the learned model reads


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
    """The lead agency learned from a labelled corpus (`bot.routing_model`), weighed with the rules."""

    examples: str  # JSON lines {"text", "lead"} (or {"text", "rule"}), relative to the rules file
    splits: list[str] = Field(default_factory=list)  # train on these corpus splits only; empty: every line
    min_confidence: float = Field(default=0.5, gt=0, le=1)  # below it the bot asks the citizen


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


SYMBOL = re.compile(r"^([A-Za-zĐđ]+)[-/]([A-ZĐ0-9][A-Za-zĐđ0-9]*(?:[-.][A-Za-zĐđ0-9]+)*)$")


class DocumentsSpec(_Strict):
    """How the secretariat's documents are headed and signed (thể thức văn bản): `party` by Hướng dẫn
    36-HD/VPTW (the issuer under its parent committee, "ĐẢNG CỘNG SẢN VIỆT NAM"), `state` by Nghị định
    30/2020/NĐ-CP, Phụ lục I (quốc hiệu and tiêu ngữ). `symbol` is the report's: its type and the issuer's
    abbreviation, "BC-BNC"; the agenda and the invitation take their own type before the issuer's."""

    style: Literal["party", "state"]
    issuer: PlainOrText
    parent: PlainOrText | None = None  # the parent committee or governing body, above the issuer
    symbol: str
    signer_title: PlainOrText
    place: PlainOrText

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str) -> str:
        if not SYMBOL.match(value.strip()):
            raise ValueError("expected the document type and the issuer's abbreviation, as BC-BNC "
                             f"(got {value!r})")
        return value.strip()

    @property
    def issuer_code(self) -> str:
        """The issuer's abbreviation, without the report's type ("BNC" of "BC-BNC")."""
        match = SYMBOL.match(self.symbol)
        assert match is not None
        return match.group(2)


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
    triage: str | None = None  # the agency that assigns the lead when the citizen cannot say
    documents: DocumentsSpec | None = None  # the form of the secretariat's documents
    _examples: list[tuple[str, str]] = PrivateAttr(default_factory=list)  # (text, lead), read at load
    _corpus: list[dict[str, Any]] = PrivateAttr(default_factory=list)  # every line of it, every split

    @property
    def examples(self) -> list[tuple[str, str]]:
        return self._examples

    @property
    def corpus(self) -> list[dict[str, Any]]:
        """The corpus's lines as read (incidents, writers, splits): the duplicate model's pairs."""
        return self._corpus

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


def load_rules(path: str | Path, *, without_examples: Callable[[str], None] | None = None) -> Rules:
    """Read and validate a rules file; raise RulesError listing every problem found, with its line.

    A second opinion whose examples file is not there is a problem for `check-rules`; the running bot
    passes `without_examples`, which is told why, and runs with the second opinion off (a province that
    copied the sample rules without the examples beside them still routes by its rules)."""
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
    from bot.rule_checks import check  # the checks read these models: imported once they are defined

    located = sorted(((locate(loc), message) for loc, message in check(rules)), key=lambda lm: lm[0])
    problems += [f"{path}:{line}: {message}" for line, message in located]
    if rules.second_opinion is not None:
        where = f"{path}:{locate(('second_opinion', 'examples'))}"
        examples = path.parent / rules.second_opinion.examples
        if _missing(examples) and without_examples is not None:
            without_examples(f"{where}: {_no_examples(examples)}; the second opinion is off until then")
            rules.second_opinion = None
        else:
            problems += _read_examples(rules, examples, where)
    if problems:
        raise RulesError(problems)
    return rules


def _missing(path: Path) -> bool:
    """Whether there is no file at `path` (one that cannot be read is another problem)."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def _no_examples(path: Path) -> str:
    """What to do when the examples file is not where the rules say (relative to the rules file)."""
    return (f"{path} is missing: the second opinion's examples file (second_opinion.examples) is read "
            "beside the rules file; copy the examples file there too, or remove the second_opinion section")


def _read_examples(rules: Rules, path: Path, where: str) -> list[str]:
    """Load the corpus the lead model learns from into `rules`; the problems as FILE:LINE lines.

    A line names its lead agency, or a rule whose lead it is; lines of other splits than the ones named
    are skipped (the held-out writers of a corpus)."""
    if _missing(path):
        return [f"{where}: {_no_examples(path)}"]
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return [f"{where}: cannot read the examples file {path}"]
    assert rules.second_opinion is not None
    splits = set(rules.second_opinion.splits)
    leads = {r.id: r.lead for r in rules.routing}
    agencies = {a.id for a in rules.agencies}
    problems: list[str] = []
    examples: list[tuple[str, str]] = []
    corpus: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text = item["text"]
            lead = item["lead"] if "lead" in item else leads.get(item["rule"], item["rule"])
        except (ValueError, KeyError, TypeError):
            problems.append(f"{path}:{number}: expected a JSON object with 'text' and 'lead' (or 'rule')")
            continue
        if not isinstance(text, str):
            problems.append(f"{path}:{number}: 'text' must be a string")
        elif lead not in agencies:
            problems.append(f"{path}:{number}: unknown lead agency or rule {lead!r}")
        else:
            corpus.append(item)
            if not splits or item.get("split") in splits:
                examples.append((text, lead))
    if len({lead for _, lead in examples}) < 2 and not problems:
        problems.append(f"{where}: the examples file {path} needs reports of at least two lead agencies")
    rules._examples = examples
    rules._corpus = corpus
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
