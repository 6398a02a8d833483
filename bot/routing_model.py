"""The lead agency read from the citizen's words: a linear model learned from a labelled corpus.

Word lists hold only for the words their author thought of; a corpus of reports written blind by many
people, in the ways citizens write, holds for more. Each report becomes TF-IDF weights of its folded words
and word pairs (the rules' normaliser folds diacritics and chat forms first, so "ko dc" and "không được"
are one); a multinomial logistic regression gives a probability for each lead agency. It is trained when
the rules are loaded (about 3,000 reports take a second or two), deterministically, from files that ship
with the rules: nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.tfidf import Weights

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
        from sklearn.linear_model import LogisticRegression

        self.normaliser = normaliser
        self.size = len(examples)
        self.weights = Weights(self.words(text) for text, _ in examples)
        self.classifier = LogisticRegression(C=C, max_iter=5000)
        self.classifier.fit(self.weights.matrix, [lead for _, lead in examples])
        self.leads: list[str] = [str(c) for c in self.classifier.classes_]
        self.coef = self.classifier.coef_
        self.intercept = self.classifier.intercept_

    def words(self, text: str) -> str:
        """The text as the model reads it: its tokens folded (diacritics, case, chat forms)."""
        return " ".join(token.fold for token in self.normaliser.tokens(text))

    def scores(self, text: Text) -> LeadScores:
        """Each lead's probability for a text already tokenised by the rules' normaliser.

        The text's weights (`bot.tfidf`), then the classifier's predict_proba (a softmax of the logits)
        on its few terms."""
        import numpy as np

        weights = self.weights.of([token.fold for token in text.tokens])
        columns = np.fromiter(weights, dtype=np.intp, count=len(weights))
        values = np.fromiter(weights.values(), dtype=float, count=len(weights))
        pushes = self.coef[:, columns] * values  # leads x terms
        logits = pushes.sum(axis=1) + self.intercept
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        best = int(probabilities.argmax())
        order = np.argsort(-pushes[best], kind="stable")
        reasons = [str(self.weights.terms[columns[k]]) for k in order[:REASON_TERMS] if pushes[best, k] > 0]
        leads = {lead: float(p) for lead, p in zip(self.leads, probabilities, strict=True)}
        return LeadScores(leads, reasons)
