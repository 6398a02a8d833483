"""Receipt codes and PINs: readable aloud, unguessable, PINs never stored in clear."""

from __future__ import annotations

import re

from bot.receipts import check_pin, hash_pin, new_code, new_pin, normalize_code


def test_codes_are_grouped_and_avoid_look_alike_symbols() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000  # no collisions in a small sample: not sequential, not tiny
    for code in codes:
        assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code)
        assert not set(code) & set("01OILZ25SUV")


def test_what_people_type_is_normalized() -> None:
    code = new_code()
    assert normalize_code(code.lower()) == code
    assert normalize_code(code.replace("-", " ")) == code
    assert normalize_code(f"  {code[:4]} {code[5:]} ") == code


def test_malformed_codes_are_refused() -> None:
    assert normalize_code("") is None
    assert normalize_code("ABC") is None
    assert normalize_code("0000-0000") is None  # symbols outside the alphabet
    assert normalize_code("AAAA-AAAA-AAAA") is None


def test_pins_are_six_digits_and_hashed_with_salt() -> None:
    pin = new_pin()
    assert re.fullmatch(r"\d{6}", pin)
    stored, again = hash_pin(pin), hash_pin(pin)
    assert pin not in stored
    assert stored != again  # salted
    assert check_pin(pin, stored) and check_pin(pin, again)
    assert check_pin(f" {pin} ", stored)


def test_wrong_or_corrupt_pins_fail() -> None:
    stored = hash_pin("123456")
    assert not check_pin("123457", stored)
    assert not check_pin("123456", "garbage")
    assert not check_pin("123456", "md5$00$00")
