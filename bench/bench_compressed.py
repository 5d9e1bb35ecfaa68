"""Which compressed structure could be the index's ≤ 0.6 GiB option (issue 18): FAISS's own
structures on the same rows as ``bench_filters.py``, unfiltered, before any of them is built
into :class:`matcher.search.index.VectorIndex`.

Run: .venv/bin/python bench/bench_compressed.py [--rows 1000000] [--vectors postings]
     .venv/bin/python bench/bench_compressed.py --smoke      (CI: 20,000 label rows)

For each structure: the build time, the bytes of the structure as FAISS serialises it (what
it keeps resident: codes, lists, graph, centroids), the process's resident memory added while
it is the only one built, and one query at a time: p50 and p99 in ms, median (min–max) over
``--rounds``, and recall@10 against exact search over the float32 rows. The re-ranked rows
(for SQ4) come from a float16 copy of the vectors in a file on disk (``np.memmap``), so they are read
through the page cache rather than held by the process: its pages touched show in the
resident memory, and the kernel may drop them.

IVF-PQ was tried and left out: training its codebooks took minutes at 20,000 rows here.
What the table leaves out, for the index built on one of these: the ids and metadata columns
(~190 MiB at 1M rows, ``docs/benchmarks.md``), and the filtered plans.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from bench_filters import make_rows, rss_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--vectors", choices=["labels", "postings"], default="postings")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="20,000 label rows, 1 round")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.vectors, args.queries, args.rounds = 20_000, "labels", 50, 1
    vectors, _ = make_rows(args.rows, seed=5, source=args.vectors)
    rng = np.random.default_rng(9)
    queries = vectors[rng.integers(0, args.rows, args.queries)]
    queries = queries + rng.normal(0, 0.01, queries.shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    truth = np.stack([np.argpartition(-(vectors @ q), 9)[:10] for q in queries])
    nlist = max(16, int(np.sqrt(args.rows)))
    dimension = vectors.shape[1]
    with tempfile.TemporaryDirectory() as directory:
        half = np.memmap(Path(directory) / "vectors.f16", np.float16, "w+", shape=vectors.shape)
        half[:] = vectors
        half.flush()
        del half
        on_disk = np.memmap(Path(directory) / "vectors.f16", np.float16, "r", shape=vectors.shape)
        structures: list[tuple[str, Callable[[], faiss.Index], dict[str, int], int]] = [
            (f"IVF{nlist},SQ8", lambda: faiss.index_factory(
                dimension, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT), {"nprobe": 32}, 0),
            (f"IVF{nlist},SQ8", lambda: faiss.index_factory(
                dimension, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT), {"nprobe": 64}, 0),
            (f"IVF{nlist},SQ4", lambda: faiss.index_factory(
                dimension, f"IVF{nlist},SQ4", faiss.METRIC_INNER_PRODUCT), {"nprobe": 32}, 100),
            ("HNSW16,SQ8", lambda: faiss.index_factory(
                dimension, "HNSW16_SQ8", faiss.METRIC_INNER_PRODUCT), {"efSearch": 64}, 0),
        ]  # fmt: skip
        rows = []
        built: dict[str, tuple[faiss.Index, float, int, float]] = {}
        for name, make, params, rerank in structures:
            if name not in built:
                built.clear()
                gc.collect()
                before = rss_mib()
                faiss.omp_set_num_threads(2)  # build with both cores
                started = time.perf_counter()
                index = make()
                sample = vectors[rng.choice(args.rows, min(args.rows, nlist * 64), replace=False)]
                index.train(sample)
                for start in range(0, args.rows, 100_000):
                    index.add(vectors[start : start + 100_000])
                seconds = time.perf_counter() - started
                size = len(faiss.serialize_index(index))
                built[name] = (index, seconds, size, rss_mib() - before)
                print(f"  built {name} in {seconds:.0f} s", file=sys.stderr, flush=True)
            index, seconds, size, added = built[name]
            faiss.omp_set_num_threads(1)  # one query at a time, as a server worker searches
            for key, value in params.items():
                faiss.ParameterSpace().set_index_parameter(index, key, value)
            p50s, p99s, recall = [], [], 0.0
            for _ in range(args.rounds):
                times, found = [], []
                for query in queries:
                    began = time.perf_counter()
                    hits = _search(index, query, on_disk, rerank)
                    times.append((time.perf_counter() - began) * 1000)
                    found.append(hits)
                p50s.append(float(np.percentile(times, 50)))
                p99s.append(float(np.percentile(times, 99)))
                recall = float(np.mean([len(set(f.tolist()) & set(t.tolist())) / 10
                                        for f, t in zip(found, truth)]))  # fmt: skip
            touched = rss_mib()
            setting = ", ".join(f"{k} {v}" for k, v in params.items())
            rows.append((name, setting + (f", re-rank {rerank} from float16 on disk" if rerank else ""),
                         seconds, size / 2**20, added, touched, p50s, p99s, recall))  # fmt: skip
    print(f"\n{args.rows:,} rows ({args.vectors}), {dimension} dims, {args.queries} queries x "
          f"{args.rounds} rounds, one thread; ms: median (min–max) over rounds\n")  # fmt: skip
    print("| structure | search | build s | structure MiB | RSS added MiB | p50 ms | p99 ms | recall@10 |")
    print("|---|---|---|---|---|---|---|---|")
    for name, setting, seconds, size, added, _, p50s, p99s, recall in rows:
        print(f"| {name} | {setting} | {seconds:.0f} | {size:,.0f} | {added:,.0f} | "
              f"{_span(p50s)} | {_span(p99s)} | {recall:.3f} |")  # fmt: skip
    print(f"\nfloat32 rows for comparison: {vectors.nbytes / 2**20:,.0f} MiB; "
          f"the float16 file re-ranked from: {vectors.nbytes / 2**21:,.0f} MiB on disk")


def _search(index: faiss.Index, query: np.ndarray, on_disk: np.ndarray, rerank: int) -> np.ndarray:
    """The top 10 rows: from the structure, or its top ``rerank`` scored again exactly."""
    if not rerank:
        return index.search(query[None, :], 10)[1][0]
    candidates = index.search(query[None, :], rerank)[1][0]
    candidates = np.sort(candidates[candidates >= 0])
    scores = on_disk[candidates].astype(np.float32) @ query
    return candidates[np.argsort(-scores)[:10]]


def _span(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


if __name__ == "__main__":
    main()
