"""Wards and communes of Quảng Ninh after the 2025 reform (no districts), and finding one by name.

Citizens type names with or without diacritics, with or without "phường"/"xã", often misspelt; the
search folds diacritics and scores with rapidfuzz so the best few can be offered as buttons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property

from rapidfuzz import fuzz, process
from vietnam_provinces import ProvinceCode, Ward

from bot.textnorm import fold

PROVINCE = ProvinceCode.P_22  # Quảng Ninh
_PREFIX = re.compile(r"^(phuong|xa|dac khu|thi tran)\s+")


@dataclass(frozen=True)
class Place:
    code: str
    name: str  # "Phường Hạ Long", as the official list spells it

    @cached_property
    def bare(self) -> str:
        """The folded name without its type word: "ha long" (kept: every free-text report scans them all)."""
        return _PREFIX.sub("", fold(self.name))


@cache
def all_places() -> tuple[Place, ...]:
    wards = sorted(Ward.iter_by_province(PROVINCE), key=lambda w: fold(w.name))
    return tuple(Place(code=str(int(w.code)), name=w.name) for w in wards)


def by_code(code: str) -> Place | None:
    for place in all_places():
        if place.code == code:
            return place
    return None


def search(text: str, limit: int = 5, cutoff: float = 60) -> list[Place]:
    """The best matching places for what a citizen typed, best first; empty when nothing is close."""
    query = _PREFIX.sub("", fold(text))
    if not query:
        return []
    places = all_places()
    exact = [p for p in places if p.bare == query]
    if exact:
        return exact
    choices = [p.bare for p in places]
    found = process.extract(query, choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=cutoff)
    return [places[index] for _, _, index in found]


def find_in_text(text: str) -> Place | None:
    """A place named in a free-text report (longest name wins), for proposing it; None if none is named."""
    folded = f" {fold(text)} "
    named = [p for p in all_places() if f" {p.bare} " in folded]
    return max(named, key=lambda p: len(p.bare)) if named else None
