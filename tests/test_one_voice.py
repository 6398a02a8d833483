"""One voice, one language: every message a citizen receives about a case, including status notices queued
long after the dialogue, is in the citizen's chosen language and the formal register."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot import relay
from bot.i18n import catalog
from bot.intake import Intake
from storage.models import Case
from tests import officer_acts as acts
from tests.officer_kit import bind_groups, mark_sent, officer
from tests.sealed import rows_to
from tests.test_intake import Citizen, fill_guided

PLACEHOLDER = re.compile(r"\{[^}]*\}")
# What an officer or the citizen typed is theirs, in their words; it is not the bot's voice.
TYPED = ("Ông/bà đã nộp bao nhiêu tiền?", "Cần xác minh thêm", "Đã kỷ luật cán bộ", "Năm triệu đồng")


def _fragments(locale: str) -> set[str]:
    """The fixed wording of each text of a locale: the pieces between placeholders, long enough to be
    sentences rather than names, and not shared with the other locale."""
    other = "en" if locale == "vi" else "vi"
    theirs = set(catalog(other).values())
    found = set()
    for key, text in catalog(locale).items():
        if key.startswith(("kind.", "status.")) or text in theirs:
            continue
        for piece in PLACEHOLDER.split(text):
            for line in piece.splitlines():
                line = line.strip(" •:.,()—-")
                if len(line) >= 16 and not any(line in t for t in theirs):
                    found.add(line)
    return found


async def _citizen_texts(core, user_id: str) -> list[str]:
    return [row.payload.get("text", "") for row in await rows_to(core, user_id)]


async def _walk(core, c: Citizen) -> list[str]:
    """File, then the agency accepts, extends, asks and resolves; returns every text the citizen got."""
    await fill_guided(c, "denunciation", named=True)
    await c.press("send")
    said = [r.text for r in c.replies]
    async with core.sessions() as session:
        case = (await session.execute(select(Case))).scalar_one()
    lead = officer(case.lead_agency_id)
    await acts.accept(core, lead, case.id, case.version)
    await acts.extend(core, lead, case.id, None, TYPED[1])
    await acts.request_info(core, lead, case.id, None, TYPED[0])
    [asked] = [row for row in await rows_to(core, c.user_id) if row.payload.get("relay") == "question"]
    await mark_sent(core, asked.id, "900")
    assert await relay.citizen_answer(core, channel="telegram", user_id=c.user_id, chat_id=c.user_id,
                                      replied_to="900", text=TYPED[3])
    await acts.resolve(core, lead, case.id, None, TYPED[2])
    await c.cmd("mycases")
    said += [r.text for r in c.replies]
    return said + await _citizen_texts(core, c.user_id)


def _foreign(texts: list[str], locale: str) -> list[str]:
    other = "en" if locale == "vi" else "vi"
    fragments = _fragments(other)
    found = []
    for text in texts:
        for typed in TYPED:
            text = text.replace(typed, "")
        found += [f for f in fragments if f in text]
    return found


@pytest.mark.parametrize("locale", ["vi", "en"])
async def test_a_whole_case_reads_in_one_language(core, locale: str) -> None:
    await bind_groups(core)
    core.settings.messages_per_minute = 1000
    c = Citizen(Intake(core), user_id="31", language_code="vi")
    if locale == "en":
        await c.cmd("lang", "en")
    texts = await _walk(core, c)
    notices = await _citizen_texts(core, c.user_id)
    assert len(notices) >= 5, notices  # receipt, accepted, question, extended, resolved
    assert _foreign(texts, locale) == []
    if locale == "vi":
        assert not any(re.search(r"\bbạn\b", text, re.IGNORECASE) for text in texts), "one register: Ông/Bà"


async def test_switching_language_after_filing_changes_the_notices(core) -> None:
    """Filed in Vietnamese, then /lang en: the 'resolved' notice that comes days later is in English."""
    await bind_groups(core)
    core.settings.messages_per_minute = 1000
    c = Citizen(Intake(core), user_id="32", language_code="vi")
    await fill_guided(c, "petition", named=False)
    await c.press("send")
    await c.cmd("lang", "en")
    async with core.sessions() as session:
        case = (await session.execute(select(Case))).scalar_one()
    lead = officer(case.lead_agency_id)
    await acts.accept(core, lead, case.id, case.version)
    await acts.resolve(core, lead, case.id, None, "Done")
    resolved = (await _citizen_texts(core, "32"))[-1]
    assert resolved.startswith(f"Your case {case.code} has been resolved")
    assert _foreign([resolved], "en") == []


async def test_status_and_notices_name_the_stage_as_the_card_does(core) -> None:
    """A corruption tip's first deadline is its classification stage, not 'the resolution deadline'."""
    await bind_groups(core)
    core.settings.messages_per_minute = 1000
    c = Citizen(Intake(core), user_id="33")
    await fill_guided(c, "corruption_tip", named=False)
    await c.press("send")
    code = next(line.split(": ")[1] for line in c.text.splitlines() if line.startswith("Mã tra cứu:"))
    pin = next(line.split(": ")[1] for line in c.text.splitlines() if line.startswith("Mã PIN:"))
    async with core.sessions() as session:
        case = (await session.execute(select(Case))).scalar_one()
    from bot.cards import card_text, stage_name

    stage = stage_name(core, case, "vi")[0]
    assert stage and stage in card_text(core, case, case.lead_agency_id, "lead")
    await c.cmd("status", f"{code} {pin}")
    assert f"Thời hạn ({stage})" in c.text and "Thời hạn giải quyết" not in c.text
