"""`python -m bot routing-review`: what officers corrected in the routing, with the words that matched."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot import cards, cases
from bot.cases import Citizen, Draft
from bot.cli import main
from bot.routing_review import corrections, render
from handlers.telegram import build_dispatcher
from tests import officer_acts as acts
from tests import tg
from tests.officer_kit import CHATS, bind_groups, mark_sent, officer, outbox

ME = Citizen("telegram", "10", "10")


async def _file(core, summary: str, kind: str) -> cases.Filed:
    async with core.sessions() as session, session.begin():
        return await cases.submit(session, core, ME, Draft(kind=kind, summary=summary))


async def _transfer_in_the_group(core, case_id: int, lead: str, target: str, reason: str) -> None:
    """Transfer as an officer does on Telegram: the button, the agency picked, the reason as a reply."""
    dp, bot, chat = build_dispatcher(core), tg.MockedBot(), int(CHATS[lead])
    data = tg.case_button(core, lead, case_id, await _version(core, case_id), cards.TRANSFER)
    await dp.feed_update(bot, tg.update(tg.callback_query(501, data, chat_id=chat)))
    picker = (await outbox(core, chat_id=CHATS[lead]))[-1]
    options = {b["text"]: tg.wire(b) for row in picker.payload["buttons"] for b in row}
    await dp.feed_update(bot, tg.update(tg.callback_query(501, options[cards.agency_name(core, target)],
                                                          chat_id=chat)))
    prompt = (await outbox(core, chat_id=CHATS[lead]))[-1]
    assert prompt.payload["expects_answer"]
    await mark_sent(core, prompt.id, "8800")
    await dp.feed_update(bot, tg.update(tg.reply(chat, 501, 8800, reason)))


async def _version(core, case_id: int) -> int:
    from storage.models import Case

    async with core.sessions() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        return case.version


@pytest.fixture
async def corrected(core):
    """Two routed cases: one transferred by its lead, one with a co-operating agency added; one untouched."""
    await bind_groups(core)
    bribe = await _file(core, "Cán bộ địa chính xã đòi 3tr mới ký giấy tờ đất", "denunciation")
    assert bribe.decision.rule == "tham-nhung" and bribe.case.lead_agency_id == "noi-chinh"
    await _transfer_in_the_group(core, bribe.case.id, "noi-chinh", "ubkt", "Người bị tố cáo là đảng viên")
    theft = await _file(core, "Nhà tôi bị mất trộm xe máy đêm qua", "crime_report")
    await acts.add_cooperating(core, officer("cong-an"), theft.case.id, await _version(core, theft.case.id),
                             "mttq", "Nhiều hộ trong xóm bị mất trộm")
    await _file(core, "Đề nghị sửa đường thôn 5", "petition")
    return bribe, theft


async def test_corrections_list_transfers_and_added_agencies_with_the_words(core, corrected) -> None:
    bribe, theft = corrected
    found = await corrections(core.sessions)
    assert [(c.code, c.action) for c in found] == [(bribe.case.code, "transferred"),
                                                   (theft.case.code, "cooperating_added")]
    moved, added = found
    assert (moved.rule, moved.routed_lead, moved.lead_before, moved.lead_after) == \
        ("tham-nhung", "noi-chinh", "noi-chinh", "ubkt")
    assert any("3tr" in words for words in moved.matched)  # the words that sent it to the wrong lead
    assert moved.reason == "Người bị tố cáo là đảng viên" and moved.by_agency == "noi-chinh"
    assert (added.rule, added.added, added.removed) == ("toi-pham", ["mttq"], [])
    assert "mất trộm" in added.matched
    text = render(found)
    assert "lead noi-chinh -> ubkt" in text and "+mttq" in text and "tham-nhung" in text


async def test_cli_prints_one_json_object_a_line(core, corrected, db_url, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert await asyncio.to_thread(main, ["routing-review", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["action"] for r in rows] == ["transferred", "cooperating_added"]
    assert {"code", "kind", "rule", "matched", "routed_lead", "lead_after", "added", "reason"} <= set(rows[0])
    assert await asyncio.to_thread(main, ["routing-review", "--since", "2999-01-01"]) == 0
    assert "No routing corrections" in capsys.readouterr().out


def test_cli_refuses_a_bad_date(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["routing-review", "--since", "23.11.26"])
    assert "expected a date as YYYY-MM-DD or DD/MM/YYYY" in capsys.readouterr().err


async def test_export_writes_corrected_cases_as_labelled_reports(core, corrected, db_url, monkeypatch,
                                                                  tmp_path) -> None:
    """A province retrains on its own cases: the corrected lead is the label; no identity is written."""
    bribe, _ = corrected
    monkeypatch.setenv("DATABASE_URL", db_url)
    out = tmp_path / "corrections.jsonl"
    assert await asyncio.to_thread(main, ["routing-review", "--export", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["lead"], r["kind"]) for r in rows] == [(bribe.case.code, "ubkt", "denunciation")]
    assert rows[0]["text"] == "Cán bộ địa chính xã đòi 3tr mới ký giấy tờ đất" and rows[0]["split"] == "train"
    assert set(rows[0]) == {"id", "writer", "persona", "split", "incident", "sort", "text", "kind", "lead",
                            "cooperating", "field", "place"}, "codes, kinds and texts only: no identity"
    from bot.rules import load_rules
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(out.read_text(encoding="utf-8") + json.dumps(
        {"text": "Nhà tôi bị mất trộm xe máy", "lead": "cong-an", "split": "train"}) + "\n", encoding="utf-8")
    rules_text = (tmp_path / "rules.yaml")
    from tests.test_routing_model import SAMPLE
    rules_text.write_text(SAMPLE.read_text(encoding="utf-8").replace("../corpus/quang-ninh/reports.jsonl",
                                                                     str(corpus)), encoding="utf-8")
    assert len(load_rules(rules_text).examples) == 2, "the export is read back as a corpus"
