"""aiogram imported the bot's way builds its Bot API models on first use, and every one still works."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(code: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_entry_point_imports_aiogram_with_models_deferred():
    out = run(
        """
        import json, sys
        import runner.app
        from handlers.telegram.lazy_models import deferred
        print(json.dumps({"deferred": deferred()}))
        """
    )
    assert out["deferred"] > 300  # nothing imported aiogram before the module that defers its builds


def test_every_bot_api_model_builds_and_validates_on_first_use():
    out = run(
        """
        import json

        def main():
            import handlers.telegram
            import aiogram.methods as M
            import aiogram.types as T
            from aiogram.methods.base import Response
            from handlers.telegram.lazy_models import deferred

            before = deferred()
            updates = Response[list[T.Update]].model_validate({"ok": True, "result": [
                {"update_id": 1, "message": {"message_id": 7, "date": 0, "chat": {"id": 1, "type": "private"},
                 "from": {"id": 5, "is_bot": False, "first_name": "A"}, "text": "hi",
                 "reply_to_message": {"message_id": 6, "date": 0, "chat": {"id": 1, "type": "private"}}}},
                {"update_id": 2, "callback_query": {"id": "q", "chat_instance": "c", "data": "send",
                 "from": {"id": 5, "is_bot": False, "first_name": "A"},
                 "message": {"message_id": 8, "date": 0, "chat": {"id": 1, "type": "private"}}}},
            ]}).result
            button = T.InlineKeyboardButton(text="a", callback_data="b")
            markup = T.InlineKeyboardMarkup(inline_keyboard=[[button]])
            sent = M.SendMessage(chat_id=1, text="x", reply_markup=markup).model_dump(exclude_none=True)
            menu = M.SetChatMenuButton(menu_button=T.MenuButtonCommands()).model_dump(exclude_none=True)
            failed = []
            for module in (T, M):
                for name in module.__all__:
                    model = getattr(module, name)
                    if isinstance(model, type) and hasattr(model, "__pydantic_complete__"):
                        try:
                            model.__pydantic_validator__.validate_python
                            model.__pydantic_serializer__.to_python
                            assert model.__pydantic_complete__
                        except Exception as error:
                            failed.append(f"{name}: {error}")
            print(json.dumps({
                "before": before, "after": deferred(), "failed": failed,
                "reply_to": updates[0].message.reply_to_message.message_id,
                "sender": updates[0].message.from_user.id, "pressed": updates[1].callback_query.data,
                "markup": sent["reply_markup"], "menu": menu["menu_button"],
            }))

        main()
        """
    )
    assert out["before"] > 300
    assert out["failed"] == []
    assert out["after"] == 0
    assert (out["reply_to"], out["sender"], out["pressed"]) == (6, 5, "send")
    assert out["markup"] == {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
    assert out["menu"] == {"type": "commands"}
