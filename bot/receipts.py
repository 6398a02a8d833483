"""Receipt codes and PINs: unguessable, short, and easy to read aloud over the phone.

A code is 8 symbols from a 25-symbol alphabet with no look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, U/V),
grouped 4-4: about 37 bits, drawn from `secrets`. The 6-digit PIN is stored only as a scrypt hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

ALPHABET = "346789ABCDEFGHJKMNPQRTWXY"  # 25 unambiguous symbols
CODE_LENGTH = 8
_CODE = re.compile(rf"^[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")


def new_code() -> str:
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{symbols[:4]}-{symbols[4:]}"


def normalize_code(text: str) -> str | None:
    """The canonical code from what a person typed (any case, spaces or dashes); None when malformed."""
    cleaned = re.sub(r"[\s\-_.]", "", text.upper())
    if len(cleaned) != CODE_LENGTH:
        return None
    code = f"{cleaned[:4]}-{cleaned[4:]}"
    return code if _CODE.match(code) else None


def new_pin() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_pin(pin: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(pin.strip().encode(), salt=bytes.fromhex(salt_hex), n=2**14, r=8, p=1)
    return hmac.compare_digest(digest.hex(), digest_hex)
