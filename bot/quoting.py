"""A citizen's own words set apart from the bot's in what officers read: cards, answers, added information.

A story may hold lines shaped like the bot's fields ("Người gửi: ...", "Trạng thái: ..."); printed as one
text with the bot's lines, they would pass for the bot's own. So a text for officers is a list of blocks,
each the bot's or the citizen's (quoted). A platform that can shows the quoted blocks as quotes (Telegram:
a blockquote entity, which a plain message cannot carry); everywhere else, in `plain`, every line of a
quoted block starts with `MARK`, which no line of the bot's own starts with.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MARK = "│ "


@dataclass(frozen=True)
class Block:
    text: str
    quoted: bool = False


def quote(text: str) -> Block:
    """The citizen's words as a quoted block: every line break made a plain one and other control
    characters dropped (a platform that drops or counts them its own way would otherwise shift where the
    quote ends), blank lines around it dropped."""
    lines = ("".join(c for c in line if c == "\t" or unicodedata.category(c) != "Cc")
             for line in text.splitlines())
    return Block("\n".join(lines).strip(), quoted=True)


def plain(blocks: Iterable[Block]) -> str:
    """The blocks as one plain text, each line of a quoted block behind `MARK` (an empty block of the
    bot's is a blank line; an empty quote is nothing)."""
    return "\n".join(_marked(b.text) if b.quoted else b.text for b in _kept(blocks))


def _kept(blocks: Iterable[Block]) -> list[Block]:
    return [b for b in blocks if b.text or not b.quoted]


def _marked(text: str) -> str:
    """Every line behind the mark, whatever breaks it (a platform may show \\r or U+2028 as a new line)."""
    return "\n".join(f"{MARK}{line}".rstrip() for line in text.splitlines() or [""])


def payload(blocks: Sequence[Block]) -> dict[str, Any]:
    """An outbox payload: the plain text any platform can show, and the blocks for one that quotes."""
    kept = _kept(blocks)
    if not any(b.quoted for b in kept):
        return {"text": plain(kept)}
    return {"text": plain(kept), "blocks": [{"text": b.text, "quote": b.quoted} for b in kept]}


def blocks_of(payload: dict[str, Any]) -> list[Block] | None:
    """The blocks an outbox payload carries, or None for a plain text (and rows of earlier versions)."""
    raw = payload.get("blocks")
    if not isinstance(raw, list):
        return None
    return [Block(str(b.get("text") or ""), bool(b.get("quote"))) for b in raw if isinstance(b, dict)]
