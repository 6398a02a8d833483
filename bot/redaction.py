"""Secrets never reach the logs: the bot token is cut out of every log record and start-up error.

Telegram puts the token in every request URL (`/bot<TOKEN>/getMe`), and HTTP client errors quote the
URL, so a connection error or a malformed TELEGRAM_API_URL would print the token. A filter on the root
logging handlers rewrites each record (message, arguments and traceback text) before any handler writes
it; `redact()` does the same for texts printed outside logging.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# Anything shaped like a Bot API token (digits, a colon, 30+ url-safe characters), configured or not.
TOKEN_SHAPE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}")
MASK = "<BOT_TOKEN>"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return TOKEN_SHAPE.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Rewrites a record so no handler can write a secret (the formatted message and the traceback)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def install(secrets: Iterable[str], logger: logging.Logger | None = None) -> RedactingFilter:
    """Put one redacting filter on every handler of `logger` (the root logger by default)."""
    target = logger or logging.getLogger()
    redacting = RedactingFilter(secrets)
    for handler in target.handlers:
        present = [f for f in handler.filters if isinstance(f, RedactingFilter)]
        if present:  # installed before (with other secrets, perhaps): it now cuts these too
            present[0].secrets.extend(s for s in redacting.secrets if s not in present[0].secrets)
        else:
            handler.addFilter(redacting)
    return redacting


def configure_logging(secrets: Iterable[str], level: int = logging.INFO) -> RedactingFilter:
    """Log to stderr with timestamps, every handler behind the redacting filter (the bot and the demo)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return install(secrets)
