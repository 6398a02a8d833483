"""TF-IDF weights of words and word pairs, learned with scikit-learn and applied to one text by hand.

Both learned models (the lead agency, whether two reports tell one incident) read a text as the folded
words and word pairs it holds. scikit-learn fits the weights; a single short text is then weighed here on
its own few terms, with the same arithmetic as the vectoriser's transform (sublinear counts, idf, unit
length): the general path costs about a millisecond a call, this a few dozen microseconds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any


class Weights:
    """Words and word pairs of a corpus of folded texts (words separated by spaces), with their idf."""

    def __init__(self, texts: Iterable[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectoriser = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2,
                                          token_pattern=r"\S+", lowercase=False)
        self.matrix = self.vectoriser.fit_transform(texts)  # the corpus, weighed: what a model trains on
        self.vocabulary: dict[str, int] = dict(self.vectoriser.vocabulary_)
        self.idf: list[float] = [float(x) for x in self.vectoriser.idf_]
        self.terms = self.vectoriser.get_feature_names_out()

    def transform(self, texts: Iterable[str]) -> Any:
        """Texts weighed by scikit-learn itself (a sparse matrix)."""
        return self.vectoriser.transform(texts)

    def of(self, words: Sequence[str]) -> dict[int, float]:
        """One text's weights by term index, of unit length; terms the corpus lacks are left out."""
        counts: dict[int, int] = {}
        for term in (*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))):
            j = self.vocabulary.get(term)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        weights = {j: (1.0 + math.log(n)) * self.idf[j] for j, n in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {j: w / norm for j, w in weights.items()}
