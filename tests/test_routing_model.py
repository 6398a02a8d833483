"""The learned lead model beside the rules: its corpus, its figures on writers it never saw, the question a
citizen is asked when the bot is unsure, and the triage agency for a citizen who cannot say."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.intake import Intake
from bot.routing import route
from bot.rules import Rules, load_rules
from storage.models import Case
from tests.test_intake import Citizen

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "rules" / "quang-ninh.yaml"
CORPUS = ROOT / "corpus" / "quang-ninh" / "reports.jsonl"
UNSURE = "Thẩm phán nhận hối lộ để xử án có lợi cho bị cáo"


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(SAMPLE)


def corpus() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_corpus_is_large_blind_and_held_out_by_writer(rules: Rules) -> None:
    rows = corpus()
    writers = Counter(r["writer"] for r in rows)
    test_writers = {r["writer"] for r in rows if r["split"] == "test"}
    assert len(rows) >= 3000 and len(writers) >= 8
    assert len(test_writers) >= 2 and sum(r["split"] == "test" for r in rows) >= 700
    assert not test_writers & {r["writer"] for r in rows if r["split"] == "train"}, "a writer is on one side"
    assert {r["lead"] for r in rows} == {a.id for a in rules.agencies if a.id != "bao"}
    assert Counter(r["sort"] for r in rows)["near_miss"] >= 300
    told_twice = Counter(r["incident"] for r in rows if r["incident"].startswith("I"))
    assert sum(n >= 2 for n in told_twice.values()) >= 400, "incidents told by several writers"
    assert rules.examples == [(r["text"], r["lead"]) for r in rows if r["split"] == "train"]


def test_held_out_writers_are_mostly_decided_right_and_rarely_wrong(rules: Rules) -> None:
    """The figures bench/README.md reports (bench/routing_heldout.py), kept from sliding back."""
    held = [r for r in corpus() if r["split"] == "test"]
    outcomes = Counter()
    for r in held:
        d = route(rules, r["text"])
        outcomes["asked-right" if d.ask and r["lead"] in d.ask else "asked-wrong" if d.ask
                 else "right" if d.lead == r["lead"] else "wrong"] += 1
    share = {k: v / len(held) for k, v in outcomes.items()}
    assert share.get("right", 0) >= 0.80, share
    assert share.get("wrong", 0) <= 0.09, share
    assert share.get("asked-right", 0) + share.get("asked-wrong", 0) <= 0.15, share


def test_words_no_rule_lists_are_read_by_the_model(rules: Rules) -> None:
    snatched = route(rules, "thằng kia giật cái điện thoại của em rồi phóng xe máy chạy mất ở chợ")
    assert (snatched.lead, snatched.kind, snatched.ask) == ("cong-an", "crime_report", [])
    assert snatched.confidence >= 0.6 and "Mô hình" in snatched.explanation
    assert snatched.second_opinion is not None and snatched.second_opinion["words"]


def test_the_law_still_adds_agencies_to_the_lead_the_model_chose(rules: Rules) -> None:
    story = "ông phó phòng nhận hối lộ của tôi 50 triệu mới chịu ký hồ sơ"
    decision = route(rules, story, kind="petition", lead="noi-chinh")
    assert decision.lead == "noi-chinh" and "cong-an" in decision.cooperating  # a bribe of 2 million or more
    assert decision.confidence == 1.0 and decision.kind == "petition"  # the citizen's kind stays


def test_a_rule_that_decides_is_never_overruled(tmp_path: Path, rules: Rules) -> None:
    story = "Ngân hàng chính sách xã: cán bộ tín dụng ăn chặn tiền vay hộ nghèo"
    assert route(rules, story).lead == "nhnn"  # the model is sure it is a bank matter
    text = SAMPLE.read_text(encoding="utf-8").replace(
        "    guess_kind: corruption_tip\n", "    guess_kind: corruption_tip\n    decides: true\n", 1)
    text = text.replace("../corpus/quang-ninh/reports.jsonl", str(CORPUS))
    (tmp_path / "rules.yaml").write_text(text, encoding="utf-8")
    decision = route(load_rules(tmp_path / "rules.yaml"), story)
    assert (decision.lead, decision.rule, decision.confidence) == ("noi-chinh", "tham-nhung", 1.0)
    assert decision.ask == []


def test_unsure_the_json_offers_the_likeliest_leads(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "--json", UNSURE]) == 0
    result = json.loads(capsys.readouterr().out)
    assert 0 <= result["confidence"] < 0.6
    assert 2 <= len(result["ask"]) <= 4 and result["lead"] == result["ask"][0]


@pytest.fixture
def intake(core) -> Intake:
    core.settings.messages_per_minute = 1000
    return Intake(core)


async def _file(c: Citizen) -> None:
    await c.press("prop:yes")
    await c.press("skip")  # the place
    for _ in range(3):
        await c.press("skip") if "skip" in [o.value for o in c.options] else None
    await c.press("done")
    await c.press("anon")
    await c.press("send")


async def test_the_citizen_is_asked_and_the_answer_decides_the_lead(core, intake) -> None:
    c = Citizen(intake)
    await c.say(UNSURE)
    offered = [o for o in c.options if o.value.startswith("read:")]
    assert "Để chuyển đúng cơ quan" in c.text and len(offered) >= 3  # two readings or more, and "not sure"
    assert any("tiền, quà" in o.label for o in offered), "the readings are in plain words"
    await c.press("read:noi-chinh")
    assert "Cơ quan chủ trì: Ban Nội chính Tỉnh ủy" in c.text
    await _file(c)
    async with core.sessions() as s:
        case = (await s.execute(select(Case))).scalar_one()
    assert case.lead_agency_id == "noi-chinh" and case.routing["triage"] is False


async def test_not_sure_sends_the_case_to_the_triage_agency(core, intake) -> None:
    c = Citizen(intake)
    await c.say(UNSURE)
    await c.press("read:unsure")
    assert "Cơ quan chủ trì: Ban Nội chính Tỉnh ủy" in c.text
    await _file(c)
    async with core.sessions() as s:
        case = (await s.execute(select(Case))).scalar_one()
    assert case.lead_agency_id == "noi-chinh" and case.routing["triage"] is True
    assert "phân loại và giao cơ quan chủ trì" in case.routing["explanation"]
    assert [a.agency_id for a in case.agencies] == ["noi-chinh"]


async def test_a_forged_reading_is_not_taken(core, intake) -> None:
    c = Citizen(intake)
    await c.say(UNSURE)
    await c.send(__import__("bot.intake", fromlist=["Choice"]).Choice("read:toa-an-forged"))
    assert [o for o in c.options if o.value.startswith("read:")], "the question is asked again"


def test_the_fast_scores_equal_scikit_learns(rules: Rules) -> None:
    """The model's own arithmetic gives the probabilities scikit-learn's transform and predict_proba give."""
    from bot.matching import Text
    from bot.routing import _compiled

    compiled = _compiled(rules)
    model = compiled.model
    assert model is not None
    for row in corpus()[::97]:
        text = Text(row["text"], compiled.normaliser)
        fast = model.scores(text).probabilities
        slow = model.classifier.predict_proba(model.weights.transform([model.words(row["text"])]))[0]
        assert [round(fast[lead], 9) for lead in model.leads] == [round(float(p), 9) for p in slow]


def test_each_matched_phrase_is_named_once_however_often_it_is_written(rules: Rules) -> None:
    decision = route(rules, "Nhà thầu nâng khống giá vật tư công trình 500 triệu. " * 14)
    assert decision.explanation.count("'nâng khống'") <= 2  # once for the rule, once for the police added
    assert all(len(add.matched) == len(set(add.matched)) for add in decision.added)
