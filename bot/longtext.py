"""Long texts cut into parts a platform accepts: at paragraph breaks, else at line breaks, else after a
sentence, else between words; a single word longer than a part is cut where it must be.

Telegram counts a text's length in UTF-16 code units (an emoji counts two), so `measure` is given by the
platform; each part's length by that measure is at most `limit`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Measure = Callable[[str], int]
# Separators, from the most to the least natural place to cut; each piece keeps its separator at its end.
_LEVELS = (re.compile(r"(?<=\n\n)"), re.compile(r"(?<=\n)"), re.compile(r"(?<=[.!?…;:])\s+"),
           re.compile(r"(?<=\s)"))


def utf16_length(text: str) -> int:
    """A text's length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int, measure: Measure = len) -> list[str]:
    """`text` as parts of at most `limit` (by `measure`), in order; one part when it fits."""
    if measure(text) <= limit:
        return [text]
    out: list[str] = []
    current = ""
    for atom in _atoms(text, limit, measure, 0):
        if measure(current + atom) > limit:
            out.append(current)
            current = ""
        current += atom
    out.append(current)
    return [p.strip() for p in out if p.strip()] or [text[:limit]]


def _atoms(text: str, limit: int, measure: Measure, level: int) -> list[str]:
    """The text as pieces that each fit, cut at the coarsest kind of break that makes them fit."""
    if measure(text) <= limit:
        return [text]
    if level >= len(_LEVELS):
        return _hard_cut(text, limit, measure)
    out: list[str] = []
    for piece in _pieces(text, level):
        out.extend(_atoms(piece, limit, measure, level + 1) if measure(piece) > limit else [piece])
    return out


def _pieces(text: str, level: int) -> list[str]:
    pattern = _LEVELS[level]
    if level == 2:  # after a sentence: keep the sentence's closing mark, drop the spaces between
        return [p + " " for p in pattern.split(text) if p]
    return [p for p in pattern.split(text) if p]


def _hard_cut(text: str, limit: int, measure: Measure) -> list[str]:
    out: list[str] = []
    while measure(text) > limit:
        cut = limit
        while measure(text[:cut]) > limit:
            cut -= 1
        out.append(text[:cut])
        text = text[cut:]
    out.append(text)
    return out
