"""Finding the rules' words in a citizen's text, the way citizens write.

A text is split into words, its chat forms replaced by the words they stand for ("cb" -> "cán bộ",
"3tr" -> "3 triệu", from the rules' `normalise` table), and its sums of money read as numbers. Words are
compared without diacritics and on whole words, so "lo de" finds "lô đề"; but a word written with
diacritics must agree with the rule's, so "đánh bác sĩ" is not "đánh bạc", and in a text written with
diacritics a one-word keyword must carry them too ("công ty" is not "tỷ"). Plain phrases of two or more
words and at least twelve letters also match with small typos.

A phrase may hold `#` (one number), `...` (up to four other words: "đòi ... tiền" finds "đòi thêm tiền")
and `{amount}` or `{amount>=2000000}` (a sum of money, compared in đồng). A pattern is an order-free set of
groups of words that must all occur within a few words of each other (a demand near a sum of money).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import fuzz

from bot.amounts import NUMBER, NUMBER_WITH_UNIT, Amount, find_amounts
from bot.textnorm import fold

FUZZY_MIN_LETTERS = 12  # shorter phrases are too easily confused with other words to match loosely
FUZZY_CUTOFF = 88.0  # rapidfuzz ratio; allows about one wrong letter in ten
FUZZY_WORD_CUTOFF = 70.0  # a misspelt word must resemble its own: "ruoc" for "ruot", not "dung" for "den"
ACCENTED_SHARE = 0.3  # share of words with diacritics above which a text is taken as written with them
GAP_WORDS = 4  # how many other words `...` in a phrase may stand for
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_WORD = re.compile(r"\d+(?:[.,]\d+)*[^\W\d_]*\d*|\w+")
_ELEMENT = re.compile(r"\.\.\.|\{[^}]*\}|#|\w+")
AMOUNT_ATOM = re.compile(r"\{amount\s*(?:(>=|<=|>|<)\s*(\d[\d_]*))?\s*\}")
NUMBER_ATOM, GAP_ATOM = "#", "..."
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b,
}

Key = tuple[str, frozenset[str]]


def syllable(word: str) -> Key:
    """A word's letters (with their hats and đ) and its tone marks, wherever the tone is placed."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    letters = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
    return letters, frozenset(ch for ch in decomposed if ch in _TONES)


def fold_word(word: str) -> str:
    """A word without diacritics, lower case; numbers keep their separators ("1.500.000")."""
    if word[:1].isdigit():
        word = word.lower().replace("đ", "d")
        return "".join(ch for ch in unicodedata.normalize("NFD", word) if unicodedata.category(ch) != "Mn")
    return fold(word)


def _is_marked(word: str) -> bool:
    return fold(word) != word.lower()


@lru_cache(maxsize=65536)
def _written(word: str) -> tuple[str, Key, bool]:
    """A written word's folded form, letters-and-tones key and whether it carries diacritics (cached)."""
    folded = fold_word(word)
    return folded, syllable(word), bool(folded) and _is_marked(word)


class Token(NamedTuple):  # a tuple: texts are split into tokens for every message routed
    fold: str
    key: Key
    marked: bool
    start: int  # where the written word lies in the text (an expanded chat form keeps its word's place)
    end: int


class Normaliser:
    """The rules' `normalise` table, folded: chat forms, money units and sums written as words."""

    def __init__(self, words: dict[str, str], units: dict[str, tuple[str, float]],
                 amount_words: dict[str, float]) -> None:
        self.words = {fold(k): [(fold(w), syllable(w), _is_marked(w)) for w in v.split()]
                      for k, v in words.items()}
        self.units = {fold(alias): (fold(unit), syllable(unit), value)
                      for alias, (unit, value) in units.items()}
        self.values = {canonical: value for canonical, _, value in self.units.values()}
        self.amount_words = {fold(k): v for k, v in amount_words.items()}

    def tokens(self, text: str) -> list[Token]:
        out: list[Token] = []
        for m in _WORD.finditer(text):
            word = m.group()
            folded, key, marked = _written(word)
            if not folded:
                continue
            glued = NUMBER_WITH_UNIT.fullmatch(folded)
            if glued and glued.group(2) in self.units:
                number, alias, rest = glued.groups()
                out.append(Token(number, (number, frozenset()), False, m.start(), m.end()))
                out.append(self._unit(alias, m.start(), m.end()))
                if rest:
                    out.append(Token(rest, (rest, frozenset()), False, m.start(), m.end()))
            elif folded in self.units and out and NUMBER.fullmatch(out[-1].fold):
                out.append(self._unit(folded, m.start(), m.end()))
            elif folded in self.words:
                out += [Token(f, key, marked, m.start(), m.end()) for f, key, marked in self.words[folded]]
            else:
                out.append(Token(folded, key, marked, m.start(), m.end()))
        return out

    def _unit(self, alias: str, start: int, end: int) -> Token:
        canonical, key, _ = self.units[alias]
        return Token(canonical, key, True, start, end)


