"""Tune the lists plan of a filtered search (issue 18): recall@10 and latency per setting.

Run: .venv/bin/python bench/sweep_lists.py [--rows 1000000] [--queries 100]

Builds the index of ``bench_filters.py --vectors postings`` once (embedded postings, ten noisy
copies each at a million rows; ``bench/embed_postings.py`` must have run), then for each
setting of ``LIST_PROBES`` / ``LIST_ROWS`` / ``LIST_MAX_ROWS`` (``matcher.search.index``)
searches the four filters whose queries the lists answer, one query at a time, and prints
recall@10 against an exact filtered search, p99 in ms, and how many queries the lists answered.
One round: a tuning sweep, not a measurement (``bench_filters.py`` measures the default).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_filters import make_rows

import matcher.search.index as index_module
from matcher.search.columns import at_least, equals, folded_equals
from matcher.search.filters import nearby
from matcher.search.index import VectorIndex
from matcher.settings import IndexConfig

SETTINGS = [(4, 4096, 10**9), (8, 4096, 10**9), (16, 4096, 10**9), (32, 4096, 10**9),
            (32, 4096, 12_288), (32, 4096, 16_384), (32, 4096, 24_576)]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    vectors, metadata = make_rows(args.rows, seed=5, noise=0.01, source="postings")
    index = VectorIndex(vectors.shape[1], IndexConfig())
    for start in range(0, args.rows, 50_000):
        end = min(args.rows, start + 50_000)
        index.add([str(i) for i in range(start, end)], vectors[start:end], metadata[start:end])
    rng = np.random.default_rng(9)
    queries = vectors[rng.integers(0, args.rows, args.queries)]
    queries = queries + rng.normal(0, 0.01, queries.shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    salaries = np.array([row["salary_max"] for row in metadata])
    korea = float(np.median([row["salary_max"] for row in metadata if row["country"] == "KR"]))
    biggest = Counter(row["province"] for row in metadata if row["province"]).most_common(1)[0][0]
    filters = {
        "KR and salary": equals("country", "KR") & at_least("salary_max", korea),
        "salary top tenth": at_least("salary_max", float(np.percentile(salaries, 90))),
        "biggest province": folded_equals("province", biggest),
        "nearby": nearby("Nghệ An"),
    }
    truth = {}
    for name, where in filters.items():
        rows = np.flatnonzero(where.mask(index._columns))
        truth[name] = [set(rows[np.argpartition(-(vectors[rows] @ q), 9)[:10]].tolist())
                       for q in queries]  # fmt: skip
    print(f"\n{args.rows:,} rows, {args.queries} queries, one round: recall@10, p99 ms, "
          "queries the lists answered\n")
    print("| lists at least, rows at least, rows at most (after 8 lists) | "
          + " | ".join(filters) + " |")
    print("|---|" + "---|" * len(filters))
    for probes, rows_, most in SETTINGS:
        index_module.LIST_PROBES, index_module.LIST_ROWS = probes, rows_
        index_module.LIST_MAX_ROWS = most
        cells = []
        for name, where in filters.items():
            index.search(queries[0], 10, where=where)  # the filter's rows, remembered
            index.plans.clear()
            times, recalls = [], []
            for query, expected in zip(queries, truth[name]):
                tick = time.perf_counter()
                hits = index.search(query, 10, where=where)[0]
                times.append((time.perf_counter() - tick) * 1000)
                recalls.append(len({int(h.id) for h in hits} & expected) / 10)
            cells.append(f"{np.mean(recalls):.3f}, {np.percentile(times, 99):.1f}, "
                         f"{index.plans['lists']}")  # fmt: skip
        cap = "–" if most >= 10**9 else f"{most:,}"
        print(f"| {probes}, {rows_:,}, {cap} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
