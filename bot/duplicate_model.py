"""Whether two reports tell one incident, as a probability learned from pairs nobody on the team wrote.

The corpus the routing model learns from holds incidents told by two or three writers in their own words,
and twins: another incident at the same place on the same topic with one hard fact changed (a plot, an
amount, a plate, a person). The same incident told by two writers is a positive pair; an incident and its
twin, or two reports of the same agency and field, are negatives. A logistic regression over the facts
that agree and conflict, wording similarity and numbers left unmatched on both sides gives a calibrated
probability; the weights are learned, not set by hand.
"""

from __future__ import annotations

import itertools
import math
import random
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.tfidf import Weights

if TYPE_CHECKING:
    from bot.dupfacts import Facts
    from bot.dupscore import Report

C = 10.0  # chosen by 5-fold cross-validation over the training writers' pairs, grouped by incident
THRESHOLD = 0.6  # a link is proposed from this probability: a false link costs more than a missed one
NEAR_IDENTICAL = 0.9  # text similarity above which a conflicting fact does not veto (a corrected copy)
SEED = 7  # the sample of easy negatives is drawn the same way every time
SIGNALS = ("amount", "plot", "address", "plate", "person", "name", "date", "place")
HARD = ("amount", "plot", "plate", "date", "person")  # a conflict in one of these vetoes a link


@dataclass(frozen=True)
class Pair:
    a: dict[str, Any]
    b: dict[str, Any]
    same: bool
    sort: str  # same | twin | close


def pairs(rows: Sequence[dict[str, Any]], split: str) -> list[Pair]:
    """The labelled pairs of one split: one incident by two writers; an incident and its twin; and, as
    easy negatives, reports of the same agency and field from different incidents."""
    rows = [r for r in rows if r.get("split") == split and r.get("incident")]
    by_incident: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_incident[row["incident"]].append(row)
    twins = {r["incident"]: r["twin_of"] for r in rows if r.get("twin_of")}
    found = [Pair(a, b, True, "same") for group in by_incident.values()
             for a, b in itertools.combinations(group, 2) if a.get("writer") != b.get("writer")]
    found += [Pair(a, b, False, "twin") for twin, original in twins.items()
              for a in by_incident.get(twin, []) for b in by_incident.get(original, [])]
    rnd = random.Random(SEED)
    by_topic: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_topic[(row.get("lead", ""), row.get("field") or "")].append(row)
    related = {frozenset(pair) for pair in twins.items()}
    for group in by_topic.values():
        for _ in range(len(group) // 4 if len(group) > 1 else 0):
            a, b = rnd.sample(group, 2)
            if a["incident"] != b["incident"] and frozenset((a["incident"], b["incident"])) not in related:
                found.append(Pair(a, b, False, "close"))
    return found


def _unmatched(a: set[str], b: set[str]) -> tuple[bool, bool]:
    only_a, only_b = a - b, b - a
    return bool(only_a and only_b), bool(only_a) != bool(only_b)


def features(a: Report, b: Report, fa: Facts, fb: Facts, signals: dict[str, int], text: float,
             wording: float) -> list[float]:
    """The pair as numbers: each fact agreeing or conflicting, wording, numbers and names left over."""
    row = [text / 100]
    for name in SIGNALS:
        row += [1.0 if signals[name] > 0 else 0.0, 1.0 if signals[name] < 0 else 0.0]
    na = set(fa.numbers) | {str(x) for x in fa.amounts}
    nb = set(fb.numbers) | {str(x) for x in fb.amounts}
    both, one = _unmatched(na, nb)
    shared = len(na & nb) / min(len(na), len(nb)) if na and nb else 0.0
    names_both = bool(fa.capitals - fb.capitals and fb.capitals - fa.capitals
                      and not fa.capitals & fb.capitals)
    la, lb = len(fa.words), len(fb.words)
    # Kinds are left out: in the corpus one incident always carries one kind, while citizens file one bribe
    # as a tip and as a denunciation alike.
    row += [wording, shared, float(both), float(one), float(names_both), min(la, lb) / max(la, lb, 1)]
    return row


class PairModel:
    """Logistic regression over `features`, trained from a corpus's pairs of one split."""

    def __init__(self, rows: Sequence[dict[str, Any]], split: str = "train") -> None:
        from sklearn.linear_model import LogisticRegression

        from bot.dupfacts import extract
        from bot.dupscore import Report, signals, text_score

        training = pairs(rows, split)
        facts = {r["id"]: extract(r["text"]) for r in rows if r.get("split") == split}
        self.weights = Weights(" ".join(f.words) for f in facts.values())
        matrix = []
        for pair in training:
            ra, rb = (Report(p["text"], p.get("kind"), p.get("place")) for p in (pair.a, pair.b))
            fa, fb = facts[pair.a["id"]], facts[pair.b["id"]]
            matrix.append(features(ra, rb, fa, fb, signals(ra, rb, fa, fb), text_score(fa, fb),
                                   self.wording(fa, fb)))
        self.classifier = LogisticRegression(C=C, max_iter=5000)
        self.classifier.fit(matrix, [p.same for p in training])
        self.size = len(training)
        self.coef: list[float] = [float(x) for x in self.classifier.coef_[0]]
        self.intercept = float(self.classifier.intercept_[0])

    def wording(self, fa: Facts, fb: Facts) -> float:
        """Cosine of the two texts' TF-IDF vectors of words and word pairs."""
        va, vb = self.weights.of(fa.words), self.weights.of(fb.words)
        if len(va) > len(vb):
            va, vb = vb, va
        return sum(w * vb[j] for j, w in va.items() if j in vb)

    def probability(self, row: Sequence[float]) -> float:
        """The logistic regression's probability that the pair tells one incident."""
        logit = self.intercept + sum(w * x for w, x in zip(self.coef, row, strict=True))
        return 1.0 / (1.0 + math.exp(-logit))


_MODELS: dict[int, PairModel | None] = {}  # by the corpus's content: equal corpora share one model
_LOADED: dict[int, tuple[Sequence[dict[str, Any]], PairModel | None]] = {}  # by the loaded list itself
_TRAINING = threading.Lock()


def for_corpus(rows: Sequence[dict[str, Any]]) -> PairModel | None:
    """The model of a corpus, trained once a process (a few seconds); None when it holds no pairs of both
    kinds. The bot trains it at start, in a worker thread, beside the routing model. Every filing asks for
    it: the rules' own list is recognised by identity, and its content is hashed only the first time."""
    if not rows:
        return None
    loaded = _LOADED.get(id(rows))
    if loaded is not None and loaded[0] is rows:
        return loaded[1]
    key = hash(tuple((r.get("id"), r.get("text")) for r in rows))
    with _TRAINING:  # a report arriving while the start-up thread trains waits for that model
        if key not in _MODELS:
            labels = {p.same for p in pairs(rows, "train")}
            _MODELS[key] = PairModel(rows) if labels == {True, False} else None
        _LOADED[id(rows)] = (rows, _MODELS[key])
        return _MODELS[key]
