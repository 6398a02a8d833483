"""Every text the citizen side uses exists in Vietnamese and English with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.i18n import catalog
from bot.intake import STEPS
from bot.kinds import KINDS
from bot.status import STATUSES

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    *sorted((ROOT / "bot" / "intake").glob("*.py")),
    ROOT / "bot" / "cases.py",
    ROOT / "handlers" / "telegram" / "citizen.py",
    ROOT / "handlers" / "telegram" / "middlewares.py",
]
LITERAL_KEY = re.compile(r"""["'](citizen\.[a-z_]+(?:\.[a-z_]+)*)["']""")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def used_keys() -> set[str]:
    keys = {m for path in SOURCES for m in LITERAL_KEY.findall(path.read_text(encoding="utf-8"))}
    keys |= {f"citizen.steplabel.{s}" for s in STEPS}
    keys |= {f"kind.{k}" for k in KINDS} | {f"status.{s}" for s in STATUSES}
    keys |= {"citizen.timeline.submitted", "citizen.timeline.citizen_added_info", "citizen.timeline.other"}
    return keys


def test_the_scan_finds_the_keys():
    assert len(used_keys()) > 80


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_used_key_exists(locale):
    missing = sorted(k for k in used_keys() if k not in catalog(locale))
    assert missing == []


def test_citizen_keys_match_between_languages_with_the_same_placeholders():
    vi = {k: v for k, v in catalog("vi").items() if k.startswith("citizen.")}
    en = {k: v for k, v in catalog("en").items() if k.startswith("citizen.")}
    assert set(vi) == set(en)
    different = {
        k: (placeholders(vi[k]), placeholders(en[k]))
        for k in vi
        if placeholders(vi[k]) != placeholders(en[k])
    }
    assert different == {}


def test_vietnamese_addresses_the_citizen_politely_and_consistently():
    vi = [
        v
        for k, v in catalog("vi").items()
        if k.startswith("citizen.") and not k.startswith("citizen.to_agency")
    ]
    assert not any(re.search(r"\b(bạn|mày|anh|chị)\b", text) for text in vi)
    assert sum("Ông/Bà" in text for text in vi) > 20
