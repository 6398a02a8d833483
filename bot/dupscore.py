"""Whether two reports tell one incident: shared facts weighed with text similarity, place as evidence.

Whole-text similarity alone cannot tell a victim's and a witness's account of one bribe (different words,
same facts) from two template complaints about different plots (same words, different facts). So the
score starts from how much of the shorter report's content the other shares, then adds what shared facts
confirm and takes away, strongly, what differing facts contradict: another plot, plate, amount or person.
Kinds are not compared (one bribe is often filed once as a tip and once as a denunciation), and a place is
only evidence: citizens name the old city, a neighbouring ward or none. Names from before the 2025 reform
are read as the wards of today they became (bot/places.py `area`): "phường Giếng Đáy" and "Phường Việt
Hưng" are one place, a ward of a former district is not another place than the district.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz

from bot.dupfacts import (
    DISTINCT_LABELS,
    OLD_CITIES,
    TITLES,
    Facts,
    extract,
    known_places,
    quick_fold,
)

THRESHOLD = 50.0

if TYPE_CHECKING:
    from bot.duplicate_model import PairModel

@dataclass(frozen=True)
class Report:
    text: str
    kind: str | None = None
    place: str | None = None


@dataclass
class Verdict:
    duplicate: bool
    score: float
    evidence: list[str] = field(default_factory=list)
    probability: float | None = None  # from the learned model, when one is trained

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"duplicate": self.duplicate, "score": round(self.score, 1)}
        if self.probability is not None:
            found["probability"] = round(self.probability, 3)
        return {**found, "evidence": self.evidence}


def _overlap(a: set[str], b: set[str]) -> float:
    """Share of the smaller set found in the larger: a short account inside a long one scores high."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _bigrams(words: list[str]) -> set[str]:
    return {f"{x} {y}" for x, y in itertools.pairwise(words)}


def text_score(fa: Facts, fb: Facts) -> float:
    """0-100: how much content (syllables and syllable pairs) the two accounts share."""
    wa, wb = list(fa.content), list(fb.content)
    if not wa or not wb:
        return 0.0
    uni = _overlap(set(wa), set(wb))
    bi = _overlap(_bigrams(wa), _bigrams(wb))
    fuzzy = fuzz.token_set_ratio(" ".join(wa), " ".join(wb)) / 100
    return 100 * (0.35 * uni + 0.45 * bi + 0.2 * fuzzy)


def _close(a: int, b: int) -> bool:
    return abs(a - b) <= 0.03 * max(a, b)


def _amounts(fa: Facts, fb: Facts) -> int:
    """1 when an amount is shared, -1 when both give amounts and none agree, 0 otherwise."""
    if not fa.amounts or not fb.amounts:
        return 0
    return 1 if any(_close(a, b) for a in fa.amounts for b in fb.amounts) else -1


def _sets(a: frozenset[str], b: frozenset[str]) -> int:
    if not a or not b:
        return 0
    return 1 if a & b else -1


def _typed(a: frozenset[str], b: frozenset[str]) -> int:
    """Labelled numbers ("plot:215", "to:4") compared label by label: a different plot is a conflict."""
    result = 0
    for label in {x.split(":")[0] for x in a} & {x.split(":")[0] for x in b}:
        va = {x for x in a if x.startswith(label + ":")}
        vb = {x for x in b if x.startswith(label + ":")}
        if va & vb:
            result = max(result, 1) if result >= 0 else result
        else:
            result = -1
    return result


def _names(fa: Facts, fb: Facts) -> int:
    """Named streets, hamlets and firms. A name matches when one starts the other ("18a" / "18a dong
    trieu") or is in the other's text; it differs when the other names another one under the same label,
    or uses the label ("công ty", "thôn") without this name."""
    result = 0
    text_a, text_b = f" {' '.join(fa.words)} ", f" {' '.join(fb.words)} "
    for names, other, other_text in ((fa.names, fb.names, text_b), (fb.names, fa.names, text_a)):
        for item in names:
            label, name = item.split(":", 1)
            same_label = [o.split(":", 1)[1] for o in other if o.startswith(label + ":")]
            if f" {name} " in other_text or any(n.startswith(name) or name.startswith(n) for n in same_label):
                return 1
            if same_label or (label in DISTINCT_LABELS and f" {label} " in other_text):
                result = -1
    return result


def _named_in(fa: Facts, fb: Facts) -> bool:
    """A full name of one report written in the other (a street named after someone counts too)."""
    text_a, text_b = f" {' '.join(fa.words)} ", f" {' '.join(fb.words)} "
    return any(f" {n} " in text_b for n in fa.people) or any(f" {n} " in text_a for n in fb.people)


def _given_name_shared(fa: Facts, fb: Facts) -> bool:
    """A full name in one report whose given name appears in the other ("ông Lê Văn Tuấn" / "Tuấn")."""
    for named, other in ((fa, fb), (fb, fa)):
        if other.people:
            continue  # the other names its people in full: compared as full names
        titled = {w for t, w in zip(other.words, other.words[1:], strict=False) if t in TITLES}
        for name in named.people:
            given = name.split()[-1]
            if given in titled or (given in other.capitals and given not in known_places()):
                return True
    return False


