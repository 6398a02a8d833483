"""Routing: which agency leads a report and which co-operate, by the rules, with the reasons why.

The rules' words are found in the text by `bot.matching` (chat forms, sums of money, phrases with gaps,
order-free patterns). The kind, when the citizen did not choose one, weighs all the words that announce a
kind; a text that speaks of a crime or of corruption is proposed as that kind whatever word it opens with.
When only a catch-all rule is reached, a classifier trained on labelled messages may propose a specific
rule (`bot.routing_model`); it never overrides a rule that matched.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any

from bot.kinds import COMPLAINT, CORRUPTION_TIP, CRIME_REPORT, DENUNCIATION, KINDS, PETITION
from bot.matching import Hit, Lexicon, Normaliser, Pattern, Terms, Text
from bot.routing_model import NearestExamples, Opinion
from bot.rules import RoutingRule, Rules, expand

KIND_NAMES_VI = {"complaint": "khiếu nại", "denunciation": "tố cáo", "corruption_tip": "tin báo tham nhũng",
                 "crime_report": "tin báo tội phạm", "petition": "kiến nghị, phản ánh"}
DECISIVE_KINDS = (CRIME_REPORT, CORRUPTION_TIP)  # a text speaking of these is that kind, whatever its opening
RULE_EVIDENCE = 1.5  # weight of a specific rule's words in guessing the kind, against 1 a kind word
KIND_ORDER = (CRIME_REPORT, CORRUPTION_TIP, DENUNCIATION, COMPLAINT, PETITION)  # on a tie, the more specific


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
    second_opinion: dict[str, Any] | None = None  # the classifier's proposal, when only a catch-all matched

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _CompiledRule:
    rule: RoutingRule
    when: Terms
    adds: list[tuple[str, str, Terms]]  # agency, reason (vi), words


class _Compiled:
    """The rules turned into phrase lists once, since routing runs for every message."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        table = rules.normalise
        self.normaliser = Normaliser(table.words, table.unit_table(), table.amount_words)
        self.lexicon = Lexicon()
        self.patterns = {
            name: Pattern(name, [self.lexicon.words(expand(rules.vocabulary, g)) for g in p.groups()],
                          p.within)
            for name, p in rules.patterns.items()
        }
        self.routing = [
            _CompiledRule(r, self.terms(r.when_any, r.unless_any),
                          [(a.agency, a.reason.vi, self.terms(a.when_any, r.unless_any)) for a in r.add])
            for r in rules.routing
        ]
        self.fields = [(f.id, frozenset(f.agencies), self.terms(f.keywords, f.unless_any))
                       for f in rules.fields]
        self.kinds = [(k, self.terms(words, [])) for k, words in rules.kind_words.items()]
        self.model = NearestExamples(rules.examples, self.normaliser) if rules.second_opinion else None

    def terms(self, words: list[str], unless: list[str]) -> Terms:
        patterns = [self.patterns[w[1:]] for w in words if w.startswith("@") and w[1:] in self.patterns]
        return Terms(self.lexicon, expand(self.rules.vocabulary, words), patterns,
                     expand(self.rules.vocabulary, unless))


_CACHE: dict[int, _Compiled] = {}


def prepare(rules: Rules) -> None:
    """Compile the rules' phrase index and second opinion now (about 0.1 s), so the first report after a
    start does not wait for it; safe in a worker thread."""
    _compiled(rules)


def _compiled(rules: Rules) -> _Compiled:
    compiled = _CACHE.get(id(rules))
    if compiled is None or compiled.rules is not rules:
        compiled = _CACHE[id(rules)] = _Compiled(rules)
    return compiled


class _Matches:
    """Each rule's hits in one text, looked up once."""

    def __init__(self, text: Text) -> None:
        self.text = text
        self._hits: dict[str, list[Hit]] = {}

    def of(self, item: _CompiledRule) -> list[Hit]:
        if item.rule.id not in self._hits:
            self._hits[item.rule.id] = item.when.hits(self.text) if item.rule.when_any else []
        return self._hits[item.rule.id]