class Text:
    """A message split into normalised words, with the indexes matching needs."""

    def __init__(self, text: str, normaliser: Normaliser) -> None:
        self.text = text
        self.tokens = normaliser.tokens(text)
        self.positions: dict[str, list[int]] = {}
        for i, token in enumerate(self.tokens):
            self.positions.setdefault(token.fold, []).append(i)
        written = [w[2] for m in _WORD.finditer(text) if (w := _written(m.group()))[0]]
        self.accented = bool(written) and sum(written) / len(written) >= ACCENTED_SHARE
        self.numbers = [i for i, t in enumerate(self.tokens) if t.fold[:1].isdigit()]
        self.amounts: dict[int, list[Amount]] = {}
        for amount in find_amounts([t.fold for t in self.tokens], normaliser.values, normaliser.amount_words):
            self.amounts.setdefault(amount.start, []).append(amount)
        self.initials = "".join(t.fold[0] for t in self.tokens)
        self.found: dict[int, dict[str, list[tuple[int, int]]]] = {}  # by lexicon: each phrase's spans

    def span(self, start: int, end: int) -> str:
        return self.text[self.tokens[start].start:self.tokens[end - 1].end]

    def runs(self, length: int, wanted: dict[str, list[Phrase]]) -> dict[str, list[int]]:
        """Start positions of the runs of `length` words whose first letters are among `wanted`'s keys."""
        found: dict[str, list[int]] = {}
        initials = self.initials
        for i in range(len(initials) - length + 1):
            key = initials[i:i + length]
            if key in wanted:
                found.setdefault(key, []).append(i)
        return found


@dataclass(frozen=True)
class _Word:
    fold: str
    key: Key
    marked: bool


@dataclass(frozen=True)
class _AmountAtom:
    op: str | None
    limit: float

    def accepts(self, value: float) -> bool:
        return self.op is None or _COMPARE[self.op](value, self.limit)


_Element = _Word | _AmountAtom | str  # str: NUMBER_ATOM or GAP_ATOM


def phrase_elements(phrase: str) -> list[_Element]:
    """The parts of a phrase of the rules; raises ValueError on a malformed `{...}`."""
    elements: list[_Element] = []
    for part in _ELEMENT.findall(phrase):
        if part.startswith("{"):
            atom = AMOUNT_ATOM.fullmatch(part)
            if atom is None:
                raise ValueError(f"unknown placeholder {part!r} (use {{amount}} or {{amount>=2000000}})")
            op, limit = atom.groups()
            elements.append(_AmountAtom(op, float(limit.replace("_", "")) if limit else 0.0))
        elif part in (NUMBER_ATOM, GAP_ATOM):
            elements.append(NUMBER_ATOM if part == NUMBER_ATOM else GAP_ATOM)  # compared by identity
        elif fold(part):
            elements.append(_Word(fold(part), syllable(part), _is_marked(part)))
    if elements and (elements[0] == GAP_ATOM or elements[-1] == GAP_ATOM):
        raise ValueError("a phrase cannot begin or end with '...'")
    return elements


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    words: str


