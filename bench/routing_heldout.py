"""Routing on reports nobody on the team wrote: the held-out writers, or each training writer left out.

    python bench/routing_heldout.py            # the `test` split (held-out writers), once per change
    python bench/routing_heldout.py --cv       # leave one training writer out at a time (for tuning)
    python bench/routing_heldout.py --markdown # the tables for bench/README.md

For each report the bot either decides (the lead is right or wrong without asking) or asks the citizen
(the right lead is among the options, or not). The kind is left for the bot to guess, as when a citizen
simply types a story; `--kind` gives the writer's kind instead, as after the guided menu.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.routing import prepare, route  # noqa: E402
from bot.rules import Rules, load_rules  # noqa: E402

RULES = ROOT / "rules" / "quang-ninh.yaml"
CORPUS = ROOT / "corpus" / "quang-ninh" / "reports.jsonl"


def outcome(rules: Rules, report: dict, with_kind: bool) -> tuple[str, str]:
    decision = route(rules, report["text"], report["kind"] if with_kind else None)
    if decision.ask:
        return ("asked-right" if report["lead"] in decision.ask else "asked-wrong"), decision.lead
    return ("right" if decision.lead == report["lead"] else "wrong"), decision.lead


def measure(rules: Rules, reports: list[dict], with_kind: bool) -> tuple[dict, list[float]]:
    by: dict[str, Counter[str]] = defaultdict(Counter)
    confusion: Counter[tuple[str, str]] = Counter()
    times: list[float] = []
    for report in reports:
        start = time.perf_counter()
        result, lead = outcome(rules, report, with_kind)
        times.append(time.perf_counter() - start)
        for key in ("all", report["persona"]):
            by[key][result] += 1
        if not result.startswith("asked"):
            confusion[(report["lead"], lead)] += 1
    return {"by": by, "confusion": confusion}, times


def _share(c: Counter[str], *keys: str) -> float:
    total = sum(c.values())
    return sum(c[k] for k in keys) / total if total else 0.0


def table(by: dict[str, Counter[str]]) -> list[str]:
    lines = ["| writers | reports | right, not asked | wrong, not asked | asked "
             "| right lead offered when asked |",
             "|---|---:|---:|---:|---:|---:|"]
    for key in ["all", *sorted(k for k in by if k != "all")]:
        c = by[key]
        asked = c["asked-right"] + c["asked-wrong"]
        offered = c["asked-right"] / asked if asked else 1.0
        lines.append(f"| {key} | {sum(c.values())} | {_share(c, 'right'):.1%} | {_share(c, 'wrong'):.1%} | "
                     f"{_share(c, 'asked-right', 'asked-wrong'):.1%} | {offered:.1%} |")
    return lines


def confusion_table(confusion: Counter[tuple[str, str]]) -> list[str]:
    leads = sorted({a for a, _ in confusion} | {b for _, b in confusion})
    lines = ["| right lead \\ decided | " + " | ".join(leads) + " |", "|---" * (len(leads) + 1) + "|"]
    for right in leads:
        lines.append(f"| {right} | " + " | ".join(str(confusion[(right, d)] or "") for d in leads) + " |")
    return lines


def leave_one_writer_out(reports: list[dict], with_kind: bool) -> dict[str, Counter[str]]:
    """Each training writer in turn is routed by a model trained on the others."""
    base = load_rules(RULES)
    by: dict[str, Counter[str]] = defaultdict(Counter)
    for writer in sorted({r["writer"] for r in reports}):
        rules = base.model_copy(deep=True)
        rules._examples = [(r["text"], r["lead"]) for r in reports if r["writer"] != writer]
        prepare(rules)
        held = [r for r in reports if r["writer"] == writer]
        result, _ = measure(rules, held, with_kind)
        for key, counts in result["by"].items():
            by[key].update(counts)
        print(f"  {writer}: {dict(result['by']['all'])}", file=sys.stderr)
    return by


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="leave one training writer out at a time")
    parser.add_argument("--kind", action="store_true", help="give the writer's kind instead of guessing it")
    parser.add_argument("--markdown", action="store_true", help="print the confusion table too")
    args = parser.parse_args()
    reports = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.cv:
        by = leave_one_writer_out([r for r in reports if r["split"] == "train"], args.kind)
        print("\n".join(table(by)))
        return 0
    rules = load_rules(RULES)
    start = time.perf_counter()
    prepare(rules)
    trained = time.perf_counter() - start
    test = [r for r in reports if r["split"] == "test"]
    result, times = measure(rules, test, args.kind)
    print(f"held-out writers: {len(test)} reports; model trained on {len(rules.examples)} in {trained:.1f} s")
    print("\n".join(table(result["by"])))
    if args.markdown:
        print()
        print("\n".join(confusion_table(result["confusion"])))
    times.sort()
    print(f"\ndecision time: median {statistics.median(times) * 1000:.2f} ms, "
          f"p99 {times[int(len(times) * 0.99)] * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
