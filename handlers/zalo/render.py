"""Outgoing text for Zalo: options as a numbered menu (there are no buttons) and texts cut to 2,000
characters at paragraph or sentence boundaries, so nothing is refused as too long."""

from __future__ import annotations

import re
from typing import Any

from handlers.zalo import MAX_TEXT

_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+")


def menu(payload: dict[str, Any]) -> str:
    """The payload's text with its buttons as "1. label" lines, numbered in reading order; the citizen
    answers with the number or the words (the core remembers the menu)."""
    rows = payload.get("buttons") or []
    if rows and isinstance(rows[0], dict):
        rows = [rows]
    labels = [b["text"] for row in rows for b in row if b.get("data") or b.get("url")]
    text = payload.get("text") or ""
    if not labels:
        return text
    lines = [f"{n}. {label}" for n, label in enumerate(labels, start=1)]
    return f"{text}\n\n" + "\n".join(lines) if text else "\n".join(lines)


def split(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Parts of at most `limit` characters, cut at a blank line, else a line, else a sentence's end, else
    a space; a word longer than the limit is cut where it must be."""
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = max(window.rfind("\n\n"), 0)
        if cut < limit // 2:
            cut = window.rfind("\n")
        if cut < limit // 2:
            ends = [m.start() for m in _SENTENCE_END.finditer(window)]
            cut = ends[-1] if ends else -1
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts or [""]
