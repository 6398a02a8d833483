"""Routing: which agency leads a report and which co-operate, by the rules, with the reasons why.

Words are looked up without diacritics and on whole words, so "lo de" finds "lô đề"; but a word written
with diacritics must agree with the rule's, so "đánh bác sĩ" is not "đánh bạc", and in a text written with
diacritics a one-word keyword must carry them too ("công ty" is not "tỷ"). Phrases of two or more words
and at least twelve letters also match with small typos. A rule's `unless_any` phrases hide the words inside
them ("đổ trộm rác" hides "trộm"). A `#` in a phrase stands for one number: "đòi # triệu" finds
"đòi 5 triệu"; such phrases match exactly only.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

from rapidfuzz import fuzz

from bot.kinds import KINDS, PETITION
from bot.rules import RoutingRule, Rules, expand
from bot.textnorm import fold

FUZZY_MIN_LETTERS = 12  # shorter phrases are too easily confused with other words to match loosely
FUZZY_CUTOFF = 88.0  # rapidfuzz ratio; allows about one wrong letter in ten
FUZZY_WORD_CUTOFF = 70.0  # a misspelt word must resemble its own: "ruoc" for "ruot", not "dung" for "den"
ACCENTED_SHARE = 0.3  # share of words with diacritics above which a text is taken as written with them
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_WORD = re.compile(r"\w+")
_PHRASE_WORD = re.compile(r"#|\w+")
NUMBER = "#"

KIND_NAMES_VI = {"complaint": "khiếu nại", "denunciation": "tố cáo", "corruption_tip": "tin báo tham nhũng",
                 "crime_report": "tin báo tội phạm", "petition": "kiến nghị, phản ánh"}


@dataclass(frozen=True)
class AddedAgency:
    agency: str
    reason: str
    matched: list[str]


@dataclass(frozen=True)
class RoutingDecision:
    kind: str  # the kind given, or the one proposed from the text
    lead: str
    cooperating: list[str]
    rule: str
    matched: list[str]  # the words of the text that fired the rule
    explanation: str  # one readable sentence (Vietnamese) saying why
    field: str | None = None  # the field proposed from the text
    kind_guessed: bool = False
    added: list[AddedAgency] = dataclasses.field(default_factory=list)  # why each extra co-operating agency

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _syllable(word: str) -> tuple[str, frozenset[str]]:
    """A word's letters (with their hats and đ) and its tone marks, wherever the tone is placed."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    letters = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
    return letters, frozenset(ch for ch in decomposed if ch in _TONES)


def _is_marked(word: str) -> bool:
    return fold(word) != word.lower()


@dataclass(frozen=True)
class _Token:
    fold: str
    key: tuple[str, frozenset[str]]
    marked: bool
    start: int
    end: int


