"""Duplicates on pairs nobody on the team wrote: the corpus's held-out writers' pairs.

    python bench/duplicates_heldout.py

Pairs come from corpus/quang-ninh/reports.jsonl (bot.duplicate_model.pairs): one incident told by two
writers (positives); an incident and its twin, with one hard fact changed, and reports of the same agency
and field (negatives). The model is trained on the training writers' pairs only.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.dupfacts import extract  # noqa: E402
from bot.duplicate_model import for_corpus, pairs  # noqa: E402
from bot.dupscore import Report, compare  # noqa: E402
from bot.rules import load_rules  # noqa: E402


def main() -> int:
    rules = load_rules(ROOT / "rules" / "quang-ninh.yaml")
    start = time.perf_counter()
    model = for_corpus(rules.corpus)
    trained = time.perf_counter() - start
    assert model is not None
    test = pairs(rules.corpus, "test")
    facts = {r["id"]: extract(r["text"]) for r in rules.corpus if r.get("split") == "test"}
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    times = []
    for pair in test:
        a, b = (Report(p["text"], p.get("kind"), p.get("place")) for p in (pair.a, pair.b))
        began = time.perf_counter()
        verdict = compare(a, b, facts[pair.a["id"]], facts[pair.b["id"]], model)
        times.append(time.perf_counter() - began)
        flagged = verdict.duplicate
        outcome = ("tp" if flagged else "fn") if pair.same else ("fp" if flagged else "tn")
        sort = pair.sort if pair.sort != "twin" else f"twin: {pair.a.get('changed') or pair.b.get('changed')}"
        for key in ("all", f"kind {pair.a['kind']}", sort):
            counts[key][outcome] += 1
    print(f"model trained on {model.size} pairs in {trained:.1f} s; {len(test)} held-out pairs")
    print("| pairs | n | precision | recall | false links |")
    print("|---|---:|---:|---:|---:|")
    for key in ["all", *sorted(k for k in counts if k != "all")]:
        c = counts[key]
        flagged, positives = c["tp"] + c["fp"], c["tp"] + c["fn"]
        precision = f"{c['tp'] / flagged:.1%}" if flagged else "-"
        recall = f"{c['tp'] / positives:.1%}" if positives else "-"
        print(f"| {key} | {sum(c.values())} | {precision} | {recall} | {c['fp']} |")
    times.sort()
    print(f"\none comparison: median {statistics.median(times) * 1000:.2f} ms, "
          f"p99 {times[int(len(times) * 0.99)] * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
