"""One shape for every refusal the core gives: a locale key and its parameters, so each adapter shows the
reason in the user's language and nothing is refused in silence or in English code words."""

from __future__ import annotations

from typing import Any

from bot.i18n import t


class Refused(Exception):
    """Something a person asked for must not happen; `reason_key` is the locale key of the explanation."""

    def __init__(self, reason_key: str, **params: Any) -> None:
        super().__init__(reason_key)
        self.reason_key = reason_key
        self.params = params

    def text(self, locale: str = "vi") -> str:
        return t(self.reason_key, locale, **self.params)
