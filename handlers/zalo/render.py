"""Outgoing text for Zalo: options as a numbered menu (there are no buttons) and texts cut to 2,000
characters at paragraph or sentence boundaries, so nothing is refused as too long."""

from __future__ import annotations

from typing import Any

from bot.longtext import split_text
from handlers.zalo import MAX_TEXT


def menu(payload: dict[str, Any]) -> str:
    """The payload's text with its buttons as "1. label" lines, numbered in reading order; the citizen
    answers with the number or the words (the core remembers the menu)."""
    rows = payload.get("buttons") or []
    if rows and isinstance(rows[0], dict):
        rows = [rows]
    kinds = ("value", "press", "data", "url")
    labels = [b["text"] for row in rows for b in row if any(b.get(k) for k in kinds)]
    text = payload.get("text") or ""
    if not labels:
        return text
    lines = [f"{n}. {label}" for n, label in enumerate(labels, start=1)]
    return f"{text}\n\n" + "\n".join(lines) if text else "\n".join(lines)


def split(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Parts of at most `limit` characters, cut at paragraph, line, sentence or word breaks."""
    return split_text(text.strip(), limit) or [""]
