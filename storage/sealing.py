"""What a migration that seals stored values needs of the encryption key, without importing the core.

The core's `bot.privacy.Privacy` has these methods; `storage.db.migrate` hands it to Alembic, and a
migration reads it with `keys_of(op)`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

ATTRIBUTE = "keys"  # the Alembic config attribute that carries the keys


class Keys(Protocol):
    def seal_value(self, value: object, at: dt.datetime | None = None) -> str: ...

    def open_value(self, token: str) -> Any: ...

    def chat_key(self, channel: str, chat_id: str) -> str: ...

    def tag(self, key: str) -> str: ...


class KeysNeeded(RuntimeError):
    """A migration must seal stored values and was run without the encryption key."""
