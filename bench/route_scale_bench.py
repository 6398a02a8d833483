"""Routing with a large generated rules file: the sample plus agencies and rules up to 100 agencies and
2,000 phrases, the generated rules checked first (the slowest order for every text).

    python bench/route_scale_bench.py [--agencies 100] [--phrases 2000] [--repeat 20]

Prints the load time, p50/p99 per routing decision, and whether each generated rule's text went to its
own lead agency (and each labelled message still to its labelled lead).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.routing import route  # noqa: E402
from bot.rules import load_rules  # noqa: E402

SYLLABLES = (
    "an bao binh cam chau chinh cuong dao dinh dong duc giang hai hanh hoa hoang hung khanh khoa lam lan "
    "linh loc long luan minh my nam nga nghia ngoc nhan nhat phong phuc quang quoc son tam tan thanh thao "
    "thinh thu tien toan trung tuan tung uyen van viet vinh xuan yen"
).split()


def generate(agencies: int, phrases: int, seed: int = 7) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The sample rules grown to `agencies` agencies and `phrases` routing phrases; texts to probe them."""
    rng = random.Random(seed)
    rules = yaml.safe_load((ROOT / "rules" / "quang-ninh.yaml").read_text(encoding="utf-8"))
    extra = agencies - len(rules["agencies"])
    new_agencies = [{"id": f"co-quan-{n:03d}", "name": {"vi": f"Cơ quan thử {n:03d}"}} for n in range(extra)]
    rules["agencies"] += new_agencies
    per_rule, spare = divmod(phrases, max(1, extra))
    used: set[str] = set()
    new_rules, probes = [], []
    for n, agency in enumerate(new_agencies):
        words = []
        while len(words) < per_rule + (n < spare):
            phrase = " ".join(rng.sample(SYLLABLES, 3))
            if phrase not in used:
                used.add(phrase)
                words.append(phrase)
        new_rules.append({"id": f"quy-tac-{n:03d}", "title": {"vi": f"Quy tắc thử {n:03d}"},
                          "when_any": words, "lead": agency["id"]})
        probes.append((f"Tôi xin phản ánh việc {rng.choice(words)} ở khu phố đã lâu", agency["id"]))
    rules["routing"] = new_rules + rules["routing"]
    if "second_opinion" in rules:  # the examples file is relative to the rules file, which moves
        rules["second_opinion"]["examples"] = str(ROOT / "rules" / rules["second_opinion"]["examples"])
    return rules, probes


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agencies", type=int, default=100)
    parser.add_argument("--phrases", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    data, probes = generate(args.agencies, args.phrases)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", encoding="utf-8", delete=False) as handle:
        yaml.safe_dump(data, handle, allow_unicode=True, sort_keys=False)
    started = time.perf_counter()
    rules = load_rules(handle.name)
    loaded = time.perf_counter() - started
    Path(handle.name).unlink()
    phrases = sum(len(r.when_any) for r in rules.routing[: len(probes)])
    labelled = [json.loads(line) for line in
                (ROOT / "tests" / "data" / "routing_labelled.jsonl").read_text(encoding="utf-8").splitlines()
                if line.strip()]
    texts = [(r["text"], r.get("kind"), r["lead"]) for r in labelled]
    texts += [(text, None, lead) for text, lead in probes]
    right = sum(route(rules, text, kind).lead == lead for text, kind, lead in texts)
    latencies = []
    for _ in range(args.repeat):
        for text, kind, _ in texts:
            t0 = time.perf_counter()
            route(rules, text, kind)
            latencies.append((time.perf_counter() - t0) * 1000)
    print(f"rules: {len(rules.agencies)} agencies, {len(rules.routing)} routing rules, "
          f"{phrases} generated phrases; "
          f"loaded and checked in {loaded:.2f} s")
    print(f"right lead: {right}/{len(texts)} ({len(labelled)} labelled messages + {len(probes)} generated)")
    print(f"per decision over {len(latencies)} decisions: p50 {pct(latencies, 0.5):.2f} ms, "
          f"p99 {pct(latencies, 0.99):.2f} ms, {len(latencies) / (sum(latencies) / 1000):.0f} decisions/s")


if __name__ == "__main__":
    main()
