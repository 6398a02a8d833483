"""Duplicates learned from pairs nobody on the team wrote: the pairs, the held-out figures, the veto for a
conflicting fact, and the probability `duplicate-check` prints."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.duplicate_model import THRESHOLD, for_corpus, pairs
from bot.dupscore import Report, compare
from bot.rules import Rules, load_rules

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "rules" / "quang-ninh.yaml"


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(SAMPLE)


def test_pairs_are_many_and_held_out_by_writer(rules: Rules) -> None:
    train, test = pairs(rules.corpus, "train"), pairs(rules.corpus, "test")
    assert len(train) + len(test) >= 1500
    test_writers = {r["writer"] for r in rules.corpus if r["split"] == "test"}
    assert all({p.a["writer"], p.b["writer"]} <= test_writers for p in test)
    assert not any({p.a["writer"], p.b["writer"]} & test_writers for p in train)
    sorts = Counter(p.sort for p in test)
    assert sorts["same"] >= 100 and sorts["twin"] >= 150, sorts
    assert all(p.a["writer"] != p.b["writer"] for p in train + test if p.same), "told by two people"


def test_held_out_pairs_keep_their_precision_and_recall(rules: Rules) -> None:
    """The figures bench/README.md reports (bench/duplicates_heldout.py), kept from sliding back."""
    model = for_corpus(rules.corpus)
    assert model is not None
    outcome: Counter[str] = Counter()
    for pair in pairs(rules.corpus, "test"):
        a, b = (Report(p["text"], p.get("kind"), p.get("place")) for p in (pair.a, pair.b))
        flagged = compare(a, b, model=model).duplicate
        outcome[("tp" if flagged else "fn") if pair.same else ("fp" if flagged else "tn")] += 1
    precision = outcome["tp"] / (outcome["tp"] + outcome["fp"])
    recall = outcome["tp"] / (outcome["tp"] + outcome["fn"])
    assert precision >= 0.78 and recall >= 0.8, outcome


BRIBE = ("Cán bộ địa chính xã Lê Văn Tuấn đòi 30 triệu mới làm sổ đỏ thửa 215 tờ bản đồ số 12 cho gia đình "
         "tôi ở xã Đầm Hà")


def test_one_incident_told_twice_across_kinds_is_linked(rules: Rules) -> None:
    model = for_corpus(rules.corpus)
    told = ("To cao can bo dia chinh Le Van Tuan nhan tien cua dan, hang xom toi lam so do thua 215 "
            "bi doi 30tr")
    verdict = compare(Report(told, "denunciation"), Report(BRIBE, "corruption_tip", "Xã Đầm Hà"), model=model)
    assert verdict.duplicate and verdict.probability is not None and verdict.probability >= THRESHOLD
    assert {"amount same", "plot same", "person same"} <= set(verdict.evidence)


def test_a_conflicting_plot_vetoes_a_link_unless_the_texts_are_near_identical(rules: Rules) -> None:
    """Near-identical texts are left to the model: a template letter about another plot is another case."""
    model = for_corpus(rules.corpus)
    other_plot = BRIBE.replace("thửa 215", "thửa 87")
    retold = "Ông Lê Văn Tuấn ở địa chính xã Đầm Hà bắt nhà tôi đưa 30 triệu mới ký cấp sổ cho thửa 87 tờ 12"
    verdict = compare(Report(BRIBE), Report(retold), model=model)
    assert not verdict.duplicate and any(e.startswith("veto ") and "plot" in e for e in verdict.evidence)
    template = compare(Report(BRIBE), Report(other_plot), model=model)
    assert not any(e.startswith("veto") for e in template.evidence)
    assert template.probability is not None and template.duplicate is (template.probability >= THRESHOLD)
    assert not template.duplicate, "the same words about another plot: learned as another incident"


def test_duplicate_check_prints_probability_beside_duplicate_and_evidence() -> None:
    pair = {"a": {"text": BRIBE}, "b": {"text": BRIBE.replace("30 triệu", "30tr").replace("Tôi", "tôi")}}
    done = subprocess.run([sys.executable, "-m", "bot", "duplicate-check", "-"],
                          input=json.dumps(pair, ensure_ascii=False) + "\n", capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    [result] = [json.loads(line) for line in done.stdout.splitlines()]
    assert result["duplicate"] is True and 0.5 <= result["probability"] <= 1
    assert isinstance(result["evidence"], list) and "amount same" in result["evidence"]
