"""Batch jobs on one process and on Ray Data (issue 19): a bulk import of postings from a file
(``matcher batch import``: validate, find the occupation, look up skills, embed, screen, store,
index) and the re-embedding of every stored posting (``matcher batch embed``), on this machine.

Run: .venv/bin/python bench/bench_batch.py [--rows 2000] [--rounds 3] [--shard-rows 256]
     .venv/bin/python bench/bench_batch.py --smoke      (CI: 48 rows, 1 round)

The postings are the demo generator's (Vietnamese and English titles and descriptions), one
JSON line each. Each round, with each engine, imports them into a fresh state directory (the
model caches shared), then re-embeds that store. Ray is started and stopped in
every round, so each Ray time includes starting Ray and its actor pool, as a job pays it.

Printed: seconds (median, min–max over the rounds), rows per second, the ratio to one process
in the same run, and the core-hours a million postings take: the seconds per row times the
cores the job keeps busy (one process: torch's threads; Ray: the replicas' CPUs, the pool size
on this machine being ``pool_size(CPUs)``), so hours on a bigger machine or a cluster can be
read off (an estimate: it assumes the work scales with cores).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import torch

from matcher.demo import DemoGenerator
from matcher.services.batch import embed_store, pool_size
from matcher.services.bulk import import_postings
from matcher.services.runtime import Reference
from matcher.settings import Settings


def write_postings(settings: Settings, rows: int, path: Path) -> None:
    reference = Reference(settings)
    generator = DemoGenerator(reference.taxonomy, settings.project_data_dir, 11,
                              reference.programmes)  # fmt: skip
    with path.open("w", encoding="utf-8") as handle:
        for _ in range(rows):
            posting = generator.posting().model_dump(mode="json", exclude_none=True)
            posting.pop("programme", None)  # only an operator may tag; the bench imports as admin
            handle.write(json.dumps(posting, ensure_ascii=False) + "\n")


def stop_ray() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shard-rows", type=int, default=256)
    parser.add_argument("--smoke", action="store_true", help="48 rows, 1 round (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.rounds, args.shard_rows = 48, 1, 16
    base = Settings()
    import os

    cpus = os.cpu_count() or 1
    cores = {"local": torch.get_num_threads(), "ray": pool_size(cpus)}
    times: dict[tuple[str, str], list[float]] = {}
    imported: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as temporary:
        work = Path(temporary)
        postings = work / "postings.jsonl"
        write_postings(base, args.rows, postings)
        for round_ in range(args.rounds):
            for engine in ("local", "ray"):
                state = work / f"state-{round_}-{engine}"
                settings = Settings(state_dir=state, cache_dir=base.caches,
                                    serve_champions=False)  # fmt: skip
                started = time.perf_counter()
                report = import_postings(settings, [postings], work / f"import-{round_}-{engine}",
                                         engine=engine, shard_rows=args.shard_rows)  # type: ignore[arg-type]
                times.setdefault(("import", engine), []).append(time.perf_counter() - started)
                stop_ray()
                imported[engine] = report.imported
                started = time.perf_counter()  # the store this engine imported, re-embedded
                embed_store(settings, "jobs", work / f"embed-{round_}-{engine}", engine=engine,
                            shard_rows=args.shard_rows)  # type: ignore[arg-type]
                times.setdefault(("re-embed", engine), []).append(time.perf_counter() - started)
                stop_ray()
                print(f"round {round_ + 1}/{args.rounds} {engine}: {report.imported} imported, "
                      f"{len(report.errors)} refused", file=sys.stderr, flush=True)  # fmt: skip
    if imported["local"] != imported["ray"]:
        raise SystemExit(f"the engines imported different counts: {imported}")
    rows = imported["local"]
    print(f"\n{args.rows:,} demo postings ({rows:,} imported), shards of {args.shard_rows}, "
          f"{args.rounds} round(s), {cpus} CPUs; one process: {cores['local']} torch threads; "
          f"Ray: {cores['ray']} replica(s) of 1 CPU\n")  # fmt: skip
    print("| job | engine | seconds, median (min–max) | rows/s | vs one process "
          "| core-hours per million |")
    print("|---|---|---|---|---|---|")
    for job in ("import", "re-embed"):
        local = statistics.median(times[(job, "local")])
        for engine in ("local", "ray"):
            spent = times[(job, engine)]
            median = statistics.median(spent)
            core_hours = median / rows * 1e6 / 3600 * cores[engine]
            name = "one process" if engine == "local" else "Ray Data"
            print(f"| {job} | {name} | {median:.1f} ({min(spent):.1f}–{max(spent):.1f}) "
                  f"| {rows / median:.1f} | {median / local:.2f}x | {core_hours:.1f} |")


if __name__ == "__main__":
    main()
