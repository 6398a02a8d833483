"""The bot's Bot API session builds each response model once, however often the garbage collector runs.

Counted in a fresh interpreter: in the test process other bots' sessions may already hold the models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import asyncio, gc, sys
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from pydantic import main as pydantic_main
from handlers.telegram.session import Session
from simulator.botapi import FakeBotAPI

built = []
create = pydantic_main._generics.create_generic_submodel
def counting(name, *args):
    if name.startswith("Response["):
        built.append(name)
    return create(name, *args)
pydantic_main._generics.create_generic_submodel = counting

async def main(session_class):
    async with FakeBotAPI() as server:
        bot = Bot("42:TEST", session=session_class(api=TelegramAPIServer.from_base(server.url)))
        try:
            for n in range(12):
                await bot.send_message(1000 + n, "xin chào")
                await bot.get_updates(timeout=0)
                gc.collect()
        finally:
            await bot.session.close()

asyncio.run(main(Session if sys.argv[1] == "bot" else AiohttpSession))
print(len(built))
"""


def models_built(session: str) -> int:
    done = subprocess.run([sys.executable, "-c", SCRIPT, session], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True)
    return int(done.stdout.strip().splitlines()[-1])


def test_response_models_are_built_once() -> None:
    assert models_built("bot") <= 2  # Response[Message], Response[list[Update]]


def test_aiogram_alone_rebuilds_them_after_a_collection() -> None:
    """What the session is for: without it the models are freed and built again."""
    assert models_built("aiogram") > 5
