"""Officers link or merge reports of one incident from the card; linked cases move together and each
citizen hears the outcome under their own code, never the other's."""

from __future__ import annotations

import pytest
from aiogram.methods import AnswerCallbackQuery
from sqlalchemy import select, update

from bot import cards, presses
from bot import officer as ca
from bot import status as st
from handlers.telegram import build_dispatcher, callbacks
from storage.models import AuditEvent, Case
from tests import officer_acts as acts
from tests import tg
from tests.officer_kit import CHATS, bind_groups, load, make_case, officer, outbox

FIRST_CITIZEN, SECOND_CITIZEN = "7001", "7002"
LEAD_CHAT = int(CHATS["thanh-tra"])


@pytest.fixture
async def pair(core):
    await bind_groups(core)
    first = await make_case(core, code="AAAA-1111", chat_id=FIRST_CITIZEN)
    second = await make_case(core, code="BBBB-2222", chat_id=SECOND_CITIZEN, lead="noi-chinh", cooperating=())
    likely = [{"id": first.id, "code": first.code, "score": 81, "evidence": ["text 64", "amount same"]}]
    async with core.sessions() as session, session.begin():
        await session.execute(update(Case).where(Case.id == second.id).values(likely_duplicates=likely))
    return first, await load(core, second.id)


def _button(payload: dict, action: str) -> presses.Press:
    found = (presses.from_button(b) for row in payload["buttons"] for b in row)
    return next(p for p in found if p is not None and p.action == action)


async def _card(core, case_id: int, agency: str, role: str = "lead") -> dict:
    async with core.sessions() as session:
        case = await session.get(Case, case_id)
        return cards.card_payload(core, case, agency, role)


async def _events(core, case_id: int) -> list[str]:
    async with core.sessions() as session:
        rows = await session.execute(select(AuditEvent.action).where(AuditEvent.case_id == case_id))
        return list(rows.scalars())


async def test_the_card_lists_likely_duplicates_with_code_score_and_why(core, pair):
    _, second = pair
    payload = await _card(core, second.id, "noi-chinh")
    line = next(x for x in payload["text"].splitlines() if "AAAA-1111 — khả năng cùng sự việc" in x)
    probability = int(line.split("khả năng cùng sự việc ")[1].split("%")[0])
    assert 60 <= probability <= 100, line  # the learned probability, in percent
    assert "cùng số tiền" in line
    labels = [b["text"] for row in payload["buttons"] for b in row]
    assert "🔗 Liên kết với AAAA-1111" in labels and "⤵️ Gộp vào AAAA-1111" in labels
    assert all(len(tg.wire(b).encode()) <= 64 for row in payload["buttons"] for b in row)


async def test_linked_cases_move_together_and_each_citizen_keeps_their_own_code(core, pair):
    first, second = pair
    link = _button(await _card(core, second.id, "noi-chinh"), cards.LINK)
    await ca.press(core, officer("noi-chinh"), link)
    linked = await load(core, second.id)
    assert linked.duplicate_of_id == first.id and linked.lead_agency_id == "thanh-tra"
    told = (await outbox(core, chat_id=SECOND_CITIZEN))[-1].payload["text"]
    assert "BBBB-2222" in told and "AAAA-1111" not in told and "cùng sự việc" in told
    assert "linked" in await _events(core, second.id) and "joined" in await _events(core, first.id)
    # the new lead gets the linked case's card; the earlier lead's group hears it was linked
    assert any(m.case_id == second.id for m in await outbox(core, chat_id=CHATS["thanh-tra"], kind="card"))
    primary_cards = [m for m in await outbox(core, chat_id=CHATS["thanh-tra"]) if m.case_id == first.id]
    assert any("liên kết vào hồ sơ này: BBBB-2222" in m.payload.get("text", "") for m in primary_cards), \
        "the primary's card lists the case linked to it"

    await acts.accept(core, officer("thanh-tra"), first.id, (await load(core, first.id)).version)
    assert (await load(core, second.id)).status == st.ACCEPTED
    accepted = (await outbox(core, chat_id=SECOND_CITIZEN))[-1].payload["text"]
    assert "BBBB-2222" in accepted and "AAAA-1111" not in accepted

    await acts.resolve(core, officer("thanh-tra"), first.id, (await load(core, first.id)).version, "Đã xử lý")
    both = [await load(core, first.id), await load(core, second.id)]
    assert [c.status for c in both] == [st.RESOLVED, st.RESOLVED]
    for citizen, own, other in ((FIRST_CITIZEN, "AAAA-1111", "BBBB-2222"),
                                (SECOND_CITIZEN, "BBBB-2222", "AAAA-1111")):
        result = (await outbox(core, chat_id=citizen))[-1].payload["text"]
        assert "Đã xử lý" in result and own in result and other not in result