def _place_names(place: str | None) -> set[str]:
    from bot.places import _PREFIX  # the type words of ward names ("phuong", "xa")

    folded = _PREFIX.sub("", quick_fold(place or ""))
    return {folded} if folded else set()


def _told(facts: Facts) -> frozenset[str]:
    """The ward of today a report's words name, if one (an old ward counts with its type word)."""
    from bot.places import find_in_text

    found = find_in_text(" ".join(facts.words))
    return frozenset({found.place.code}) if found else frozenset()


def _wards(a: Report, b: Report, fa: Facts, fb: Facts) -> int | None:
    """The places compared as the wards of today they may be; None when a name is not the province's.
    A ward inside a former district is neither the same place nor another one."""
    from bot.places import area

    wards_a, wards_b = area(a.place), area(b.place)
    if not wards_a or not wards_b:
        return None
    if wards_a == wards_b or wards_a == _told(fb) or wards_b == _told(fa):
        return 1
    if wards_a <= wards_b or wards_b <= wards_a:
        return 0
    return -2 if len(wards_a) == len(wards_b) == 1 else -1


def _place(a: Report, b: Report, fa: Facts, fb: Facts) -> int:
    """1 for one place (an old name and today's name of it are one), -2 for two wards of today, -1 when
    one side is a former district that does not hold the other, 0 when it might."""
    pa, pb = _place_names(a.place), _place_names(b.place)
    if not pa or not pb:
        return 0
    if pa & pb:
        return 1
    text_a, text_b = " ".join(fa.words), " ".join(fb.words)
    if any(f" {p} " in f" {text_b} " for p in pa) or any(f" {p} " in f" {text_a} " for p in pb):
        return 1
    wards = _wards(a, b, fa, fb)
    if wards is not None:
        return wards
    if pa & set(OLD_CITIES) or pb & set(OLD_CITIES):
        return -1  # a former city spans several of today's wards
    return -2


# (weight when shared, weight when contradicted) of each kind of fact.
WEIGHTS: dict[str, tuple[float, float]] = {
    "amount": (14, -40),
    "plot": (18, -80),
    "address": (10, -45),
    "plate": (22, -80),
    "person": (16, -50),
    "name": (12, -35),
    "date": (8, -20),
    "place": (0, -8),  # -16 for two different wards of today
}


def signals(a: Report, b: Report, fa: Facts, fb: Facts) -> dict[str, int]:
    """Each kind of fact: 1 shared, -1 (or -2 for two wards of today) contradicted, 0 not comparable."""
    if _named_in(fa, fb) or _given_name_shared(fa, fb):
        people = 1
    else:
        people = -1 if fa.people and fb.people else 0
    found = {
        "amount": _amounts(fa, fb),
        "plot": _typed(fa.plots, fb.plots),
        "address": _typed(fa.addresses, fb.addresses),
        "plate": _sets(fa.plates, fb.plates),
        "person": people,
        "name": _names(fa, fb),
        "date": _sets(fa.dates, fb.dates),
        "place": _place(a, b, fa, fb),
    }
    if found["place"] < 0 and found["address"] > 0:  # "tổ 4 khu 2" of two different wards
        found["address"] = 0
    return found


def compare(a: Report, b: Report, fa: Facts | None = None, fb: Facts | None = None,
            model: PairModel | None = None) -> Verdict:
    """The verdict on two reports, with the evidence an officer can check.

    With a model learned from labelled pairs (`bot.duplicate_model`) the verdict is its probability, and a
    conflicting hard fact vetoes a link unless the texts are near-identical; without one, the weights
    below score the pair."""
    from bot import duplicate_model

    fa = fa or extract(a.text)
    fb = fb or extract(b.text)
    text = text_score(fa, fb)
    evidence = [f"text {text:.0f}"]
    found = signals(a, b, fa, fb)
    score = text
    for name, signal in found.items():
        if signal:
            gain, loss = WEIGHTS[name]
            score += gain if signal > 0 else loss * -signal
            evidence.append(f"{name} {'same' if signal > 0 else 'differs'}")
    score = max(0.0, min(100.0, score))
    if model is None:
        return Verdict(score >= THRESHOLD, score, evidence)
    wording = model.wording(fa, fb)
    probability = model.probability(duplicate_model.features(a, b, fa, fb, found, text, wording))
    vetoed = [name for name in duplicate_model.HARD if found[name] < 0]
    if vetoed and text / 100 < duplicate_model.NEAR_IDENTICAL:
        evidence.append("veto " + ",".join(vetoed))
        duplicate = False
    else:
        duplicate = probability >= duplicate_model.THRESHOLD
    return Verdict(duplicate, score, evidence, probability)
