"""Filtered vector search at scale: the index's own plans against an exact filtered search.

Run: .venv/bin/python bench/bench_filters.py [--rows 1000000] [--queries 200] [--rounds 3]
                                            [--vectors labels|postings] [--noise 0.01]
     .venv/bin/python bench/bench_filters.py --smoke     (CI: 20,000 rows, proves it runs)

``--vectors postings`` copies embedded generated postings instead (``bench/embed_postings.py``,
100k distinct postings, each copy keeping its posting's province, country and salary).

The vectors are the model's real ESCO label embeddings (the label caches under
``.state/cache/labels``, written by ``make prepare``; ~66k), each copy with Gaussian noise
(``--noise``, σ = 0.01 per coordinate, then normalised: a query's 10th neighbour at cosine
~0.89, as with real postings; at σ 0.05 the copies are near-random, the 10th neighbour at
cosine 0.42, and plain FAISS HNSW finds 38% of the true top 10) until there are ``--rows``. The metadata is a
posting's: one of 34 provinces (skewed: a few big, many small), country (90% VN), remote
(10%), a salary, an occupation. The index is ``VectorIndex`` with the default settings
(``IndexConfig``: HNSW M 32 above 50,000 rows). For each filter: the share of rows it allows,
the plans the index used (the share of queries each answered), latency per query (one query at a time; p50 and p99 within a round,
then the median, min and max over rounds) with the allowed rows remembered between searches
(``filter_cache``, as a server sees the same filters again) and found anew for each query,
and recall@10 against numpy's exact search over the
allowed rows. "row by row" is the same filter as a Python predicate called on each row's
metadata, the way every filter ran before issue 18 (through today's row path; fewer queries).
Also: build time, the resident memory the index adds, and persistence: a whole save and load,
then a save and a load after 1,000 changes (a segment beside the file).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from embed_postings import load_postings

import matcher.search.index as index_module
from matcher.search.columns import at_least, equals, folded_equals, one_of
from matcher.search.filters import nearby
from matcher.search.index import VectorIndex
from matcher.settings import IndexConfig

PROVINCES = ["Hà Nội", "Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Huế", "Nghệ An",
             "Thanh Hóa", "Đồng Nai", "Bắc Ninh", "Quảng Ninh", "Khánh Hòa", "Lâm Đồng",
             "Gia Lai", "Đắk Lắk", "Hà Tĩnh", "Quảng Trị", "Quảng Ngãi", "Tây Ninh", "Đồng Tháp",
             "An Giang", "Vĩnh Long", "Cà Mau", "Lào Cai", "Thái Nguyên", "Phú Thọ", "Tuyên Quang",
             "Lạng Sơn", "Cao Bằng", "Điện Biên", "Lai Châu", "Sơn La", "Hưng Yên", "Ninh Bình"]  # fmt: skip


def rss_mib() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def base_vectors() -> np.ndarray:
    found = sorted((ROOT / ".state" / "cache" / "labels").glob("*.npz"))
    if not found:
        sys.exit("no label caches under .state/cache/labels: run `make prepare` first")
    parts = []
    for path in found:
        index = VectorIndex.load(path)
        parts.append(np.array(index.matrix(index.ids)))
    return np.unique(np.concatenate(parts), axis=0)


def make_rows(rows: int, seed: int, noise: float = 0.01, source: str = "labels"
              ) -> tuple[np.ndarray, list[dict]]:  # fmt: skip
    rng = np.random.default_rng(seed)
    base, base_metadata = load_postings() if source == "postings" else (base_vectors(), None)
    vectors = np.empty((rows, base.shape[1]), dtype=np.float32)
    for start in range(0, rows, 100_000):
        end = min(rows, start + 100_000)
        chunk = base[np.arange(start, end) % len(base)]
        chunk = chunk + rng.normal(0, noise, chunk.shape).astype(np.float32)
        vectors[start:end] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    if base_metadata is not None:  # each copy keeps its posting's country, salary, occupation
        # and draws a province from the postings' own distribution: ten copies of a posting
        # that all sat in one province would make a province filter a search for the few
        # copies of other postings near the query
        domestic = [p["province"] for p in base_metadata if p["province"]]
        drawn = rng.choice(domestic, rows).tolist()
        return vectors, [_posting_row(base_metadata[i % len(base)], drawn[i]) for i in range(rows)]
    weights = 1.0 / np.arange(1, len(PROVINCES) + 1) ** 0.8
    province = rng.choice(len(PROVINCES), rows, p=weights / weights.sum()).tolist()
    abroad = rng.random(rows) < 0.1
    remote = (rng.random(rows) < 0.1).tolist()
    salary = rng.integers(5, 60, rows).tolist()
    countries = ["KR", "JP", "DE"]
    metadata = [
        {"province": None if abroad[i] else PROVINCES[province[i]],
         "country": countries[i % 3] if abroad[i] else "VN", "remote": remote[i],
         "salary_max": salary[i] * 1_000_000, "occupation": f"occ-{i % 3000}"}
        for i in range(rows)
    ]  # fmt: skip
    return vectors, metadata


def _posting_row(posting: dict, province: str) -> dict:
    return {"province": province if posting["province"] else None, "country": posting["country"],
            "remote": posting["remote"], "salary_max": posting["salary"],
            "occupation": posting["occupation"]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--noise", type=float, default=0.01, help="σ per coordinate")
    parser.add_argument("--vectors", choices=["labels", "postings"], default="labels",
                        help="copies of ESCO label vectors, or of embedded generated postings "
                        "(bench/embed_postings.py)")  # fmt: skip
    parser.add_argument("--exact-subset-limit", type=int, default=IndexConfig().exact_subset_limit)
    parser.add_argument("--ann-min-share", type=float, default=IndexConfig().ann_min_share)
    parser.add_argument("--ann", choices=["hnsw", "ivf", "compressed"], default=IndexConfig().ann,
                        help="compressed: IVF of 8-bit codes, the vectors kept as codes only")  # fmt: skip
    parser.add_argument("--hnsw-m", type=int, default=IndexConfig().hnsw_m)
    parser.add_argument("--hnsw-vectors", choices=["fp32", "fp16"],
                        default=IndexConfig().hnsw_vectors)  # fmt: skip
    parser.add_argument("--list-probes", type=int, default=index_module.LIST_PROBES,
                        help="lists a search by lists probes at least (tuning)")
    parser.add_argument("--list-rows", type=int, default=index_module.LIST_ROWS,
                        help="allowed rows a search by lists scores at least (tuning)")
    parser.add_argument("--batch", type=int, default=50_000,
                        help="rows per addition (the lists are trained at the first ANN build)")
    parser.add_argument("--smoke", action="store_true", help="20,000 rows, 10 queries, 1 round")
    args = parser.parse_args()
    index_module.LIST_PROBES, index_module.LIST_ROWS = args.list_probes, args.list_rows
    if args.smoke:
        args.rows, args.queries, args.rounds = 20_000, 10, 1
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    vectors, metadata = make_rows(args.rows, seed=5, noise=args.noise, source=args.vectors)
    gc.collect()
    before = rss_mib()
    started = time.perf_counter()
    config = IndexConfig(exact_subset_limit=args.exact_subset_limit,
                         ann_min_share=args.ann_min_share, hnsw_m=args.hnsw_m,
                         hnsw_vectors=args.hnsw_vectors, ann=args.ann)  # fmt: skip
    index = VectorIndex(vectors.shape[1], config)
    for start in range(0, args.rows, args.batch):  # in batches, as an import would
        end = min(args.rows, start + args.batch)
        index.add([str(i) for i in range(start, end)], vectors[start:end], metadata[start:end])
        print(f"  added {end:,}/{args.rows:,} ({time.perf_counter() - started:.0f} s)",
              file=sys.stderr, flush=True)  # fmt: skip
    built = time.perf_counter() - started
    gc.collect()
    added = rss_mib() - before

    rng = np.random.default_rng(9)
    queries = vectors[rng.integers(0, args.rows, args.queries)]
    queries = queries + rng.normal(0, args.noise, queries.shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    sizes = Counter(row["province"] for row in metadata if row["province"])
    (big, _), (small, _) = sizes.most_common()[0], sizes.most_common()[-1]
    countries = sorted({row["country"] for row in metadata})
    salaries = np.array([row["salary_max"] for row in metadata])
    high = float(np.percentile(salaries, 90))
    korea = float(np.median([row["salary_max"] for row in metadata if row["country"] == "KR"]))
    filters = {
        "none": None,
        f"every row (country in {', '.join(countries)})": one_of("country", countries),
        f"province {big} (the biggest)": folded_equals("province", big),
        f"province {small} (the smallest)": folded_equals("province", small),
        "in Nghệ An or remote, VN": nearby("Nghệ An"),
        f"salary ≥ {high / 1e6:.0f}M (the top tenth)": at_least("salary_max", high),
        f"KR and salary ≥ {korea / 1e6:.0f}M": equals("country", "KR") & at_least("salary_max", korea),
    }
    print(f"\nrows {args.rows:,} ({args.vectors}), {vectors.shape[1]} dims, noise σ {args.noise}, {index.kind} "
          f"({_structure(index)}); build {built:.0f} s; "
          f"resident memory added by the index {added:,.0f} MiB "
          f"(the vectors alone: {vectors.nbytes / 2**20:,.0f} MiB); "
          f"{args.queries} queries × {args.rounds} rounds, one at a time\n")  # fmt: skip
    print("| filter | rows allowed | plans used (share of queries) | p50 ms (median, min–max) | p99 ms | "
          "p50 / p99 ms, rows found anew each query | recall@10 |")
    print("|---|---|---|---|---|---|---|")
    remembered, anew = index.config, index.config.model_copy(update={"filter_cache": 0})
    for name, where in filters.items():
        allowed = np.ones(args.rows, dtype=bool) if where is None else where.mask(index._columns)
        count = int(allowed.sum())
        index.plans.clear()
        timed: dict[str, tuple[list[float], list[float]]] = {"kept": ([], []), "anew": ([], [])}
        for _ in range(args.rounds):
            for label, config in (("kept", remembered), ("anew", anew)):
                index.config = config  # the rows a filter allows: remembered, or found anew
                times = []
                for query in queries:
                    tick = time.perf_counter()
                    index.search(query, 10, where=where)
                    times.append((time.perf_counter() - tick) * 1000)
                timed[label][0].append(float(np.percentile(times, 50)))
                timed[label][1].append(float(np.percentile(times, 99)))
        index.config = remembered
        plan = _plans(index.plans)
        recall = _recall(index, vectors, allowed, queries[:50], where)
        (p50s, p99s), (cold50, cold99) = timed["kept"], timed["anew"]
        print(f"| {name} | {count:,} ({count / args.rows:.1%}) | {plan} | {_span(p50s)} | "
              f"{_span(p99s)} | {statistics.median(cold50):.2f} / {statistics.median(cold99):.2f} "
              f"| {recall:.3f} |", flush=True)  # fmt: skip
    slow_where = nearby("Nghệ An")
    times = []
    for query in queries[: max(3, args.queries // 20)]:
        tick = time.perf_counter()
        index.search(query, 10, where=lambda meta: slow_where(meta))
        times.append((time.perf_counter() - tick) * 1000)
    print(f"| in Nghệ An or remote, VN, **row by row** (a Python predicate per row, as before) "
          f"| | | {statistics.median(times):.1f} ({min(times):.1f}–{max(times):.1f}), "
          f"{len(times)} queries | | |")  # fmt: skip
    persistence(index, vectors, args.rows)


def persistence(index: VectorIndex, vectors: np.ndarray, rows: int) -> None:
    """Save the whole index, load it, change 1,000 rows (900 added, 100 removed), save again
    (a segment), load again (the whole file and the segment)."""
    state = ROOT / ".state"
    state.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=state, prefix="bench-filters-") as folder:
        path = Path(folder) / "jobs.npz"
        timed = {}
        tick = time.perf_counter()
        index.save(path)
        timed["save, whole file"] = (time.perf_counter() - tick, path.stat().st_size)
        tick = time.perf_counter()
        loaded = VectorIndex.load(path)
        timed["load, whole file"] = (time.perf_counter() - tick, 0)
        del loaded
        resident = loaded_resident_mib(path)
        gc.collect()
        extra = vectors[:900] + np.float32(0.01)
        extra /= np.linalg.norm(extra, axis=1, keepdims=True)
        index.add([f"new-{i}" for i in range(900)], extra, [{"country": "VN"}] * 900)
        index.remove([str(i) for i in range(0, rows, max(1, rows // 100))][:100])
        tick = time.perf_counter()
        index.save(path)
        segments = sorted(Path(folder).glob("jobs.npz.seg*"))
        size = sum(p.stat().st_size for p in segments)
        timed[f"save after 1,000 changes ({len(segments)} segment)"] = (
            time.perf_counter() - tick, size)
        tick = time.perf_counter()
        loaded = VectorIndex.load(path)
        timed["load, whole file + segment"] = (time.perf_counter() - tick, 0)
        assert len(loaded) == len(index)
    print("\n| persistence | seconds | bytes written |\n|---|---|---|")
    for name, (seconds, size) in timed.items():
        print(f"| {name} | {seconds:.2f} | {size / 2**20:,.1f} MiB |" if size else
              f"| {name} | {seconds:.2f} | |")  # fmt: skip
    print(f"\nresident memory of the index loaded from its file in a fresh process (what a "
          f"server holds after start-up): {resident:,.0f} MiB")  # fmt: skip


def loaded_resident_mib(path: Path) -> float:
    """The resident memory a fresh process adds by loading the index at ``path``: everything
    it keeps (structure, ids, columns, lists), without what a build leaves in the allocator."""
    script = ("import gc, sys; sys.path.insert(0, sys.argv[2]); from bench_filters import rss_mib; "
              "from matcher.search.index import VectorIndex; gc.collect(); before = rss_mib(); "
              "index = VectorIndex.load(sys.argv[1]); gc.collect(); print(rss_mib() - before)")
    done = subprocess.run([sys.executable, "-c", script, str(path), str(ROOT / "bench")],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})  # fmt: skip
    return float(done.stdout.split()[-1])


def _structure(index: VectorIndex) -> str:
    if index.kind == "compressed":
        return f"IVF{index._faiss.nlist},SQ8, nprobe {index._faiss.nprobe}"
    return (f"M {index.config.hnsw_m}, efSearch {index.config.hnsw_ef_search}, "
            f"vectors {index.config.hnsw_vectors}")  # fmt: skip


def _plans(plans: Counter[str]) -> str:
    """How the queries were answered (``VectorIndex.plans``): the graph unfiltered, a walk
    restricted to the allowed rows, the partition's nearest lists, or exact."""
    total = sum(plans.values())
    return ", ".join(f"{name} {count / total:.0%}" for name, count in plans.most_common())


def _recall(index: VectorIndex, vectors: np.ndarray, allowed: np.ndarray, queries: np.ndarray,
            where: object) -> float:  # fmt: skip
    rows = np.flatnonzero(allowed)
    found = index.search(queries, 10, where=where)  # type: ignore[arg-type]
    recalls = []
    for query, hits in zip(queries, found):
        scores = vectors[rows] @ query
        truth = set(rows[np.argpartition(-scores, 9)[:10]].tolist())
        recalls.append(len({int(h.id) for h in hits} & truth) / 10)
    return float(np.mean(recalls))


def _span(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


if __name__ == "__main__":
    main()
