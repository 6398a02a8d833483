"""Routing accuracy on the labelled messages (all, and each held-out split), and how fast routing is.

Run: python bench/route_bench.py [--rules FILE] [--data FILE] [--repeat N]

Latency is measured twice: wall-clock, and the CPU time of the routing thread. On a machine shared with
other work the wall-clock tail is mostly time spent waiting for a core; the CPU time is routing's own cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from bot.routing import route
from bot.rules import Rules, load_rules

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rules", default=str(ROOT / "rules" / "quang-ninh.yaml"))
    parser.add_argument("--data", default=str(ROOT / "tests" / "data" / "routing_labelled.jsonl"))
    parser.add_argument("--repeat", type=int, default=20, help="passes over the set for the timing")
    args = parser.parse_args()
    rules = load_rules(args.rules)
    lines = Path(args.data).read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]

    splits = sorted({r["split"] for r in rows if "split" in r})
    _accuracy(rules, "all", rows)
    _accuracy(rules, "development (not held out)", [r for r in rows if "split" not in r])
    for split in splits:
        _accuracy(rules, split, [r for r in rows if r.get("split") == split])
    _timing(rules, rows, args.repeat)


def _accuracy(rules: Rules, split: str, rows: list[dict[str, Any]]) -> None:
    decisions = [route(rules, r["text"], r.get("kind")) for r in rows]
    lead = sum(d.lead == r["lead"] for d, r in zip(decisions, rows, strict=True))
    full = sum(d.lead == r["lead"] and sorted(d.cooperating) == r["cooperating"]
               for d, r in zip(decisions, rows, strict=True))
    rule = sum(d.rule == r["rule"] for d, r in zip(decisions, rows, strict=True))
    n = len(rows)
    print(f"[{split}] messages {n}: lead {lead / n:.3f} ({lead}/{n}), full {full / n:.3f} ({full}/{n}), "
          f"rule {rule / n:.3f} ({rule}/{n})")
    for d, r in zip(decisions, rows, strict=True):
        if split != "all" and (d.lead != r["lead"] or sorted(d.cooperating) != r["cooperating"]):
            print(f"  miss: {r['text'][:60]!r} expected {r['lead']} {r['cooperating']}, "
                  f"got {d.lead} {sorted(d.cooperating)}")


def _timing(rules: Rules, rows: list[dict[str, Any]], repeat: int) -> None:

    latencies: list[float] = []
    cpu: list[float] = []
    best = [float("inf")] * len(rows)
    for r in rows:  # warm up: compile the rules and train the second opinion
        route(rules, r["text"], r.get("kind"))
    started = time.perf_counter()
    for _ in range(repeat):
        for i, r in enumerate(rows):
            t0, c0 = time.perf_counter(), time.thread_time()
            route(rules, r["text"], r.get("kind"))
            cpu.append(time.thread_time() - c0)
            latencies.append(time.perf_counter() - t0)
            best[i] = min(best[i], cpu[-1])
    elapsed = time.perf_counter() - started

    print(f"timing: {len(rows)} messages x {repeat} passes")
    print(f"throughput      {len(latencies) / elapsed:,.0f} messages/s")
    # "best": each message's least CPU time over the passes, its cost without interference from other work
    for name, values in (("wall", latencies), ("cpu", cpu), ("best", best)):
        values.sort()
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        print(f"{name:<5}p50 {statistics.median(values) * 1e3:.3f} ms   p99 {p99 * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
