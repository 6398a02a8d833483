"""Sums of money as citizens write them ("3tr", "500k", "1 tỷ 2", "2,5 triệu", "1.500.000đ"), as numbers.

The rules compare amounts with the law's thresholds (bribery from 2 million đồng, Bộ luật Hình sự 2015
Điều 354), so "3tr" must read as 3,000,000 and "1 tỷ 2" as 1,200,000,000. This module knows only numbers;
the unit words and their values come from the rules file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
NUMBER_WITH_UNIT = re.compile(r"(\d+(?:[.,]\d+)*)([^\W\d_]+)(\d{0,3})")
HALF = frozenset({"ruoi"})  # "2 triệu rưỡi" = 2.5 million


@dataclass(frozen=True)
class Amount:
    start: int  # first word of the sum
    end: int  # one past its last word
    value: float  # in đồng


def number_value(text: str) -> float | None:
    """A written number: "." or "," before groups of three digits separate thousands, else a decimal point."""
    if not NUMBER.fullmatch(text):
        return None
    groups = re.split(r"[.,]", text)
    if len(groups) == 1:
        return float(text)
    if all(len(g) == 3 for g in groups[1:]):
        return float("".join(groups))
    return float("".join(groups[:-1]) + "." + groups[-1])


def find_amounts(words: Sequence[str], units: dict[str, float], phrases: dict[str, float]) -> list[Amount]:
    """Every sum in a text given as folded words, in which unit words are already in their canonical form.

    A sum is a number and a unit ("5 triệu"), followed by smaller parts ("1 tỷ 200 triệu"), a bare
    remainder ("1 tỷ 2" = 1.2 tỷ) or "rưỡi"; or a phrase that is an amount by itself ("hàng tỷ").
    A number without a unit is not a sum (it may be a year, an age or a house number).
    """
    found: list[Amount] = []
    longest = max((len(p.split()) for p in phrases), default=0)
    firsts = {p.split()[0] for p in phrases}
    i = 0
    while i < len(words):
        amount = _numeric(words, i, units) if words[i][:1].isdigit() else None
        if amount is None and words[i] in firsts:
            amount = _phrase(words, i, phrases, longest)
        if amount is None:
            i += 1
            continue
        found.append(amount)
        i = amount.end
    return found


def _numeric(words: Sequence[str], i: int, units: dict[str, float]) -> Amount | None:
    first = number_value(words[i])
    if first is None or i + 1 >= len(words) or words[i + 1] not in units:
        return None
    unit = units[words[i + 1]]
    value, j = first * unit, i + 2
    while j < len(words) and units.get(words[j], 0) > unit:  # "2 trăm nghìn" = 200,000
        unit = units[words[j]]
        value, j = value * unit, j + 1
    while j < len(words):
        part = number_value(words[j])
        if part is not None and j + 1 < len(words) and units.get(words[j + 1], unit) < unit:
            unit = units[words[j + 1]]
            value, j = value + part * unit, j + 2
            continue
        if part is not None and words[j].isdigit() and len(words[j]) <= 3 and unit >= 1000:
            value, j = value + part * unit / 10 ** len(words[j]), j + 1
        elif words[j] in HALF:
            value, j = value + unit / 2, j + 1
        break
    return Amount(i, j, value)


def _phrase(words: Sequence[str], i: int, phrases: dict[str, float], longest: int) -> Amount | None:
    for length in range(min(longest, len(words) - i), 0, -1):
        value = phrases.get(" ".join(words[i:i + length]))
        if value is not None:
            return Amount(i, i + length, value)
    return None
