"""Routing: which agency leads a report and which co-operate, by the rules, with the reasons why.

The rules' words are found in the text by `bot.matching` (chat forms, sums of money, phrases with gaps,
order-free patterns). The kind, when the citizen did not choose one, weighs all the words that announce a
kind; a text that speaks of a crime or of corruption is proposed as that kind whatever word it opens with.
The lead agency is weighed between the rules and a model learned from a corpus of labelled reports
(`bot.routing_model`): the rules' first matching rule counts as evidence, the model reads the words the
rules never listed. Whichever lead wins, that lead's rule applies what the law decides (the co-operating
agencies, sums that make a crime, a party member); a rule marked `decides` is never overruled. Below the
rules' `min_confidence` the decision carries `ask`: the likeliest leads, offered to the citizen.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import asdict, dataclass
from typing import Any

from bot.kinds import COMPLAINT, CORRUPTION_TIP, CRIME_REPORT, DENUNCIATION, KINDS, PETITION
from bot.matching import Hit, Lexicon, Normaliser, Pattern, Terms, Text
from bot.routing_model import LeadModel, LeadScores
from bot.rules import RoutingRule, Rules, expand

KIND_NAMES_VI = {"complaint": "khiếu nại", "denunciation": "tố cáo", "corruption_tip": "tin báo tham nhũng",
                 "crime_report": "tin báo tội phạm", "petition": "kiến nghị, phản ánh"}
DECISIVE_KINDS = (CRIME_REPORT, CORRUPTION_TIP)  # a text speaking of these is that kind, whatever its opening
RULE_EVIDENCE = 1.5  # weight of a specific rule's words in guessing the kind, against 1 a kind word
KIND_ORDER = (CRIME_REPORT, CORRUPTION_TIP, DENUNCIATION, COMPLAINT, PETITION)  # on a tie, the more specific
RULE_WEIGHT = 0.3  # share of the lead's probability a matching specific rule carries against the model
ASK_MASS = 0.9  # the leads offered when asking cover this much of the probability...
ASK_MIN, ASK_MAX = 2, 4  # ...and are at least two and at most four
RULES_ONLY_CATCH_ALL = 0.5  # the confidence of a catch-all's decision when no model is trained


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
    second_opinion: dict[str, Any] | None = None  # the model's probabilities and the words that weighed most
    confidence: float = 1.0  # 0-1: the weighed probability of the lead
    ask: list[str] = dataclasses.field(default_factory=list)  # leads to offer the citizen; empty: decided
    triage: bool = False  # the citizen could not say: the triage agency leads until it assigns the lead

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
        self.model = (_model(rules.examples, rules.normalise.model_dump_json(), self.normaliser)
                      if rules.second_opinion is not None and rules.examples else None)

    def terms(self, words: list[str], unless: list[str]) -> Terms:
        patterns = [self.patterns[w[1:]] for w in words if w.startswith("@") and w[1:] in self.patterns]
        return Terms(self.lexicon, expand(self.rules.vocabulary, words), patterns,
                     expand(self.rules.vocabulary, unless))


_CACHE: dict[int, _Compiled] = {}
_MODELS: dict[tuple[int, str], LeadModel] = {}  # the same corpus and normalisation train the same model
_TRAINING = threading.Lock()


def _model(examples: list[tuple[str, str]], normalise: str, normaliser: Normaliser) -> LeadModel:
    """The model of these examples: trained once a process, however often the same rules are loaded."""
    key = (hash(tuple(examples)), normalise)
    with _TRAINING:  # a report arriving while the start-up thread trains waits for that model
        if key not in _MODELS:
            _MODELS[key] = LeadModel(examples, normaliser)
        return _MODELS[key]


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


def route(rules: Rules, text: str, kind: str | None = None, lead: str | None = None) -> RoutingDecision:
    """The routing decision for a text: the rules' first matching rule and the model weighed together.

    `lead`, when the citizen or an officer named it, is taken as decided: its rule adds what the law
    decides."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    compiled = _compiled(rules)
    matches = _Matches(Text(text, compiled.normaliser))
    guessed = kind is None
    if kind is None:
        kind = _guess_kind(compiled, matches)
    ruled = next((item for item in compiled.routing
                  if kind in item.rule.kinds and (not item.rule.when_any or matches.of(item))), None)
    if ruled is None:
        raise LookupError(f"no rule covers kind {kind!r}")  # load_rules refuses such files
    if lead is not None:
        rules.agency(lead)  # KeyError for an unknown agency
        item, kind = _rule_of(compiled, matches, lead, kind, guessed and lead != ruled.rule.lead)
        return _decide(rules, compiled, matches.text, item, kind, guessed, matches.of(item))
    specific = bool(ruled.rule.when_any)
    if compiled.model is None or (specific and ruled.rule.decides):
        confidence = 1.0 if specific or compiled.model is not None else RULES_ONLY_CATCH_ALL
        decision = _decide(rules, compiled, matches.text, ruled, kind, guessed, matches.of(ruled))
        return dataclasses.replace(decision, confidence=confidence)
    return _weighed(rules, compiled, matches, ruled, kind, guessed)


