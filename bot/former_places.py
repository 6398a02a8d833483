"""Quảng Ninh's wards, communes and districts before the 2025 reform, and the wards of today they became.

Citizens will write the old names for years ("phường Hồng Hà", "huyện Tiên Yên", "TP Cẩm Phả"). The
conversion is the `vietnamadminunits` package's: its tables follow Resolution 1679/NQ-UBTVQH15, with the
communes that were split between two or three new ones (Vô Ngại, Đông Ngũ, Hải Lạng, Đồng Lâm, ...).
Only the package's data files are read: importing it loads geopy, which pulls in aiohttp and geocodes
street addresses over the network, and neither belongs in the core.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from bot.textnorm import fold

WARD, DISTRICT = "ward", "district"
_PROVINCE = "tinhquangninh"
_DISTRICT_WORDS = re.compile(r"^(thanhpho|thixa|huyen|quan)")


def key(text: str) -> str:
    """A name as the tables compare it: folded, without spaces ("Hạ Long", "halong" -> "halong")."""
    return fold(text).replace(" ", "")


@dataclass(frozen=True)
class Former:
    """A unit as it was before the reform: an old ward, commune or town, or an old district."""

    level: str  # WARD or DISTRICT
    name: str  # "Phường Hồng Hà", "Huyện Tiên Yên": the old official name
    district: str  # the old district it was in ("Thành phố Hạ Long"); a district's own name
    became: tuple[str, ...]  # codes of today's wards that took it, the main one first
    keys: frozenset[str]  # what it is called, as `key` folds it ("hongha"; "halong", "hoanhbo")

    @property
    def kind(self) -> str:
        """The folded type word of its name ("phuong", "xa", "thi tran", "huyen")."""
        return fold(self.name)[: -len(self.bare)].strip()

    @cached_property
    def bare(self) -> str:
        """The folded name without its type word ("hong ha"; kept: every misspelt name scans them all)."""
        return fold(_short(self.name))


TYPE_WORDS = frozenset({"phuong", "xa", "thi tran", "dac khu", "thanh pho", "thi xa", "huyen", "quan"})


def _short(name: str) -> str:
    """A unit's name without its type word: "Thị trấn Tiên Yên" -> "Tiên Yên"."""
    words = name.split()
    for size in (2, 1):
        if fold(" ".join(words[:size])) in TYPE_WORDS:
            return " ".join(words[size:])
    return name


def _data_dir() -> Path:
    """The package's data folder, found without importing the package (see the module's docstring)."""
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the vietnamadminunits package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _rows(sql: str) -> list[dict[str, Any]]:
    """Rows of the package's database, opened read-only and immutable: nothing is written beside it."""
    uri = (_data_dir() / "dataset.db").as_uri() + "?mode=ro&immutable=1"
    connection = sqlite3.connect(uri, uri=True)
    try:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute(sql, (_PROVINCE,))]
    finally:
        connection.close()


def _successors() -> dict[str, list[str]]:
    """Old "district_ward" keys to today's ward keys, the main one first (the package's default)."""
    with (_data_dir() / "converter_2025.json").open(encoding="utf-8") as file:
        data = json.load(file)
    found: dict[str, list[str]] = {}
    for new, olds in data["DICT_PROVINCE_WARD_NO_DIVIDED"][_PROVINCE].items():
        for old in olds:
            found.setdefault(old.split("_", 1)[1], []).append(new)
    for old, parts in data["DICT_PROVINCE_WARD_DIVIDED"].get(_PROVINCE, {}).items():
        ordered = sorted(parts, key=lambda part: not part["isDefaultNewWard"])
        found.setdefault(old.split("_", 1)[1], []).extend(part["newWardKey"] for part in ordered)
    return found


def _district_keys(row: dict[str, Any]) -> frozenset[str]:
    """A district's names: its own and its aliases ("hoanhbo" for Hạ Long, which took Hoành Bồ in 2019)."""
    keywords = json.loads(row["districtKeywords"] or "[]")
    return frozenset({key(row["districtShort"])} | {k for k in keywords if not _DISTRICT_WORDS.match(k)})


def _order(district: str, codes: Iterable[tuple[str, bool]], names: dict[str, str]) -> tuple[str, ...]:
    """Today's wards of an old district: the one of the same name, then those taking most of it."""
    main = Counter(code for code, first in codes if first)
    every = Counter(code for code, _ in codes)
    same = key(_short(district))
    return tuple(sorted(every, key=lambda c: (key(_short(names[c])) != same, -main[c], -every[c], names[c])))


def _today() -> tuple[dict[str, str], dict[str, str]]:
    """Today's wards in the package: its keys to their codes (as bot/places.py writes them), and names."""
    rows = _rows("SELECT ward, wardKey, wardCode FROM admin_units WHERE provinceKey = ?")
    return ({r["wardKey"]: str(int(r["wardCode"])) for r in rows},
            {str(int(r["wardCode"])): r["ward"] for r in rows})


@cache
def former_units() -> tuple[Former, ...]:
    """Every old ward, commune and town of the province, then every old district."""
    codes, names = _today()
    became = _successors()
    rows = _rows("SELECT district, districtShort, districtKey, districtKeywords, ward, wardKey "
                 "FROM admin_units_legacy WHERE provinceKey = ? ORDER BY districtKey, wardKey")
    wards: list[Former] = []
    districts: dict[str, frozenset[str]] = {}
    taken: dict[str, list[tuple[str, bool]]] = {}
    for row in rows:
        new = tuple(dict.fromkeys(codes[k] for k in became.get(f"{row['districtKey']}_{row['wardKey']}", [])))
        wards.append(Former(WARD, row["ward"], row["district"], new, frozenset({key(_short(row["ward"]))})))
        taken.setdefault(row["district"], []).extend((code, n == 0) for n, code in enumerate(new))
        districts[row["district"]] = _district_keys(row)
    return (*wards, *(Former(DISTRICT, d, d, _order(d, taken[d], names), k) for d, k in districts.items()))
