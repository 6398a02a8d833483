"""What a named reporter types as name, phone and address, cleaned or refused before it is kept.

Control and bidirectional-override characters can make a name read differently on an officer's screen
than it was typed (U+202E turns "An" into "nA"), so they are removed; a name that looks like a phone
number is refused (the reporter answered the wrong question); a phone must be a real Vietnamese number
(checked with `phonenumbers`), not 0000000000 or one digit repeated.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

MAX_NAME_CHARS = 120
_NAME_PUNCTUATION = frozenset(" .'-’")


def clean_text(text: str) -> str:
    """The text without control or format characters (bidi overrides, zero-width), spaces collapsed."""
    kept = "".join(
        " " if unicodedata.category(ch) == "Cc" or ch.isspace() else ch
        for ch in unicodedata.normalize("NFC", text)
        if unicodedata.category(ch) not in ("Cf", "Co", "Cs", "Cn")
    )
    return " ".join(kept.split())


def name_problem(name: str) -> str | None:
    """The locale key saying why a cleaned name is refused, or None when it will do."""
    letters = sum(1 for ch in name if unicodedata.category(ch).startswith("L"))
    digits = sum(1 for ch in name if ch.isdigit())
    if digits >= 3 or phone_number(name) is not None:
        return "privacy.name.phone_like"
    if letters < 2 or len(name) > MAX_NAME_CHARS:
        return "privacy.name.invalid"
    if any(not (unicodedata.category(ch)[0] in "LM" or ch in _NAME_PUNCTUATION) for ch in name):
        return "privacy.name.characters"
    return None


def phone_number(text: str) -> str | None:
    """A valid Vietnamese phone number as 0xxxxxxxxx, from what a person typed; None when it is not one."""
    raw = clean_text(text)
    if not re.fullmatch(r"[+\d\s.\-()]{9,20}", raw):
        return None
    try:
        parsed = phonenumbers.parse(raw, "VN")
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code != 84 or not phonenumbers.is_valid_number(parsed):
        return None
    national = f"0{parsed.national_number}"
    subscriber = national[-7:]
    if len(set(subscriber)) == 1:  # 0900000000, 0999999999: valid prefixes, nobody's number
        return None
    return national
