"""Wards and communes of Quảng Ninh after the 2025 reform (no districts), and finding one by name.

Citizens type names with or without diacritics, with or without "phường"/"xã", often misspelt, and often
the names from before the reform: an old ward ("phường Hồng Hà"), an old district ("huyện Tiên Yên",
"TP Cẩm Phả"), or both ("Hồng Hà, Hạ Long"). An old name leads to the ward or wards it became
(bot/former_places.py), and the choice says which old name it came from; a district beside a ward's name
keeps only the wards of that district. The search folds diacritics and scores with rapidfuzz so the best
few can be offered as buttons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

from rapidfuzz import fuzz, process
from vietnam_provinces import ProvinceCode, Ward

from bot.former_places import DISTRICT, WARD, Former, former_units, key
from bot.textnorm import fold

PROVINCE = ProvinceCode.P_22  # Quảng Ninh
_PREFIX = re.compile(r"^(phuong|xa|dac khu|thi tran)\s+")
# Type words as citizens write them, with their usual abbreviations ("P.", "TT", "TP", "TX", "H.").
_WARD_WORD = re.compile(r"^(phuong|xa|thi tran|dac khu|tt|p|x)\s+")
_DISTRICT_WORD = re.compile(r"^(thanh pho|thi xa|huyen|quan|tp|tx|h|q)\s+")
_SHORT = {"p": "phuong", "x": "xa", "tt": "thi tran"}
_PROVINCE_NAME = re.compile(r"\b(?:tinh\s+)?quang ninh\b")


@dataclass(frozen=True)
class Place:
    code: str
    name: str  # "Phường Hạ Long", as the official list spells it

    @cached_property
    def bare(self) -> str:
        """The folded name without its type word: "ha long" (kept: every free-text report scans them all)."""
        return _PREFIX.sub("", fold(self.name))

    @property
    def kind(self) -> str:
        """The folded type word: "phuong", "xa", "dac khu"."""
        return fold(self.name)[: -len(self.bare)].strip()


@dataclass(frozen=True)
class Found:
    """A ward of today offered for what a citizen typed; `former` is the old unit the name led through."""

    place: Place
    former: Former | None = None

    def as_dict(self) -> dict[str, str]:
        """As the dialogue keeps it: the ward, and the old name it was found by (for showing both)."""
        kept = {"code": self.place.code, "name": self.place.name}
        if self.former is not None:
            kept.update(former=self.former.name, former_level=self.former.level)
        return kept


@cache
def all_places() -> tuple[Place, ...]:
    wards = sorted(Ward.iter_by_province(PROVINCE), key=lambda w: fold(w.name))
    return tuple(Place(code=str(int(w.code)), name=w.name) for w in wards)


def by_code(code: str) -> Place | None:
    for place in all_places():
        if place.code == code:
            return place
    return None


@dataclass(frozen=True)
class _Query:
    """What a citizen typed, read: the name, its type word if any, and the old district named beside it."""

    name: str  # folded, without type words: "hong ha"
    kind: str | None = None  # "phuong", "xa", "thi tran", "dac khu"
    district: Former | None = None
    level: str | None = None  # DISTRICT when a district's type word was typed with an unknown name

    @property
    def key(self) -> str:
        return self.name.replace(" ", "")


@cache
def _districts() -> dict[str, Former]:
    return {k: d for d in former_units() if d.level == DISTRICT for k in d.keys}


def _district_in(words: list[str]) -> tuple[Former | None, bool]:
    """The old district these words name, and whether a type word ("huyện", "TP") said it is one."""
    text = " ".join(words)
    typed = _DISTRICT_WORD.match(text)
    name = text[typed.end():] if typed else text
    return _districts().get(key(name)), typed is not None


def _ward_query(text: str, district: Former | None = None) -> _Query:
    typed = _WARD_WORD.match(text)
    if typed is None:
        return _Query(text, None, district)
    return _Query(text[typed.end():], _SHORT.get(typed[1], typed[1]), district)


def _split_district(part: str) -> _Query:
    """ "phuong hong ha tp ha long" -> Hồng Hà in Hạ Long. A bare district name after a ward's name counts
    when the ward is known in it ("hong ha ha long"); a bare name alone stays a name (it may be a ward's)."""
    words = part.split()
    for start in range(len(words)):
        district, typed = _district_in(words[start:])
        if district is None or not (typed or start):
            continue
        rest = _ward_query(" ".join(words[:start]), district)
        if typed or _exact(rest):
            return rest
    typed = _DISTRICT_WORD.match(part)
    return _Query(part[typed.end():], level=DISTRICT) if typed else _ward_query(part)


def _read(text: str) -> _Query | None:
    """The query in a citizen's words: split at commas, the province dropped, a district found; of the
    other parts ("tổ 5", "số 12 Lê Lợi"), the last that names a place exactly, else the last."""
    parts = [_PROVINCE_NAME.sub(" ", fold(p)).strip() for p in re.split(r"[,;\n]", text)]
    parts = [p for p in parts if p]
    if not parts:
        return None
    district, _ = _district_in(parts[-1].split()) if len(parts) > 1 else (None, False)
    if district is not None:
        queries = [_ward_query(p, district) for p in parts[:-1]]
    else:
        queries = [_split_district(p) for p in parts]
    return next((q for q in reversed(queries) if _exact(q)), queries[-1])


def _places(codes: Iterable[str], former: Former | None = None) -> list[Found]:
    return [Found(place, former) for place in map(by_code, codes) if place is not None]


def _typed(items: list[Place | Former], kind: str | None) -> list[Place | Former]:
    """Those of the type word typed ("xã Hạ Long" is not "phường Hạ Long"); all of them when none fits."""
    same = [item for item in items if item.kind == kind]
    return same if kind and same else items


def _exact(q: _Query) -> list[Found]:
    """Today's wards of exactly that name, then the wards the old district and old wards of that name
    became (a district only when no ward's type word was typed)."""
    if not q.name or q.level == DISTRICT:
        return _places(q.district.became, q.district) if q.district else []
    inside = set(q.district.became) if q.district else None
    named = _typed([p for p in all_places() if key(p.bare) == q.key and (inside is None or p.code in inside)]
                   + [f for f in former_units() if f.level == WARD and q.key in f.keys
                      and (q.district is None or f.district == q.district.name)], q.kind)
    districts = [] if q.kind or q.district else [d for d in former_units() if d.level == DISTRICT
                                                  and q.key in d.keys]
    found = [Found(p) for p in named if isinstance(p, Place)]
    for former in [*districts, *(f for f in named if isinstance(f, Former))]:
        found += _places(former.became, former)
    return _unique(found)


def _unique(found: list[Found]) -> list[Found]:
    """The first offer of each ward: a ward reached by several names is offered once."""
    seen: dict[str, Found] = {}
    for item in found:
        seen.setdefault(item.place.code, item)
    return list(seen.values())


def _targets(q: _Query) -> list[Place | Former]:
    """What a misspelt name may be: districts alone after a district's type word; else today's wards and
    the old ones (in the district named, if one), and the old districts unless a ward's type word says no."""
    if q.level == DISTRICT:
        return [f for f in former_units() if f.level == DISTRICT]
    inside = set(q.district.became) if q.district else None
    targets: list[Place | Former] = [p for p in all_places() if inside is None or p.code in inside]
    return targets + [f for f in former_units() if (f.level == WARD and (q.district is None or f.district ==
                      q.district.name)) or (f.level == DISTRICT and not q.kind and not q.district)]


def _fuzzy(q: _Query, limit: int, cutoff: float) -> list[Found]:
    """The wards of the closest names, best first: the `limit` first, or every ward of one old district."""
    if len(q.key) < 3:
        return []  # two letters are close to half the names
    targets = _targets(q)
    found: list[Found] = []
    best = process.extract(q.name, [t.bare for t in targets], scorer=fuzz.WRatio,
                           limit=1 if q.level == DISTRICT else limit, score_cutoff=cutoff)
    for _, _, index in best:
        target = targets[index]
        found += [Found(target)] if isinstance(target, Place) else _places(target.became, target)
    return _unique(found) if q.level == DISTRICT else _unique(found)[:limit]


def search(text: str, limit: int = 5, cutoff: float = 60) -> list[Found]:
    """Today's wards for what a citizen typed, best first; empty when nothing is close. Every ward an
    exact old name became is offered; a misspelt name gets the `limit` closest (and every ward of the
    district named with it)."""
    q = _read(text)
    if q is None:
        return []
    exact = _exact(q)
    if exact:
        return exact
    close = _fuzzy(q, limit, cutoff)  # then, with a district named, the rest of its wards
    return _unique(close + _places(q.district.became, q.district)) if q.district else close


@lru_cache(maxsize=4096)
def area(text: str | None) -> frozenset[str]:
    """Codes of every ward of today a place name can mean (an old district: all it became); empty when
    the name is not one of the province's, so that two names of one place compare equal."""
    q = _read(text or "")
    return frozenset(f.place.code for f in _exact(q)) if q else frozenset()


@cache
def _typed_names() -> re.Pattern[str]:
    """A type word then a name of today or of before: "phuong hong ha", "xa dam ha"."""
    names = {p.bare for p in all_places()} | {f.bare for f in former_units() if f.level == WARD}
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(r"\b(phuong|(?<!thi )xa|thi tran|dac khu) (" + alternation + r")\b")


def find_in_text(text: str) -> Found | None:
    """The one ward of today a free-text report names, for proposing it; None if none or several.

    A name with its type word counts, today's or old ("phường Giếng Đáy"); a bare name only if it is
    today's and not also an old district's ("Hạ Long" may be any ward of the former city). Longest wins.
    """
    folded = f" {fold(text)} "
    named: list[tuple[int, Found]] = []
    for kind, name in _typed_names().findall(folded):
        found = _exact(_Query(name, kind))
        if found and (len(found) == 1 or found[0].former is None):  # one ward, or today's own name
            named.append((len(name), found[0]))
    if not named:
        old_districts = {k for d in former_units() if d.level == DISTRICT for k in d.keys}
        named = [(len(p.bare), Found(p)) for p in all_places()
                 if f" {p.bare} " in folded and key(p.bare) not in old_districts]
    return max(named, key=lambda item: item[0])[1] if named else None
