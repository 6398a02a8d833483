"""The lead agency read from the citizen's words: a linear model learned from a labelled corpus.

Word lists hold only for the words their author thought of; a corpus of reports written blind by many
people, in the ways citizens write, holds for more. Each report becomes TF-IDF weights of its folded words
and word pairs (the rules' normaliser folds diacritics and chat forms first, so "ko dc" and "không được"
are one); a multinomial logistic regression gives a probability for each lead agency. It is trained when
the rules are loaded (about 3,000 reports take a second or two), deterministically, from files that ship
with the rules: nothing is downloaded.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.matching import Normaliser, Text

C = 100.0  # inverse regularisation: chosen by leaving one writer out at a time on the training writers
REASON_TERMS = 5  # how many of the words that weighed most for the lead a decision shows


@dataclass(frozen=True)
class LeadScores:
    """The model's reading of one text: a probability per lead agency, and the words that weighed most."""

    probabilities: dict[str, float]
    words: list[str]  # the text's words that pushed most towards the likeliest lead

    def ranked(self) -> list[tuple[str, float]]:
        return sorted(self.probabilities.items(), key=lambda kv: (-kv[1], kv[0]))

    def to_json(self) -> dict[str, Any]:
        return {"probabilities": {k: round(v, 3) for k, v in self.ranked()}, "words": self.words}


class LeadModel:
    """TF-IDF over folded words and word pairs, and a logistic regression over the lead agencies."""

    def __init__(self, examples: Sequence[tuple[str, str]], normaliser: Normaliser) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.normaliser = normaliser
        self.size = len(examples)
        self.vectoriser = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2,
                                          token_pattern=r"\S+", lowercase=False)
        matrix = self.vectoriser.fit_transform([self.words(text) for text, _ in examples])
        self.classifier = LogisticRegression(C=C, max_iter=5000)
        self.classifier.fit(matrix, [lead for _, lead in examples])
        self.leads: list[str] = [str(c) for c in self.classifier.classes_]
        self.terms = self.vectoriser.get_feature_names_out()
        self.vocabulary: dict[str, int] = dict(self.vectoriser.vocabulary_)
        self.idf = self.vectoriser.idf_
        self.coef = self.classifier.coef_
        self.intercept = self.classifier.intercept_

    def words(self, text: str) -> str:
        """The text as the model reads it: its tokens folded (diacritics, case, chat forms)."""
        return " ".join(token.fold for token in self.normaliser.tokens(text))

    def scores(self, text: Text) -> LeadScores:
        """Each lead's probability for a text already tokenised by the rules' normaliser.

        The same arithmetic as the vectoriser's transform and the classifier's predict_proba (sublinear
        term frequency, idf, unit length, softmax), done on the text's few terms: scikit-learn's general
        path costs about a millisecond a call, this a few dozen microseconds."""
        import numpy as np

        words = [token.fold for token in text.tokens]
        counts: dict[int, int] = {}
        vocabulary = self.vocabulary
        for term in (*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))):
            j = vocabulary.get(term)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        columns = np.fromiter(counts, dtype=np.intp, count=len(counts))
        frequencies = np.fromiter(counts.values(), dtype=float, count=len(counts))
        weights = (1.0 + np.log(frequencies)) * self.idf[columns]
        norm = float(np.sqrt(weights @ weights))
        if norm:
            weights /= norm
        pushes = self.coef[:, columns] * weights  # leads x terms
        logits = pushes.sum(axis=1) + self.intercept
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        best = int(probabilities.argmax())
        order = np.argsort(-pushes[best], kind="stable")
        reasons = [str(self.terms[columns[k]]) for k in order[:REASON_TERMS] if pushes[best, k] > 0]
        leads = {lead: float(p) for lead, p in zip(self.leads, probabilities, strict=True)}
        return LeadScores(leads, reasons)
