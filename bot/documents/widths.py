"""Column widths that fit a table's content, and whether it needs a landscape page.

Widths are estimated from Times New Roman's letter widths (em fractions), so no font file is needed: a
column is never narrower than its longest word or number, wide columns give way first, and a header may
wrap onto three lines.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

CM_PER_PT = 2.54 / 72
CELL_MARGIN_CM = 0.1  # each side of a cell's text (the tables set it: Word's default is 0.19)
CELL_PADDING_CM = 2 * CELL_MARGIN_CM + 0.1  # the margins and a little air
HEADER_LINES = 3
MAX_PORTRAIT_COLUMNS = 8  # more columns than this read better across a landscape page
# Times New Roman advance widths, in ems, by kind of character (close enough for fitting columns).
_EM = {"upper": 0.70, "lower": 0.49, "digit": 0.50, "space": 0.25, "narrow": 0.28, "wide": 0.78,
       "dash": 1.0, "other": 0.50}
_NARROW = set("ilfjtrI.,:;'!|()[]-/")
_WIDE = set("mwMW%")


def _em(char: str) -> float:
    base = unicodedata.normalize("NFD", char)[0] if char not in "đĐ" else ("d" if char == "đ" else "D")
    if base in _NARROW:
        return _EM["narrow"]
    if base in _WIDE:
        return _EM["wide"]
    if base == "—":
        return _EM["dash"]
    if base.isspace():
        return _EM["space"]
    if base.isdigit():
        return _EM["digit"]
    if base.isupper():
        return _EM["upper"]
    return _EM["lower"] if base.isalpha() else _EM["other"]


def text_cm(text: str, size_pt: float, bold: bool = False) -> float:
    """The printed width of one line of `text`."""
    width = sum(_em(c) for c in text) * size_pt * CM_PER_PT
    return width * (1.1 if bold else 1.0)  # bold letters are about a tenth wider


def _longest_word_cm(text: str, size_pt: float, bold: bool) -> float:
    return max((text_cm(word, size_pt, bold) for word in text.split()), default=0.0)


@dataclass(frozen=True)
class Fit:
    widths_cm: list[float]
    landscape: bool
    size_pt: float


def _bounds(heads: list[str], rows: list[list[str]], size_pt: float) -> tuple[list[float], list[float]]:
    """Per column: the least width (its longest word or number) and the width it would like (its longest
    cell on one line, its header on up to three)."""
    least, liked = [], []
    for i, head in enumerate(heads):
        cells = [row[i] for row in rows]
        low = max([_longest_word_cm(head, size_pt, True),
                   *(_longest_word_cm(c, size_pt, False) for c in cells)])
        high = max([text_cm(head, size_pt, True) / HEADER_LINES,
                    *(text_cm(c, size_pt, False) for c in cells)])
        least.append(low + CELL_PADDING_CM)
        liked.append(max(low, high) + CELL_PADDING_CM)
    return least, liked


def _spread(least: list[float], liked: list[float], width: float) -> list[float]:
    """Widths summing to `width`: each column's liked width and a share of what is left over; when that is
    too wide, wide columns give way down to their least width; when even that is too wide, all shrink."""
    low, high = sum(least), sum(liked)
    if high <= width:
        return [w + (width - high) * w / high for w in liked]
    if low <= width:
        give = (width - low) / (high - low)
        return [lo + (hi - lo) * give for lo, hi in zip(least, liked, strict=True)]
    return [w * width / low for w in least]


def fit(heads: list[str], rows: list[list[str]], portrait_cm: float, landscape_cm: float,
        sizes_pt: tuple[float, ...] = (12, 11, 10, 9)) -> Fit:
    """Widths for a table: on a portrait page when its words fit across it and it has few columns, else on
    a landscape page, in the largest of `sizes_pt` whose words fit (the smallest when none does)."""
    least, liked = _bounds(heads, rows, sizes_pt[0])
    if sum(liked) <= portrait_cm or (sum(least) <= portrait_cm and len(heads) <= MAX_PORTRAIT_COLUMNS):
        return Fit(_spread(least, liked, portrait_cm), False, sizes_pt[0])
    for size in sizes_pt:
        least, liked = _bounds(heads, rows, size)
        if sum(least) <= landscape_cm:
            break
    return Fit(_spread(least, liked, landscape_cm), True, size)