class _Text:
    """A message split into words, with the indexes matching needs."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = [
            _Token(folded, _syllable(m.group()), _is_marked(m.group()), m.start(), m.end())
            for m in _WORD.finditer(text)
            if (folded := fold(m.group()))
        ]
        self.positions: dict[str, list[int]] = {}
        for i, token in enumerate(self.tokens):
            self.positions.setdefault(token.fold, []).append(i)
        marked = sum(t.marked for t in self.tokens)
        self.accented = bool(self.tokens) and marked / len(self.tokens) >= ACCENTED_SHARE
        self._windows: dict[int, dict[str, list[int]]] = {}

    def span(self, start: int, length: int) -> str:
        return self.text[self.tokens[start].start:self.tokens[start + length - 1].end]

    def windows(self, length: int) -> dict[str, list[int]]:
        """Start positions of every run of `length` words, by the first letters of those words."""
        if length not in self._windows:
            by_initials: dict[str, list[int]] = {}
            for i in range(len(self.tokens) - length + 1):
                initials = "".join(t.fold[0] for t in self.tokens[i:i + length])
                by_initials.setdefault(initials, []).append(i)
            self._windows[length] = by_initials
        return self._windows[length]


@dataclass(frozen=True)
class _Phrase:
    """One word or phrase of the rules, ready to look up in a text."""

    word: str
    folds: tuple[str, ...]
    keys: tuple[tuple[str, frozenset[str]], ...]
    marked: tuple[bool, ...]

    @classmethod
    def of(cls, word: str) -> _Phrase:
        parts = [p for p in _PHRASE_WORD.findall(word) if p == NUMBER or fold(p)]
        folds = tuple(p if p == NUMBER else fold(p) for p in parts)
        return cls(word, folds, tuple(_syllable(p) for p in parts), tuple(_is_marked(p) for p in parts))

    @cached_property
    def joined(self) -> str:
        return " ".join(self.folds)

    @cached_property
    def initials(self) -> str:
        return "".join(f[0] for f in self.folds)

    @cached_property
    def fuzzy(self) -> bool:
        """Whether typos are tolerated: phrases of two or more words and enough letters, without a number."""
        return len(self.folds) >= 2 and len(self.joined) >= FUZZY_MIN_LETTERS and NUMBER not in self.folds

    def find(self, text: _Text) -> list[int]:
        """Start positions of the phrase in the text: exact (diacritics permitting), else with typos."""
        starts = range(len(text.tokens)) if self.folds[0] == NUMBER else text.positions.get(self.folds[0], [])
        found = [i for i in starts if self._exact_at(text, i)]
        if found or not self.fuzzy:
            return found
        return [i for i in text.windows(len(self.folds)).get(self.initials, []) if self._near_at(text, i)]

    def _exact_at(self, text: _Text, start: int) -> bool:
        window = text.tokens[start:start + len(self.folds)]
        if len(window) != len(self.folds) or not self._marks_agree(window):
            return False
        pairs = zip(window, self.folds, strict=True)
        if any(f != t.fold and not (f == NUMBER and t.fold.isdigit()) for t, f in pairs):
            return False
        return len(window) > 1 or not (text.accented and self.marked[0] and not window[0].marked)

    def _near_at(self, text: _Text, start: int) -> bool:
        """A typo: few words differ, the others agree (marks included), and the letters are close."""
        window = text.tokens[start:start + len(self.folds)]
        differing = [(t.fold, f) for t, f in zip(window, self.folds, strict=True) if t.fold != f]
        if len(differing) > max(1, len(self.folds) // 3) or not self._marks_agree(window):
            return False
        if any(fuzz.ratio(got, want) < FUZZY_WORD_CUTOFF for got, want in differing):
            return False
        return bool(fuzz.ratio(self.joined, " ".join(t.fold for t in window), score_cutoff=FUZZY_CUTOFF))

    def _marks_agree(self, window: list[_Token]) -> bool:
        """Words spelled the same without diacritics must not carry different ones (bác sĩ is not bạc)."""
        pairs = zip(window, self.folds, self.keys, self.marked, strict=True)
        return all(t.key == key for t, f, key, marked in pairs if marked and t.marked and t.fold == f)


@dataclass(frozen=True)
class _Hit:
    start: int
    length: int
    words: str


class _Terms:
    """A list of words (vocabulary expanded) with the phrases that hide them."""

    def __init__(self, rules: Rules, words: list[str], unless: list[str]) -> None:
        self.phrases = [_Phrase.of(w) for w in dict.fromkeys(expand(rules.vocabulary, words)) if fold(w)]
        self.unless = [_Phrase.of(w) for w in dict.fromkeys(expand(rules.vocabulary, unless)) if fold(w)]
        # An index, so a text is compared only with phrases that could match it: by the first word (exact
        # matches) and by the first letters of the words (matches with typos). Large rules files stay fast.
        self._always: list[int] = []
        self._by_first: dict[str, list[int]] = {}
        self._by_initials: dict[int, dict[str, list[int]]] = {}
        for n, phrase in enumerate(self.phrases):
            if not phrase.folds or phrase.folds[0] == NUMBER:
                self._always.append(n)
                continue
            self._by_first.setdefault(phrase.folds[0], []).append(n)
            if phrase.fuzzy:
                self._by_initials.setdefault(len(phrase.folds), {}).setdefault(phrase.initials, []).append(n)

    def _candidates(self, text: _Text) -> list[_Phrase]:
        """The phrases that may occur in the text, in the order of the rules."""
        chosen = set(self._always)
        for word in text.positions:
            chosen.update(self._by_first.get(word, ()))
        for length, by_initials in self._by_initials.items():
            for initials in text.windows(length):
                chosen.update(by_initials.get(initials, ()))
        return [self.phrases[n] for n in sorted(chosen)]

    def hits(self, text: _Text) -> list[_Hit]:
        """The words of the text that match, in text order, leaving out those inside an unless phrase."""
        candidates = self._candidates(text)
        if not candidates:
            return []
        hidden = {i + k for p in self.unless for i in p.find(text) for k in range(len(p.folds))}
        found: dict[int, _Hit] = {}
        for phrase in candidates:
            for i in phrase.find(text):
                if hidden.isdisjoint(range(i, i + len(phrase.folds))):
                    hit = _Hit(i, len(phrase.folds), text.span(i, len(phrase.folds)))
                    if i not in found or found[i].length < hit.length:
                        found[i] = hit
        return _drop_nested(sorted(found.values(), key=lambda h: h.start))


def _drop_nested(hits: list[_Hit]) -> list[_Hit]:
    """Hits without those lying inside a longer hit ("rút ruột" inside "rút ruột công trình")."""
    kept: list[_Hit] = []
    for hit in hits:
        if kept and hit.start + hit.length <= kept[-1].start + kept[-1].length:
            continue
        kept.append(hit)
    return kept


@dataclass(frozen=True)
class _CompiledRule:
    rule: RoutingRule
    when: _Terms
    adds: list[tuple[str, str, _Terms]]  # agency, reason (vi), words


class _Compiled:
    """The rules turned into phrase lists once, since routing runs for every message."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.routing = [
            _CompiledRule(r, _Terms(rules, r.when_any, r.unless_any),
                          [(a.agency, a.reason.vi, _Terms(rules, a.when_any, r.unless_any)) for a in r.add])
            for r in rules.routing
        ]
        self.fields = [(f.id, frozenset(f.agencies), _Terms(rules, f.keywords, f.unless_any))
                       for f in rules.fields]
        self.kinds = [(k, _Terms(rules, words, [])) for k, words in rules.kind_words.items()]


