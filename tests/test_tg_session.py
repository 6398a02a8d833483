"""The bot's Bot API session builds each response model once, however often the garbage collector runs."""

from __future__ import annotations

import gc

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from pydantic import main as pydantic_main

from handlers.telegram.session import Session
from simulator.botapi import FakeBotAPI


async def _models_built(session_class: type[AiohttpSession], monkeypatch: pytest.MonkeyPatch) -> int:
    built: list[str] = []
    create = pydantic_main._generics.create_generic_submodel

    def counting(name: str, *args: object) -> object:
        if name.startswith("Response["):
            built.append(name)
        return create(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(pydantic_main._generics, "create_generic_submodel", counting)
    async with FakeBotAPI() as server:
        bot = Bot("42:TEST", session=session_class(api=TelegramAPIServer.from_base(server.url)))
        try:
            for n in range(12):
                await bot.send_message(1000 + n, "xin chào")
                await bot.get_updates(timeout=0)
                gc.collect()
        finally:
            await bot.session.close()
    return len(built)


async def test_response_models_are_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    assert await _models_built(Session, monkeypatch) <= 2  # Response[Message], Response[list[Update]]


async def test_aiogram_alone_rebuilds_them_after_a_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the session is for: without it the models are freed and built again."""
    assert await _models_built(AiohttpSession, monkeypatch) > 5