def route(rules: Rules, text: str, kind: str | None = None) -> RoutingDecision:
    """The routing decision for a text; first matching rule wins, a catch-all may take a second opinion."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    compiled = _compiled(rules)
    matches = _Matches(Text(text, compiled.normaliser))
    guessed = kind is None
    if kind is None:
        kind = _guess_kind(compiled, matches)
    for item in compiled.routing:
        if kind not in item.rule.kinds or (item.rule.when_any and not matches.of(item)):
            continue
        if not item.rule.when_any and compiled.model is not None:
            return _catch_all(rules, compiled, matches.text, item, kind, guessed)
        return _decide(rules, compiled, matches.text, item, kind, guessed, matches.of(item))
    raise LookupError(f"no rule covers kind {kind!r}")  # load_rules refuses such files


def _guess_kind(compiled: _Compiled, matches: _Matches) -> str:
    """The kind with the most evidence: words announcing a kind, and the first specific rule that matches."""
    first = next((item for item in compiled.routing if item.rule.when_any and matches.of(item)), None)
    ruled = (first.rule.guess_kind or first.rule.kinds[0]) if first else None
    if ruled in DECISIVE_KINDS:
        return ruled
    scores = {kind: float(len({h.words.lower() for h in terms.hits(matches.text)}))
              for kind, terms in compiled.kinds}
    if ruled is not None:
        scores[ruled] = scores.get(ruled, 0.0) + RULE_EVIDENCE
    best = max(KIND_ORDER, key=lambda k: (scores.get(k, 0.0), -KIND_ORDER.index(k)))
    return best if scores.get(best, 0.0) > 0 else PETITION


def _catch_all(rules: Rules, compiled: _Compiled, text: Text, item: _CompiledRule, kind: str,
               guessed: bool) -> RoutingDecision:
    """The catch-all's decision, or the rule the classifier proposes when it is confident enough."""
    assert compiled.model is not None and rules.second_opinion is not None
    opinion = compiled.model.opinion(text)
    proposed = _proposed(compiled, opinion, kind, guessed, rules.second_opinion.min_confidence)
    if proposed is None:
        decision = _decide(rules, compiled, text, item, kind, guessed, [])
        return dataclasses.replace(decision, second_opinion=opinion.to_json(False) if opinion else None)
    new_kind = kind if kind in proposed.rule.kinds else (proposed.rule.guess_kind or proposed.rule.kinds[0])
    decision = _decide(rules, compiled, text, proposed, new_kind, guessed, [])
    assert opinion is not None
    lead = rules.agency(proposed.rule.lead).name.vi
    nearest = "; ".join(f"\"{_short(e.text)}\"" for e in opinion.nearest[:2])
    explanation = (f"Không khớp quy tắc riêng nào; mô hình học từ các tin đã phân loại đề xuất quy tắc "
                   f"\"{proposed.rule.title.vi}\" ({proposed.rule.id}), độ tin cậy {opinion.confidence:.0%}, "
                   f"gần nhất với: {nearest}: {lead} chủ trì")
    if decision.cooperating:
        explanation += ", phối hợp " + ", ".join(rules.agency(a).name.vi for a in decision.cooperating)
    return dataclasses.replace(decision, explanation=explanation + ".", second_opinion=opinion.to_json(True))


def _proposed(compiled: _Compiled, opinion: Opinion | None, kind: str, guessed: bool,
              min_confidence: float) -> _CompiledRule | None:
    if opinion is None or opinion.confidence < min_confidence:
        return None
    item = next((i for i in compiled.routing if i.rule.id == opinion.rule), None)
    if item is None or (kind not in item.rule.kinds and not guessed):
        return None
    return item


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _decide(rules: Rules, compiled: _Compiled, text: Text, item: _CompiledRule, kind: str, guessed: bool,
            hits: list[Hit]) -> RoutingDecision:
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


def _field(compiled: _Compiled, text: Text, lead: str) -> str | None:
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