def _weighed(rules: Rules, compiled: _Compiled, matches: _Matches, ruled: _CompiledRule, kind: str,
             guessed: bool) -> RoutingDecision:
    """The lead with the most weight: the model's probabilities, and a share for a specific rule's lead."""
    assert compiled.model is not None and rules.second_opinion is not None
    scores = compiled.model.scores(matches.text)
    weights = dict(scores.probabilities)
    if ruled.rule.when_any:
        weights = {lead: (1 - RULE_WEIGHT) * p for lead, p in weights.items()}
        weights[ruled.rule.lead] = weights.get(ruled.rule.lead, 0.0) + RULE_WEIGHT
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
    lead, confidence = ranked[0]
    unsure = confidence < rules.second_opinion.min_confidence
    agreed = bool(ruled.rule.when_any) and lead == ruled.rule.lead  # the rule's words and the model agree
    if unsure and ruled.rule.when_any and not agreed:
        # the model overrules a rule's words only when it is sure: until the citizen answers, the rule's
        # lead stands and is offered first
        lead = ruled.rule.lead
        confidence = weights[lead]
        ranked = [(lead, confidence), *(item for item in ranked if item[0] != lead)]
    if lead == ruled.rule.lead:
        decision = _decide(rules, compiled, matches.text, ruled, kind, guessed, matches.of(ruled))
    else:
        item, kind = _rule_of(compiled, matches, lead, kind, guessed)
        decision = _decide(rules, compiled, matches.text, item, kind, guessed, matches.of(item))
        decision = dataclasses.replace(decision, explanation=_explain_model(rules, decision, scores,
                                                                            confidence, compiled))
    ask = _offered(rules, ranked) if unsure and not agreed else []  # agreeing, they are enough
    return dataclasses.replace(decision, confidence=round(confidence, 3), ask=ask,
                               second_opinion=scores.to_json())


def _offered(rules: Rules, ranked: list[tuple[str, float]]) -> list[str]:
    """The leads to offer: the likeliest, until they cover ASK_MASS of the weight; only leads the rules
    describe in a citizen's words (`reading`) can be offered."""
    offered: list[str] = []
    covered = 0.0
    for lead, weight in ranked:
        if rules.agency(lead).reading is None:
            continue
        if len(offered) >= ASK_MAX or (len(offered) >= ASK_MIN and covered >= ASK_MASS):
            break
        offered.append(lead)
        covered += weight
    return offered if len(offered) >= ASK_MIN else []


def _rule_of(compiled: _Compiled, matches: _Matches, lead: str, kind: str,
             rekind: bool) -> tuple[_CompiledRule, str]:
    """The rule that applies when `lead` leads: one of its rules whose words matched, else its first rule
    for the kind, else its first rule; with `rekind`, the kind that rule proposes."""
    own = [item for item in compiled.routing if item.rule.lead == lead]
    if not own:
        raise LookupError(f"no rule has {lead!r} as its lead")
    item = (next((i for i in own if kind in i.rule.kinds and i.rule.when_any and matches.of(i)), None)
            or next((i for i in own if kind in i.rule.kinds), None) or own[0])
    if rekind or kind not in item.rule.kinds:
        kind = item.rule.guess_kind or (kind if kind in item.rule.kinds else item.rule.kinds[0])
    return item, kind


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


def _explain_model(rules: Rules, decision: RoutingDecision, scores: LeadScores, confidence: float,
                   compiled: _Compiled) -> str:
    """One Vietnamese sentence for a lead the model chose: its confidence, the words that weighed most."""
    lead = rules.agency(decision.lead).name.vi
    size = compiled.model.size if compiled.model is not None else 0
    words = _quoted(scores.words) if scores.words else "toàn bộ nội dung"
    sentence = (f"Mô hình học từ {size} phản ánh đã phân loại đề xuất {lead} chủ trì "
                f"(độ tin cậy {confidence:.0%}), dựa trên các từ {words}")
    if decision.cooperating:
        sentence += "; phối hợp " + ", ".join(rules.agency(a).name.vi for a in decision.cooperating)
    for add in decision.added:
        sentence += f"; thêm {rules.agency(add.agency).name.vi} do {add.reason}"
    return sentence + "."


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
            words = list(dict.fromkeys(h.words for h in add_hits))  # each phrase once, however often
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