_CACHE: dict[int, _Compiled] = {}


def _compiled(rules: Rules) -> _Compiled:
    compiled = _CACHE.get(id(rules))
    if compiled is None or compiled.rules is not rules:
        compiled = _CACHE[id(rules)] = _Compiled(rules)
    return compiled


def route(rules: Rules, text: str, kind: str | None = None) -> RoutingDecision:
    """The routing decision for a text; first matching rule wins."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    compiled, words = _compiled(rules), _Text(text)
    guessed = kind is None
    if kind is None:
        kind = _guess_kind(compiled, words)
    for item in compiled.routing:
        if kind not in item.rule.kinds:
            continue
        hits = item.when.hits(words) if item.rule.when_any else []
        if item.rule.when_any and not hits:
            continue
        return _decide(rules, compiled, words, item, kind, guessed, hits)
    raise LookupError(f"no rule covers kind {kind!r}")  # load_rules refuses such files


def _guess_kind(compiled: _Compiled, text: _Text) -> str:
    """The kind the text announces ("khiếu nại", "tố cáo"...), else the kind of the first rule it matches."""
    announced = [(hits[0].start, kind) for kind, terms in compiled.kinds if (hits := terms.hits(text))]
    if announced:
        return min(announced)[1]
    for item in compiled.routing:
        if item.rule.when_any and item.when.hits(text):
            return item.rule.guess_kind or item.rule.kinds[0]
    return PETITION


def _decide(rules: Rules, compiled: _Compiled, text: _Text, item: _CompiledRule, kind: str, guessed: bool,
            hits: list[_Hit]) -> RoutingDecision:
    rule = item.rule
    cooperating = [a for a in rule.cooperating if a != rule.lead]
    added: list[AddedAgency] = []
    for agency, reason, terms in item.adds:
        add_hits = terms.hits(text)
        if add_hits and agency != rule.lead and agency not in cooperating:
            words = [h.words for h in add_hits]
            added.append(AddedAgency(agency, f"{reason}: {_quoted(words)}", words))
            cooperating.append(agency)
    matched = list(dict.fromkeys(h.words for h in hits))
    return RoutingDecision(
        kind=kind, lead=rule.lead, cooperating=cooperating, rule=rule.id, matched=matched,
        explanation=_explain(rules, rule, kind, matched, added), field=_field(compiled, text, rule.lead),
        kind_guessed=guessed, added=added,
    )


def _field(compiled: _Compiled, text: _Text, lead: str) -> str | None:
    """The field with the most keywords in the text; on a tie, one the lead agency is competent in."""
    best, best_score = None, (0, False)
    for field_id, agencies, terms in compiled.fields:
        score = (len(terms.hits(text)), lead in agencies)
        if score[0] and score > best_score:
            best, best_score = field_id, score
    return best


def _quoted(words: list[str]) -> str:
    return ", ".join(f"'{w}'" for w in words)


def _explain(rules: Rules, rule: RoutingRule, kind: str, matched: list[str], added: list[AddedAgency]) -> str:
    """One Vietnamese sentence: which rule, which words, who leads and why others were added."""
    lead = rules.agency(rule.lead).name.vi
    why = (f"văn bản có {_quoted(matched)}" if matched
           else f"là {KIND_NAMES_VI.get(kind, kind)} không khớp quy tắc riêng nào")
    sentence = f"Theo quy tắc \"{rule.title.vi}\" ({rule.id}) vì {why}: {lead} chủ trì"
    if rule.cooperating:
        sentence += ", phối hợp " + ", ".join(rules.agency(a).name.vi for a in rule.cooperating)
    for add in added:
        sentence += f"; thêm {rules.agency(add.agency).name.vi} do {add.reason}"
    return sentence + "."
