"""What files the bot accepts as evidence, on every path a citizen can send one: while filing a report,
when adding to it later, and when answering an officer's question through the bot."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bot.settings import Settings


@dataclass(frozen=True)
class Evidence:
    """A file a citizen sent: a platform's file id, or the bot's own copy
    (`bot.delivery.filestore.stored_id`).

    The one shape of a file from the intake event to the case's attachment and the delivery to a group."""

    media: str  # photo | document | voice | audio | video
    file_id: str
    file_unique_id: str | None = None
    size: int | None = None
    mime: str | None = None
    name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ALLOWED_MEDIA = frozenset({"photo", "document", "voice", "audio", "video"})
DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
}


def document_allowed(name: str | None, mime: str | None) -> bool:
    """A document by its extension, else by its type: office files, PDF and pictures."""
    extension = name.rsplit(".", 1)[-1].lower() if name and "." in name else ""
    if extension:
        return extension in DOCUMENT_TYPES
    return mime in DOCUMENT_TYPES.values()


def refusal(settings: Settings, media: str, size: int | None, mime: str | None = None,
            name: str | None = None) -> tuple[str, dict[str, Any]] | None:
    """Why a file is not accepted, as a locale key and its parameters; None when it is."""
    if media not in ALLOWED_MEDIA or (media == "document" and not document_allowed(name, mime)):
        return "citizen.limit.file_type", {}
    if size is not None and size > settings.max_file_mb * 1024 * 1024:
        return "citizen.limit.file_size", {"mb": settings.max_file_mb}
    return None