class Phrase:
    """One word or phrase of the rules, ready to look up in a text."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.elements = phrase_elements(word)
        words = [e for e in self.elements if isinstance(e, _Word)]
        self.words = words
        self.plain = len(words) == len(self.elements)
        self.joined = " ".join(e.fold for e in words)
        self.first = self.elements[0].fold if self.elements and isinstance(self.elements[0], _Word) else None
        self.fuzzy = self.plain and len(words) >= 2 and len(self.joined) >= FUZZY_MIN_LETTERS
        self.initials = "".join(e.fold[0] for e in words)

    def exact(self, text: Text) -> list[tuple[int, int]]:
        """Spans where the phrase occurs as written (diacritics permitting)."""
        if not self.elements:
            return []
        if self.first is not None:
            starts: list[int] = text.positions.get(self.first, [])
        elif isinstance(self.elements[0], _AmountAtom):
            starts = list(text.amounts)
        else:
            starts = text.numbers
        if self.plain:
            return [(i, i + len(self.elements)) for i in starts if self._plain_at(text, i)]
        return [(i, end) for i in starts if (end := self._match(text, 0, i)) is not None]

    def _plain_at(self, text: Text, pos: int) -> bool:
        """A phrase of words only, at word `pos`: `_match` without the recursion, for the common case."""
        tokens, words = text.tokens, self.words
        if pos + len(words) > len(tokens):
            return False
        for element, token in zip(words, tokens[pos:pos + len(words)], strict=True):
            if token.fold != element.fold or (element.marked and token.marked and token.key != element.key):
                return False
        return not (len(words) == 1 and text.accented and words[0].marked and not tokens[pos].marked)

    def near(self, text: Text, starts: list[int]) -> list[tuple[int, int]]:
        """Spans, among runs of words with the phrase's initials, that differ from it by small typos."""
        n = len(self.elements)
        return [(i, i + n) for i in starts if self._near_at(text, i)]

    def _match(self, text: Text, k: int, pos: int) -> int | None:
        """The end of a match of elements[k:] starting at word `pos`, or None."""
        if k == len(self.elements):
            return pos
        element, tokens = self.elements[k], text.tokens
        if element is GAP_ATOM:
            for skip in range(GAP_WORDS + 1):
                if pos + skip > len(tokens):
                    break
                end = self._match(text, k + 1, pos + skip)
                if end is not None:
                    return end
            return None
        if pos >= len(tokens):
            return None
        if isinstance(element, _AmountAtom):
            for amount in text.amounts.get(pos, []):
                end = self._match(text, k + 1, amount.end) if element.accepts(amount.value) else None
                if end is not None:
                    return end
            return None
        token = tokens[pos]
        if element is NUMBER_ATOM:
            return self._match(text, k + 1, pos + 1) if token.fold[:1].isdigit() else None
        assert isinstance(element, _Word)
        if token.fold != element.fold or (element.marked and token.marked and token.key != element.key):
            return None
        if len(self.elements) == 1 and text.accented and element.marked and not token.marked:
            return None
        return self._match(text, k + 1, pos + 1)

    def _near_at(self, text: Text, start: int) -> bool:
        """A typo: few words differ, the others agree (marks included), and the letters are close."""
        words = self.words
        window = text.tokens[start:start + len(words)]
        if len(window) != len(words):
            return False
        if any(w.marked and t.marked and t.fold == w.fold and t.key != w.key for t, w in zip(window, words,
                                                                                             strict=True)):
            return False
        differing = [(t.fold, w.fold) for t, w in zip(window, words, strict=True) if t.fold != w.fold]
        if len(differing) > max(1, len(words) // 3):
            return False
        if any(fuzz.ratio(got, want) < FUZZY_WORD_CUTOFF for got, want in differing):
            return False
        return bool(fuzz.ratio(self.joined, " ".join(t.fold for t in window), score_cutoff=FUZZY_CUTOFF))


class Pattern:
    """An order-free set of word groups that must all occur within `within` words of each other."""

    def __init__(self, name: str, groups: list[WordSet], within: int) -> None:
        self.name, self.groups, self.within = name, groups, within

    def find(self, text: Text, hidden: set[int]) -> list[tuple[int, int]]:
        spans = [_visible(group, text, hidden) for group in self.groups]
        if not all(spans):
            return []
        found: list[tuple[int, int]] = []
        for anchor in spans[0]:
            start, end = anchor
            for others in spans[1:]:
                best = min(others, key=lambda s: max(end, s[1]) - min(start, s[0]))
                start, end = min(start, best[0]), max(end, best[1])
            if end - start <= self.within:
                found.append((start, end))
        return found


_Index = tuple[dict[str, list[Phrase]], list[Phrase], dict[int, dict[str, list[Phrase]]]]


class Lexicon:
    """Every phrase of the rules, looked up in a text in one pass whose result all word lists share.

    Phrases are indexed by their first word and, for the typo-tolerant ones, by length and initials, so
    a text is checked only against the phrases that can occur in it.
    """

    def __init__(self) -> None:
        self.phrases: dict[str, Phrase] = {}
        self._index: _Index | None = None

    def words(self, words: list[str]) -> WordSet:
        for w in words:
            if w not in self.phrases and fold(w):
                self.phrases[w] = Phrase(w)
                self._index = None
        return WordSet(self, frozenset(w for w in words if w in self.phrases))

    def _built(self) -> _Index:
        if self._index is None:
            by_first: dict[str, list[Phrase]] = {}
            others: list[Phrase] = []  # beginning with a number or a sum
            fuzzy: dict[int, dict[str, list[Phrase]]] = {}
            for p in self.phrases.values():
                if p.first is not None:
                    by_first.setdefault(p.first, []).append(p)
                elif p.elements:
                    others.append(p)
                if p.fuzzy:
                    fuzzy.setdefault(len(p.elements), {}).setdefault(p.initials, []).append(p)
            self._index = (by_first, others, fuzzy)
        return self._index

    def found(self, text: Text) -> dict[str, list[tuple[int, int]]]:
        """The spans of every phrase that occurs in the text: exact, else (plain long phrases) with typos."""
        cached = text.found.get(id(self))
        if cached is not None:
            return cached
        by_first, others, fuzzy = self._built()
        found: dict[str, list[tuple[int, int]]] = {}
        for first in by_first.keys() & text.positions.keys():
            for p in by_first[first]:
                if spans := p.exact(text):
                    found[p.word] = spans
        for p in others:
            if spans := p.exact(text):
                found[p.word] = spans
        for n, table in fuzzy.items():
            for initials, starts in text.runs(n, table).items():
                for p in table[initials]:
                    if p.word not in found and (spans := p.near(text, starts)):
                        found[p.word] = spans
        text.found[id(self)] = found
        return found


class WordSet:
    """One list of words of the rules (vocabulary expanded), looked up through the shared lexicon."""

    def __init__(self, lexicon: Lexicon, words: frozenset[str]) -> None:
        self.lexicon, self.words = lexicon, words

    def spans(self, text: Text) -> list[tuple[int, int]]:
        # a text holds few of the rules' phrases: look those up in the list, not the list in them (and
        # most lists have none of them, which one set operation in C tells)
        found, words = self.lexicon.found(text), self.words
        if found.keys().isdisjoint(words):
            return []
        return [span for w, spans in found.items() if w in words for span in spans]


def _visible(words: WordSet, text: Text, hidden: set[int]) -> list[tuple[int, int]]:
    spans = words.spans(text)
    return [(s, e) for s, e in spans if hidden.isdisjoint(range(s, e))] if hidden else spans


class Terms:
    """A list of phrases and patterns (vocabulary already expanded) with the phrases that hide them."""

    def __init__(self, lexicon: Lexicon, phrases: list[str], patterns: list[Pattern],
                 unless: list[str]) -> None:
        self.phrases = lexicon.words(phrases)
        self.patterns = patterns
        self.unless = lexicon.words(unless)

    def hits(self, text: Text) -> list[Hit]:
        """The words of the text that match, in text order, leaving out those inside an unless phrase.

        A pattern's words count only where no listed phrase matched, so the explanation names the
        phrase ("phong bì") rather than the whole stretch of text around it.
        """
        spans = self.phrases.spans(text)
        if not spans and not self.patterns:
            return []  # most lists have none of their words in a given text
        hidden = {k for s, e in self.unless.spans(text) for k in range(s, e)}
        kept = _outermost([(s, e) for s, e in spans if hidden.isdisjoint(range(s, e))] if hidden else spans)
        if self.patterns:
            taken = {k for s, e in kept for k in range(s, e)}
            spans = [span for pattern in self.patterns for span in pattern.find(text, hidden)]
            kept = sorted(kept + _outermost([(s, e) for s, e in spans if taken.isdisjoint(range(s, e))]))
        return [Hit(start, end, text.span(start, end)) for start, end in kept]


def _outermost(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans without those inside a longer one ("rút ruột" inside "rút ruột công trình")."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda se: (se[0], -se[1])):
        if kept and end <= kept[-1][1]:
            continue
        kept.append((start, end))
    return kept
