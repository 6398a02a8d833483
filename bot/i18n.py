"""User-visible text, from locale files: `bot/locales/<locale>/*.yaml`, flat dotted keys.

Vietnamese is the default and the reference; English falls back to Vietnamese for a missing key.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import yaml

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
_DIR = Path(__file__).parent / "locales"


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = str(node)


# libyaml reads the locale files about ten times faster than the pure-Python parser (which stays the
# fallback where PyYAML was built without it); the first reply after a start waits for them
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def catalog(locale: str) -> dict[str, str]:
    """All texts of a locale, merged from its files."""
    out: dict[str, str] = {}
    for path in sorted((_DIR / locale).glob("*.yaml")):
        _flatten("", yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}, out)
    return out


def pick_locale(language_code: str | None) -> str:
    """The locale for a platform language code ("en-US" -> en); Vietnamese otherwise."""
    if language_code and language_code.split("-")[0].lower() in LOCALES:
        return language_code.split("-")[0].lower()
    return DEFAULT_LOCALE


def t(key: str, locale: str = DEFAULT_LOCALE, /, **params: Any) -> str:
    """The text for `key` in `locale`, formatted with `params`."""
    texts = catalog(locale if locale in LOCALES else DEFAULT_LOCALE)
    template = texts.get(key)
    if template is None:
        template = catalog(DEFAULT_LOCALE)[key]
    return template.format(**params) if params else template


def fmt_date(day: dt.date | None) -> str:
    """A date as Vietnamese readers write it (dd/mm/yyyy); a dash when there is none."""
    return day.strftime("%d/%m/%Y") if day else "—"
