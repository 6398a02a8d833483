"""Text folding for matching: Vietnamese with or without diacritics reads the same.

Unicode NFD splits most diacritics off their letters, but not đ/Đ, which are letters of their own.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w\s]", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ -> d), turn punctuation into spaces and collapse whitespace."""
    text = text.replace("đ", "d").replace("Đ", "d")
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", _NON_WORD.sub(" ", stripped)).strip()
