"""Import aiogram with its Bot API models built on first use instead of all at import.

`aiogram.types` ends by calling `model_rebuild` on each of its ~400 models, passing the namespace that
their forward references (imported only under `TYPE_CHECKING`) need, and pydantic then builds every
validator although the models ask for `defer_build`: about two seconds of the bot's start-up on a small
host, and memory, for models the bot never meets. Imported before aiogram, this module skips those
rebuilds and instead gives each model's module the names its annotations use, as the `TYPE_CHECKING`
imports would at run time; pydantic's deferred build then resolves them wherever a model is first used,
alone or inside another (a method, `Response[list[Update]]`). Where aiogram was already imported nothing
changes. First builds happen on the event loop's thread, as aiogram's models are used only there.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from pydantic import BaseModel

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_skipped: dict[type[BaseModel], dict[str, Any]] = {}
_original = BaseModel.__dict__["model_rebuild"]  # the classmethod object, to call and to restore


def _skip(
    cls: type[BaseModel],
    *,
    force: bool = False,
    raise_errors: bool = True,
    _parent_namespace_depth: int = 2,
    _types_namespace: dict[str, Any] | None = None,
) -> bool | None:
    """`model_rebuild` while aiogram is imported: a deferred model is left unbuilt, its namespace kept."""
    if _types_namespace is not None and not force and cls.model_config.get("defer_build"):
        _skipped[cls] = _types_namespace
        return None
    return _original.__func__(
        cls,
        force=force,
        raise_errors=raise_errors,
        _parent_namespace_depth=_parent_namespace_depth + 1,
        _types_namespace=_types_namespace,
    )


def _give_names() -> None:
    """Put into each skipped model's module the names that its string annotations, and those of the
    classes it inherits fields from (resolved in the model's own module), use and the module lacks."""
    for cls, namespace in _skipped.items():
        module = vars(sys.modules[cls.__module__])
        for klass in cls.__mro__:
            for annotation in vars(klass).get("__annotations__", {}).values():
                if isinstance(annotation, str):
                    for name in _NAME.findall(annotation):
                        if name not in module and name in namespace:
                            module[name] = namespace[name]


def deferred() -> int:
    """How many of aiogram's models are not built yet (each builds when first used)."""
    return sum(1 for cls in _skipped if not cls.__pydantic_complete__)


def _import_aiogram() -> None:
    if "aiogram" in sys.modules:
        return
    BaseModel.model_rebuild = classmethod(_skip)  # type: ignore[method-assign,assignment]
    try:
        import aiogram.types  # noqa: F401
    finally:
        BaseModel.model_rebuild = _original  # type: ignore[method-assign]
    _give_names()


_import_aiogram()
