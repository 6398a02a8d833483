"""A second opinion for texts the rules only send to a catch-all: the nearest labelled messages.

Each labelled message (the rules' `second_opinion.examples`) becomes a vector of character n-grams of its
normalised words, weighted by TF-IDF; a new text's nearest messages by cosine similarity vote for their
rule. Character n-grams survive typos, missing diacritics and word order, which is what the rules miss.
It is trained when the rules are loaded (a few hundred messages take well under a second), in pure
Python: the vectors are small and an inverted index answers in a fraction of a millisecond.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.matching import Normaliser, Text

NGRAMS = (4,)  # lengths of the character n-grams (3-grams and 5-grams added nothing in cross-validation)
NEIGHBOURS = 5  # how many nearest messages vote
MAX_DF_SHARE = 0.1  # n-grams in more messages than this share tell nothing and are left out
QUERY_GRAMS = 40  # a long text is compared by its rarest n-grams only, which keeps the look-up fast
MIN_SIMILARITY = 0.3  # below this the nearest message is not near: no opinion


@dataclass(frozen=True)
class Example:
    text: str
    rule: str
    similarity: float


@dataclass(frozen=True)
class Opinion:
    rule: str
    confidence: float  # share of the neighbours' similarity that votes for `rule`
    nearest: list[Example]

    def to_json(self, adopted: bool) -> dict[str, Any]:
        return {"rule": self.rule, "confidence": round(self.confidence, 3), "adopted": adopted,
                "nearest": [{"text": e.text, "rule": e.rule, "similarity": round(e.similarity, 3)}
                            for e in self.nearest]}


def _grams(words: Sequence[str]) -> Counter[str]:
    line = f" {' '.join(words)} "
    return Counter(line[i:i + n] for n in NGRAMS for i in range(len(line) - n + 1))


class NearestExamples:
    """Nearest-neighbour voting over TF-IDF character n-grams of labelled messages."""

    def __init__(self, examples: Sequence[tuple[str, str]], normaliser: Normaliser) -> None:
        from bot.matching import Text

        self.examples = list(examples)
        counts = [_grams([t.fold for t in Text(text, normaliser).tokens]) for text, _ in self.examples]
        df: Counter[str] = Counter(g for c in counts for g in c)
        limit = max(1.0, MAX_DF_SHARE * len(counts))
        n = len(counts)
        self.idf = {g: math.log((n + 1) / (d + 1)) + 1 for g, d in df.items() if d <= limit}
        self.index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for doc, c in enumerate(counts):
            for gram, weight in self._vector(c).items():
                self.index[gram].append((doc, weight))

    def _vector(self, counts: Counter[str]) -> dict[str, float]:
        vector = {g: (1 + math.log(c)) * self.idf[g] for g, c in counts.items() if g in self.idf}
        norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
        return {g: w / norm for g, w in vector.items()}

    def opinion(self, text: Text) -> Opinion | None:
        """The rule the nearest labelled messages vote for, or None when none is near."""
        if not self.examples:
            return None
        scores: dict[int, float] = defaultdict(float)
        vector = self._vector(_grams([t.fold for t in text.tokens]))
        index = self.index
        # (weight, gram) pairs compare without a key function; ties between equal weights fall to the gram
        for weight, gram in heapq.nlargest(QUERY_GRAMS, zip(vector.values(), vector.keys(), strict=True)):
            for doc, w in index.get(gram, ()):
                scores[doc] += weight * w
        nearest = [(doc, sim) for sim, doc in heapq.nlargest(
            NEIGHBOURS, zip(scores.values(), scores.keys(), strict=True))]
        if not nearest or nearest[0][1] < MIN_SIMILARITY:
            return None
        votes: dict[str, float] = defaultdict(float)
        for doc, sim in nearest:
            votes[self.examples[doc][1]] += sim
        rule = max(votes, key=lambda r: votes[r])
        if self.examples[nearest[0][0]][1] != rule:
            return None  # the nearest message disagrees with the vote: no clear opinion
        examples = [Example(self.examples[d][0], self.examples[d][1], s) for d, s in nearest]
        return Opinion(rule, votes[rule] / sum(votes.values()), examples)
