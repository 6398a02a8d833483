"""Reporter identity: sealed at rest, unreadable without the key, found only via a keyed hash."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography.fernet import Fernet

from bot.privacy import Privacy, load_or_create_key


def test_identity_round_trips_and_is_not_readable_at_rest() -> None:
    privacy = Privacy(Fernet.generate_key())
    token = privacy.seal({"name": "Nguyễn Văn An", "phone": "0912345678", "chat_id": "42"})
    assert "Nguyễn" not in token and "0912345678" not in token
    assert privacy.open(token)["name"] == "Nguyễn Văn An"


def test_another_key_cannot_open_identities() -> None:
    token = Privacy(Fernet.generate_key()).seal({"name": "A"})
    with pytest.raises(ValueError, match="ENCRYPTION_KEY"):
        Privacy(Fernet.generate_key()).open(token)


def test_bad_key_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="Fernet key"):
        Privacy("not-a-key")


def test_reporter_keys_are_stable_per_user_and_differ_across_keys() -> None:
    key = Fernet.generate_key()
    a, b = Privacy(key), Privacy(key)
    assert a.key_for("telegram", "42") == b.key_for("telegram", "42")
    assert a.key_for("telegram", "42") != a.key_for("zalo", "42")
    assert a.key_for("telegram", "42") != Privacy(Fernet.generate_key()).key_for("telegram", "42")
    assert len(a.key_for("telegram", "42")) == 64  # a digest, not the id


def test_key_file_is_created_once_and_private(tmp_path) -> None:
    path = tmp_path / "data" / "encryption.key"
    first = load_or_create_key(None, path)
    assert load_or_create_key(None, path) == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    Privacy(first)  # a valid Fernet key
    assert load_or_create_key("configured", path) == "configured"
