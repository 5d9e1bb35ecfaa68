"""Query encoding: torch fp32 versus the int8 ONNX Runtime graph, same texts, same run.

Run: .venv/bin/python bench/bench_encode.py [--texts 40] [--repeat 3]

One text at a time (as a request encodes its profile), 200-word profiles in Vietnamese and
English (~350 tokens, cut at the model's max_seq_length) and short job titles. Prints the
median latency per text, the ratio to torch fp32, and the cosine of each vector to its fp32
twin. The quality effect on ranking is judged separately by ``matcher evaluate``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_recommend import profile_text

TITLES = ["giáo viên tiểu học", "registered nurse", "kế toán tổng hợp", "welder", "thợ hàn",
          "nhân viên văn thư", "software developer", "điều dưỡng viên", "công nhân may"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--agreement", type=int, default=200, help="demo profiles to compare")
    parser.add_argument("--descriptions", type=int, default=1000, help="ESCO descriptions")
    args = parser.parse_args()

    from matcher.services import MatcherService
    from matcher.settings import Settings

    encoder = MatcherService(Settings(query_runtime="onnx-int8")).encoder
    rng = random.Random(7)
    sets = {
        "200-word profile": [profile_text(rng) for _ in range(args.texts)],
        "job title": [TITLES[i % len(TITLES)] for i in range(args.texts)],
    }
    runtimes = ["torch", "onnx-int8"]
    rows = []
    for label, texts in sets.items():
        timings: dict[str, list[float]] = {runtime: [] for runtime in runtimes}
        vectors: dict[str, np.ndarray] = {}
        for runtime in runtimes:  # warm up both paths first
            encoder.query_runtime = runtime
            encoder.encode(texts[:2], kind="query")
        for _ in range(args.repeat):
            for runtime in runtimes:  # alternating blocks, so both see the same machine load
                encoder.query_runtime = runtime
                for text in texts:
                    start = time.perf_counter()
                    encoder.encode([text], kind="query")
                    timings[runtime].append(time.perf_counter() - start)
        for runtime in runtimes:
            encoder.query_runtime = runtime
            vectors[runtime] = encoder.encode(texts, kind="query")
        base = statistics.median(timings["torch"])
        for runtime in runtimes:
            cosine = (vectors[runtime] * vectors["torch"]).sum(axis=1)
            median = statistics.median(timings[runtime])
            rows.append((label, runtime, median * 1000, base / median, cosine.min(), cosine.mean()))
    print(f"\nmodel {encoder.name}, max_seq_length {encoder.model.max_seq_length}, "
          f"{args.texts} texts x {args.repeat}, one text per call")  # fmt: skip
    print("| texts | runtime | p50 ms | speed-up vs torch | min cosine | mean cosine |")
    print("|---|---|---|---|---|---|")
    for label, runtime, ms, ratio, low, mean in rows:
        print(f"| {label} | {runtime} | {ms:.1f} | {ratio:.2f}x | {low:.4f} | {mean:.4f} |")
    long_text_retrieval(args.descriptions)
    agreement(args.agreement)


def long_text_retrieval(count: int) -> None:
    """A ranking check on paragraph-long texts: each ESCO occupation's description as a query
    against the occupation label index. Is its own occupation ranked first, and how high
    (MRR@10)? For this table int8 is forced for every length (most descriptions are 50-120
    tokens, under the service's FAST_MIN_TOKENS), so it shows int8's effect on a larger sample."""
    import matcher.nlp.encoder
    from matcher.services import MatcherService
    from matcher.settings import Settings

    service = MatcherService(Settings(query_runtime="onnx-int8"))
    occupations = sorted(service.taxonomy.occupations.values(), key=lambda o: o.uri)
    chosen = [o for o in occupations if o.description][:count]
    threshold = matcher.nlp.encoder.FAST_MIN_TOKENS
    results = {}
    for runtime in ("torch", "onnx-int8"):
        service.encoder.query_runtime = runtime
        matcher.nlp.encoder.FAST_MIN_TOKENS = 0
        try:
            ranked = service.occupation_matcher.match_many([o.description for o in chosen], k=10)
        finally:
            matcher.nlp.encoder.FAST_MIN_TOKENS = threshold
        ranks = [
            next((i + 1 for i, m in enumerate(matches) if m.uri == o.uri), None)
            for o, matches in zip(chosen, ranked, strict=True)
        ]
        results[runtime] = (
            sum(r == 1 for r in ranks) / len(ranks),
            sum(1 / r for r in ranks if r) / len(ranks),
        )
    print(f"\n{len(chosen)} ESCO occupation descriptions as queries against the occupation "
          "labels (int8 forced for all lengths)")  # fmt: skip
    print("| query runtime | top-1 | MRR@10 |\n|---|---|---|")
    for runtime, (top1, mrr) in results.items():
        print(f"| {runtime} | {top1:.4f} | {mrr:.4f} |")


def agreement(count: int) -> None:
    """Do users see the same recommendations? Top-10 jobs for the stored demo profiles (the
    state ``make run`` builds), each profile sent inline, fp32 versus int8 query vector."""
    from matcher.schemas import CandidateProfileIn
    from matcher.services import MatcherService
    from matcher.settings import Settings

    service = MatcherService(Settings(query_runtime="onnx-int8"))
    service.start()
    profiles = [c for c in service.store.iter_candidates() if len(c.text) > 400][:count]
    overlap, same_first, same_order = [], 0, 0
    for candidate in profiles:
        inline = service.build_candidate(
            CandidateProfileIn(
                **candidate.model_dump(include=set(CandidateProfileIn.model_fields))
            ),
            thorough=False,
        )
        lists = {}
        for runtime in ("torch", "onnx-int8"):
            service.encoder.query_runtime = runtime
            lists[runtime] = [r.job.id for r in service.recommend_jobs(inline, k=10).results]
        overlap.append(len(set(lists["torch"]) & set(lists["onnx-int8"])) / 10)
        same_first += lists["torch"][:1] == lists["onnx-int8"][:1]
        same_order += lists["torch"] == lists["onnx-int8"]
    if not profiles:
        print("\n(no stored demo profiles over 400 characters: run `make run` once for this table)")
        return
    n = len(profiles)
    print(f"\nrecommendations for {n} stored demo profiles (>400 chars), sent inline, k=10, "
          f"{len(service.catalog.jobs)} postings: int8 versus fp32 query vector")  # fmt: skip
    print("| overlap@10 (mean) | overlap@10 (min) | same first job | identical top-10 order |")
    print("|---|---|---|---|")
    print(f"| {statistics.mean(overlap):.3f} | {min(overlap):.1f} | {same_first / n:.0%} "
          f"| {same_order / n:.0%} |")  # fmt: skip


if __name__ == "__main__":
    main()
