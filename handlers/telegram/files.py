"""Files citizens send are kept by the bot: downloaded from Telegram when they arrive into the file store
(encrypted at rest), so an agency on any platform can be sent them and they outlive Telegram's copy.

A file the evidence checks would refuse anyway (too large, a kind not accepted) is not downloaded; nor is
one Telegram cannot hand over right now: it keeps its Telegram file id, which still works within Telegram.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

from bot.delivery.filestore import FileStore, stored_id
from bot.evidence import Evidence, refusal
from bot.settings import Settings

log = logging.getLogger(__name__)


async def download(bot: Bot, file_id: str) -> bytes:
    """A Telegram file's bytes; OSError when Telegram hands over nothing."""
    data = await bot.download(file_id)
    if data is None:
        raise OSError(f"Telegram gave no content for file {file_id}")
    return data.getvalue()


async def keep(bot: Bot, store: FileStore | None, settings: Settings, media: str, file_id: str,
               size: int | None, mime: str | None = None, name: str | None = None) -> tuple[str, int | None]:
    """(the file id to record, its size): the stored copy's id when the download succeeded."""
    if store is None or refusal(settings, media, size, mime, name) is not None:
        return file_id, size
    try:
        content = await download(bot, file_id)
    except (TelegramAPIError, TelegramNetworkError, OSError) as exc:
        log.warning("a %s could not be downloaded from Telegram, its file id is kept: %s", media, exc)
        return file_id, size
    return stored_id(await store.put(content)), len(content)


async def keep_items(bot: Bot, store: FileStore | None, settings: Settings,
                     items: list[Evidence]) -> list[Evidence]:
    """The same for the files of an answer to an officer's question."""
    kept = []
    for item in items:
        file_id, size = await keep(bot, store, settings, item.media, item.file_id, item.size, item.mime,
                                   item.name)
        kept.append(replace(item, file_id=file_id, size=size))
    return kept
