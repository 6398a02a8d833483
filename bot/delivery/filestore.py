"""Evidence the bot owns: files kept as bytes, encrypted at rest, named by an opaque key.

A photo received on one chat platform must reach an agency group on another, and a platform's own file
ids mean nothing elsewhere; so a channel that cannot hand its files on by reference stores the bytes here
on receipt, and each transport uploads them from here. Photos can identify a reporter, so every file is
sealed with the same Fernet key as reporters' identities. `FileStore` is the interface an S3-compatible
store could implement; `LocalFileStore` keeps files in a directory (data/files by default).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path
from typing import Protocol

from bot.privacy import Privacy

STORE_PREFIX = "store:"  # an attachment's file id that names a stored file, not a platform's file id


class FileMissing(Exception):
    """The stored file is gone or cannot be opened with this key."""


class FileStore(Protocol):
    async def put(self, data: bytes) -> str: ...

    async def get(self, key: str) -> bytes: ...


def stored_id(key: str) -> str:
    """The file id an attachment carries for a stored file."""
    return f"{STORE_PREFIX}{key}"


def store_key(file_id: str) -> str | None:
    """The store key inside a file id, or None when the id is a platform's own."""
    return file_id[len(STORE_PREFIX):] if file_id.startswith(STORE_PREFIX) else None


class LocalFileStore:
    """Encrypted files in one directory, written atomically (a crash leaves no half file)."""

    def __init__(self, root: Path | str, privacy: Privacy) -> None:
        self.root = Path(root)
        self._privacy = privacy

    def _path(self, key: str) -> Path:
        if not key or not all(c.isalnum() or c in "-_" for c in key):
            raise FileMissing(f"not a file key: {key!r}")
        return self.root / key[:2] / key

    def _write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".part")
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
            out.write(self._privacy.seal_bytes(data))
        os.replace(tmp, path)

    def _read(self, key: str) -> bytes:
        try:
            return self._privacy.open_bytes(self._path(key).read_bytes())
        except (OSError, ValueError) as exc:
            raise FileMissing(f"stored file {key} cannot be read: {exc.__class__.__name__}") from exc

    async def put(self, data: bytes) -> str:
        key = secrets.token_urlsafe(18)
        await asyncio.to_thread(self._write, key, data)
        return key

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._read, key)