async def test_a_merged_case_closes_into_the_earlier_one_and_still_hears_the_outcome(core, pair):
    first, second = pair
    merge = _button(await _card(core, second.id, "noi-chinh"), cards.MERGE)
    await ca.press(core, officer("noi-chinh"), merge)
    merged = await load(core, second.id)
    assert merged.status == st.MERGED and merged.duplicate_of_id == first.id and not merged.is_open
    edit = (await outbox(core, chat_id=CHATS["noi-chinh"], kind="edit_card"))[-1]
    assert edit.payload["buttons"] == [] and "Đã gộp vào hồ sơ AAAA-1111" in edit.payload["text"]
    await acts.accept(core, officer("thanh-tra"), first.id, (await load(core, first.id)).version)
    await acts.resolve(core, officer("thanh-tra"), first.id, (await load(core, first.id)).version, "Đã xử lý")
    assert (await load(core, second.id)).status == st.MERGED
    result = (await outbox(core, chat_id=SECOND_CITIZEN))[-1].payload["text"]
    assert "Đã xử lý" in result and "BBBB-2222" in result and "AAAA-1111" not in result


async def test_link_to_an_unlisted_or_closed_case_is_refused(core, pair):
    first, second = pair
    forged = cards.signed(core, "noi-chinh", second.id, second.version, cards.LINK, "999")
    with pytest.raises(ca.ActionRefused):
        await ca.press(core, officer("noi-chinh"), forged)
    async with core.sessions() as session, session.begin():
        await session.execute(update(Case).where(Case.id == first.id).values(status=st.RESOLVED))
    link = _button(await _card(core, second.id, "noi-chinh"), cards.LINK)
    with pytest.raises(ca.ActionRefused) as refused:
        await ca.press(core, officer("noi-chinh"), link)
    assert refused.value.reason_key == "duplicates.refused.unknown"
    assert (await load(core, second.id)).duplicate_of_id is None


async def test_link_button_pressed_in_the_telegram_group(core, pair):
    first, second = pair
    link = _button(await _card(core, second.id, "noi-chinh"), cards.LINK)
    dp, bot = build_dispatcher(core), tg.MockedBot()
    pressed = tg.callback_query(501, callbacks.pack(link), chat_id=int(CHATS["noi-chinh"]))
    await dp.feed_update(bot, tg.update(pressed))
    answer = bot.calls(AnswerCallbackQuery)[-1]
    assert not answer.show_alert and "AAAA-1111" in answer.text
    assert (await load(core, second.id)).duplicate_of_id == first.id
    # a co-operating agency's card offers no link buttons
    coop = await _card(core, second.id, "thanh-tra", "cooperating")
    assert not any(presses.from_button(b).action == cards.LINK for row in coop["buttons"] for b in row)


async def test_not_the_same_removes_the_likely_duplicate_and_is_audited(core, pair):
    _, second = pair
    payload = await _card(core, second.id, "noi-chinh")
    assert any(b["text"] == "✖️ Khác vụ AAAA-1111" for row in payload["buttons"] for b in row)
    await ca.press(core, officer("noi-chinh"), _button(payload, cards.DIFFERENT))
    case = await load(core, second.id)
    assert case.likely_duplicates == [] and case.duplicate_of_id is None
    assert "not_duplicate" in await _events(core, second.id)
    card = await _card(core, second.id, "noi-chinh")
    assert "AAAA-1111" not in card["text"], "the card no longer lists it"
    assert not [b for row in card["buttons"] for b in row if "AAAA-1111" in b["text"]]


async def test_duplicate_review_exports_links_and_not_same_as_labelled_pairs(core, pair, db_url, monkeypatch,
                                                                            tmp_path):
    import asyncio
    import json

    from bot.cli import main

    first, second = pair
    await ca.press(core, officer("noi-chinh"), _button(await _card(core, second.id, "noi-chinh"), cards.LINK))
    third = await make_case(core, code="CCCC-3333", lead="noi-chinh", cooperating=(), chat_id="7003")
    async with core.sessions() as session, session.begin():
        likely = [{"id": first.id, "code": first.code, "score": 70, "evidence": ["text 60"]}]
        await session.execute(update(Case).where(Case.id == third.id).values(likely_duplicates=likely))
    different = _button(await _card(core, third.id, "noi-chinh"), cards.DIFFERENT)
    await ca.press(core, officer("noi-chinh"), different)
    monkeypatch.setenv("DATABASE_URL", db_url)
    out = tmp_path / "pairs.jsonl"
    assert await asyncio.to_thread(main, ["duplicate-review", "--export", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["a"]["code"], r["b"]["code"], r["same"], r["decision"]) for r in rows] == [
        ("BBBB-2222", "AAAA-1111", True, "linked"), ("AAAA-1111", "CCCC-3333", False, "not_same")]
    assert all(set(r["a"]) == {"code", "kind", "text", "place"} for r in rows), "no identity"
