"""A named reporter's name, phone and address: cleaned, refused when wrong, and never kept in plain text."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from bot.clock import Clock
from bot.identity_input import clean_text, name_problem, phone_number
from bot.intake import Choice
from storage.models import Case, DialogState, Reporter
from tests.test_intake import Citizen, fill_guided, fill_until_evidence, intake, receipt_of, state_of

__all__ = ["intake"]


async def at_name_step(c: Citizen) -> None:
    await fill_until_evidence(c)
    await c.press("done")
    await c.press("named")


@pytest.mark.parametrize("typed", ["0000000000", "0900000000", "1111111111", "+84 000 000 000", "0123456789",
                                   "09123456789012", "0912 345 abc"])
def test_numbers_nobody_has_are_refused(typed):
    assert phone_number(typed) is None


@pytest.mark.parametrize("typed", ["0912 345 678", "+84 912 345 678", "0912.345.678", "024 3825 1234"])
def test_real_numbers_are_kept_in_one_form(typed):
    assert phone_number(typed) in ("0912345678", "02438251234")


def test_bidi_overrides_and_control_characters_are_removed():
    assert clean_text("Nguy\u202eễn\u202c Văn\u200b An\x07\n") == "Nguyễn Văn An"
    assert name_problem(clean_text("\u202e\u202e")) == "privacy.name.invalid"


@pytest.mark.parametrize("typed", ["0912345678", "+84 912 345 678", "An 0912345678", "091 234"])
def test_phone_like_names_are_refused(typed):
    assert name_problem(typed) == "privacy.name.phone_like"


async def test_name_step_refuses_a_phone_and_cleans_an_override(core, intake):
    c = Citizen(intake)
    await at_name_step(c)
    await c.say("0912 345 678")
    assert "số điện thoại vào ô họ và tên" in c.text
    assert (await state_of(core)).state == "name"
    await c.say("<b>An</b>")
    assert "chỉ gồm chữ cái" in c.text
    await c.say("Trần\u202e Thị Bình\u202c")
    assert (await state_of(core)).state == "phone"
    await c.say("0000000000")
    assert "chưa hợp lệ" in c.text and (await state_of(core)).state == "phone"
    await c.say("0912 345 678")
    await c.say("12 Lê Lợi\u202e, Hạ Long")
    assert "Trần Thị Bình" in c.text and "12 Lê Lợi, Hạ Long" in c.text and "\u202e" not in c.text


async def test_name_step_answers_in_english_too(core, intake):
    c = Citizen(intake, user_id="8", language_code="en")
    await at_name_step(c)
    await c.say("+84 912 345 678")
    assert "looks like a phone number" in c.text


async def test_identity_is_sealed_in_the_dialogue_row_and_opened_at_submission(core, intake):
    c = Citizen(intake)
    await fill_guided(c, "complaint", named=True)
    row = json.dumps((await state_of(core)).data, ensure_ascii=False)
    for plain in ("Nguyễn Văn An", "0912345678", "Lê Thánh Tông"):
        assert plain not in row
    assert "Nguyễn Văn An" in c.text  # the summary still shows it to the reporter
    await c.press("send")
    async with core.sessions() as s:
        reporter = (await s.execute(select(Reporter))).scalar_one()
    identity = core.privacy.open(reporter.identity)
    assert (identity["name"], identity["phone"], identity["address"]) == (
        "Nguyễn Văn An", "0912345678", "12 Lê Thánh Tông, Hạ Long")


async def test_a_lookup_unlock_is_sealed_and_expires(core, intake):
    core.clock = Clock(movable=True)
    c = Citizen(intake)
    await fill_guided(c, "petition", named=False, files=0)
    await c.press("send")
    code, pin = receipt_of(c)
    other = Citizen(intake, user_id="99")
    await other.cmd("status", f"{code} {pin}")
    async with core.sessions() as s:
        case_id = (await s.execute(select(Case.id))).scalar_one()
    row = await state_of(core, "99")
    assert isinstance(row.data["unlocked"], str)  # sealed: the row does not say which case was opened
    await other.press(f"add:{case_id}")
    assert (await state_of(core, "99")).state == "addinfo"
    await other.cmd("cancel")
    core.clock.advance(dt.timedelta(minutes=31))
    await other.send(Choice(f"add:{case_id}"))
    assert "không còn dùng được" in other.text
    assert (await state_of(core, "99")) is None


async def test_dialogue_rows_without_an_open_dialogue_or_live_unlock_are_gone(core, intake):
    core.clock = Clock(movable=True)
    c = Citizen(intake)
    await fill_guided(c, "petition", named=False, files=0)
    await c.press("send")
    code, pin = receipt_of(c)
    await c.cmd("status", f"{code} {pin}")
    core.clock.advance(dt.timedelta(minutes=31))
    await c.cmd("help")
    async with core.sessions() as s:
        assert (await s.execute(select(DialogState))).scalars().all() == []


async def test_the_sweep_removes_a_lookup_row_the_citizen_never_came_back_to(core, intake):
    from bot.dialog_expiry import expire_stale

    c = Citizen(intake)
    await fill_guided(c, "petition", named=False, files=0)
    await c.press("send")
    code, pin = receipt_of(c)
    await Citizen(intake, user_id="99").cmd("status", f"{code} {pin}")
    assert await state_of(core, "99") is not None
    async with core.sessions() as s, s.begin():
        await expire_stale(s, core, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31))
    assert await state_of(core, "99") is None
