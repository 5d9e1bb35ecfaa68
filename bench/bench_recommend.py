"""Job recommendations over HTTP: 20,000 postings, one uvicorn worker, 200-word profiles.

Run: .venv/bin/python bench/bench_recommend.py [--jobs 20000] [--requests 100] [--rounds 3]
[--compare-src DIR] (DIR: a checkout of an earlier commit, served first in the same run)

The first run builds .state/bench-<jobs> once: 2,000 demo postings are generated and embedded
(about 4 minutes; embedding 20,000 distinct postings would take ~35 minutes on 2 cores), then
each is stored again under new ids in other provinces, with the same vector, until there are
``--jobs`` postings. Search, store and re-ranking costs are those of ``--jobs`` postings; only
the vectors repeat. Prints latency percentiles and throughput at 1 and 4 concurrent clients,
for each server set-up (a fresh server each; the same profiles): verbatim-only skills in
inline profiles (before issue 17), the full span-based extraction with int8 or fp32 spans, and
torch throughout.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WORDS_VI = (
    "Tôi là nguyên giáo viên tiểu học với mười hai năm kinh nghiệm giảng dạy, chủ nhiệm lớp, "
    "soạn giáo án, sử dụng máy tính và Excel, giao tiếp với phụ huynh, tổ chức hoạt động ngoại khóa, "
    "đánh giá học sinh, quản lý hồ sơ, làm việc nhóm, lập kế hoạch, báo cáo định kỳ. "
)
WORDS_EN = (
    "Former commune accountant with ten years of experience in bookkeeping, preparing financial "
    "statements, tax returns, payroll, budgeting, using spreadsheets and accounting software, "
    "communicating with citizens and managing administrative records. "
)


def profile_text(rng: random.Random) -> str:
    source = (WORDS_VI if rng.random() < 0.5 else WORDS_EN).split()
    words = [rng.choice(source) for _ in range(200)]
    return " ".join(words)


DISTINCT = 2_000


def replicate(state: Path, total: int) -> None:
    """Store each demo posting again under new ids until there are ``total``, reusing vectors."""
    from matcher.reference.provinces import load_provinces
    from matcher.search.catalog import job_metadata
    from matcher.services import MatcherService
    from matcher.settings import Settings

    marker = state / f"replicated-{total}"
    if marker.exists():
        return
    settings = Settings(state_dir=state, cache_dir=ROOT / ".state" / "cache")
    service = MatcherService(settings)
    service.start()
    originals = list(service.store.iter_jobs())
    provinces = [p.name for p in load_provinces(settings.project_data_dir)]
    rng = random.Random(3)
    copies, vectors = [], []
    while len(originals) + len(copies) < total:
        job = originals[len(copies) % len(originals)]
        copy = job.model_copy(
            update={
                "id": str(uuid.uuid4()),
                "province": rng.choice(provinces) if job.country == "VN" else None,
            }
        )
        copies.append(copy)
        vectors.append(service.catalog.jobs.vector(job.id))
    service.store.add_jobs(copies)
    service.catalog.jobs.upsert(
        [c.id for c in copies], np.stack(vectors), [job_metadata(c) for c in copies]
    )
    service.catalog.save()
    marker.write_text("done")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_clients(base: str, send: Callable[[httpx.Client, int], httpx.Response], requests: int,
                concurrency: int) -> tuple[float, list[float]]:  # fmt: skip
    """``requests`` calls of ``send`` spread over ``concurrency`` keep-alive clients."""
    latencies: list[float] = []
    lock = threading.Lock()
    todo = list(range(requests))

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            while True:
                with lock:
                    if not todo:
                        return
                    number = todo.pop()
                started = time.perf_counter()
                send(client, number).raise_for_status()
                with lock:
                    latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - started), latencies


#: Server set-ups compared in one run: name -> environment.
CONFIGS = {
    "verbatim skills (before), int8 query": {"MATCHER_INLINE_SKILLS": "verbatim"},
    "full extraction, int8 spans + query": {},
    "full extraction, fp32 spans, int8 query": {"MATCHER_INT8_SKILL_SPANS": "false"},
    "full extraction, torch query and spans": {"MATCHER_QUERY_RUNTIME": "torch"},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=100, help="per cell and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--configs", default=",".join(str(i) for i in range(len(CONFIGS))),
                        help="which set-ups to compare (indexes into CONFIGS)")  # fmt: skip
    parser.add_argument("--compare-src", type=Path, default=None,
                        help="also serve the code of another checkout (its src/ first on the "
                        "path; e.g. a `git worktree` of an earlier commit), first, with the "
                        "default set-up: before and after in one run")  # fmt: skip
    args = parser.parse_args()
    state = ROOT / ".state" / f"bench-{args.jobs}"
    matcher = str(Path(sys.executable).with_name("matcher"))
    env = {
        **os.environ,
        "MATCHER_STATE_DIR": str(state),
        "MATCHER_CACHE_DIR": str(ROOT / ".state" / "cache"),
        # one address sends everything: the per-address limit (120/min) would answer 429
        "MATCHER_RATE_LIMIT_PER_ADDRESS": "0",
    }
    subprocess.run(
        [matcher, "demo", "load", "--jobs", str(min(args.jobs, DISTINCT)), "--candidates", "200"],
        env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    replicate(state, args.jobs)
    configs = dict(CONFIGS)
    chosen = [list(CONFIGS)[int(i)] for i in args.configs.split(",")]
    if args.compare_src:
        name = f"full extraction, int8 spans + query, code of {args.compare_src}"
        from matcher.settings import Settings

        configs[name] = {  # this checkout's model and data: the other has neither
            "PYTHONPATH": str(args.compare_src.resolve() / "src"),
            "MATCHER_MODELS_DIR": str(ROOT / "models"),
            "MATCHER_DATA_DIR": str(Settings().data_dir),
        }
        chosen.insert(0, name)
    cells = {}  # (config, cell) -> [(qps, p50, p99) per round]
    for name in chosen:
        for cell, result in serve_and_measure(
            matcher, {**env, **configs[name]}, args.port, args.requests, args.rounds
        ).items():
            cells[(name, cell)] = result
    print(f"POST /v1/recommendations/jobs, {args.jobs} postings, inline 200-word profiles, "
          f"1 worker, {args.requests} requests per cell and round, {args.rounds} rounds: "
          "median (min–max) over rounds")  # fmt: skip
    print("| set-up | cell | requests/s | p50 ms | p99 ms | p50 vs first set-up |")
    print("|---|---|---|---|---|---|")
    first = {cell: result for (name, cell), result in cells.items() if name == chosen[0]}
    for (name, cell), result in cells.items():
        qps, p50, p99 = ([r[i] for r in result] for i in range(3))
        base = statistics.median(r[1] for r in first[cell])
        print(f"| {name} | {cell} | {span(qps, 1)} | {span(p50, 1000)} | {span(p99, 1000)} "
              f"| {statistics.median(p50) / base:.2f}x |")  # fmt: skip


def span(values: list[float], scale: float) -> str:
    scaled = [v * scale for v in values]
    return f"{statistics.median(scaled):.1f} ({min(scaled):.1f}–{max(scaled):.1f})"


def serve_and_measure(
    matcher: str, env: dict[str, str], port: int, requests: int, rounds: int
) -> dict[str, list[tuple[float, float, float]]]:
    """Start one server, warm it up, and measure each cell ``rounds`` times: new profiles at 1
    and 4 clients (profiles never sent before: no cache helps), and profiles sent again at 1
    client (the extraction cache). Every set-up gets the same profiles."""
    server = subprocess.Popen(
        [matcher, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def bodies(seed: int) -> list[dict]:
        rng = random.Random(seed)
        return [{"profile": {"text": profile_text(rng)}, "k": 10} for _ in range(requests)]

    try:
        deadline = time.monotonic() + 300
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not become ready (exit code {server.poll()}); "
                                 "run `matcher serve` with the same environment to see why")  # fmt: skip
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        with httpx.Client(base_url=base, timeout=60) as client:
            for body in bodies(0)[:10]:  # warm-up
                client.post("/v1/recommendations/jobs", json=body).raise_for_status()
        out: dict[str, list[tuple[float, float, float]]] = {}
        for round_ in range(rounds):
            for cell, seed, concurrency in (("new, 1 client", 1, 1), ("new, 4 clients", 2, 4),
                                            ("sent again, 1 client", 1, 1)):  # fmt: skip
                sent = bodies(100 * round_ + seed)
                qps, latencies = run_clients(
                    base, lambda c, n, sent=sent: c.post("/v1/recommendations/jobs", json=sent[n]),
                    len(sent), concurrency)  # fmt: skip
                out.setdefault(cell, []).append(
                    (qps, statistics.median(latencies), percentile(latencies, 0.99))
                )
        return out
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
