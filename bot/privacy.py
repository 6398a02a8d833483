"""Reporter identity at rest: Fernet-encrypted, looked up only through a keyed hash.

Luật Tố cáo 2018 Điều 47-48 protect a reporter's identity: officers never see it; the bot relays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class Privacy:
    def __init__(self, key: str | bytes) -> None:
        raw = key.encode() if isinstance(key, str) else key
        try:
            self._fernet = Fernet(raw)
        except ValueError as exc:
            raise ValueError("ENCRYPTION_KEY must be a Fernet key (32 url-safe base64 bytes)") from exc
        self._mac_key = hashlib.sha256(b"reporter-key:" + raw).digest()

    def seal(self, identity: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(identity, ensure_ascii=False).encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise ValueError("identity cannot be decrypted with this ENCRYPTION_KEY") from exc

    def seal_value(self, value: object, at: dt.datetime | None = None) -> str:
        """Any JSON value sealed (for a dialogue's name, phone, address or unlocked cases); `at` stamps it."""
        data = json.dumps(value, ensure_ascii=False).encode()
        if at is None:
            return self._fernet.encrypt(data).decode()
        return self._fernet.encrypt_at_time(data, int(at.timestamp())).decode()

    def open_value(self, token: str, *, max_age: dt.timedelta | None = None,
                   now: dt.datetime | None = None) -> Any:
        """The sealed value; None when it is older than `max_age` at `now`, or not sealed with this key."""
        try:
            if max_age is None:
                return json.loads(self._fernet.decrypt(token.encode()))
            moment = int((now or dt.datetime.now(dt.UTC)).timestamp())
            ttl = int(max_age.total_seconds())
            return json.loads(self._fernet.decrypt_at_time(token.encode(), ttl, moment))
        except (InvalidToken, ValueError, TypeError):
            return None

    def key_for(self, channel: str, user_id: str) -> str:
        """A stable, non-reversible key for (channel, user) to find someone's cases or throttle them."""
        return hmac.new(self._mac_key, f"{channel}:{user_id}".encode(), hashlib.sha256).hexdigest()


def load_or_create_key(configured: str | None, key_file: Path) -> str:
    """ENCRYPTION_KEY when set; else a key kept beside the embedded database, created once (mode 0600)."""
    if configured:
        return configured
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key
