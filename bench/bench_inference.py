"""Inference workers with micro-batching vs encoding on each request's thread, over HTTP.

Run: .venv/bin/python bench/bench_inference.py [--rounds 3] [--requests 96] [--smoke]

Starts `matcher serve` on 127.0.0.1 twice on one fresh state directory (the shared label
caches, 60 postings): once with MATCHER_INFERENCE_WORKERS=true (the default) and once with
false (one inference at a time on the request threads, behind a lock). The load is a mix that
reaches every runtime: short title queries (torch) and 200-word profiles for recommendations
(int8 ONNX). Each setup is measured at 1, 8 and 32 concurrent clients, ``--rounds`` times
(alternating setups between rounds, so a noisy neighbour hits both), and the table prints the
median, min and max of requests/s and p50/p99 latency, and the ratio workers / baseline
measured in the same run. ``--smoke`` (CI): one round of a few requests, to prove it runs.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.server import create_key, free_port, start_server, stop_server

WORDS = ["Tôi", "là", "nguyên", "giáo", "viên", "tiểu", "học", "với", "mười", "hai", "năm", "kinh", "nghiệm", "giảng", "dạy,", "chủ", "nhiệm", "lớp,", "soạn", "giáo", "án,", "sử", "dụng", "máy", "tính", "và", "Excel,", "giao", "tiếp", "với", "phụ", "huynh,", "lập", "kế", "hoạch.", "Former", "commune", "accountant,", "bookkeeping,", "financial", "statements,", "tax", "returns,", "payroll,", "budgeting."]
TITLES = ["thợ điện", "kế toán", "điều dưỡng", "giáo viên", "lái xe", "thợ hàn", "nurse", "cook"]


def bodies(count: int, seed: int) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    rng = random.Random(seed)
    out: list[tuple[str, dict]] = []  # type: ignore[type-arg]
    for n in range(count):
        if n % 2:
            text = " ".join(rng.choice(WORDS) for _ in range(200))
            out.append(("/v1/recommendations/jobs", {"profile": {"text": text}, "k": 10}))
        else:
            out.append(("/v1/occupations/match", {"text": f"{rng.choice(TITLES)} {n}", "k": 5}))
    return out


def measure(base: str, work: list[tuple[str, dict]], clients: int) -> dict[str, float]:  # type: ignore[type-arg]
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    queue = list(work)

    def client() -> None:
        nonlocal errors
        with httpx.Client(base_url=base, timeout=120) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    path, body = queue.pop()
                started = time.perf_counter()
                status = http.post(path, json=body).status_code
                with lock:
                    latencies.append(time.perf_counter() - started)
                    errors += status != 200

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=96, help="per client count and round")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    rounds, requests = (1, 8) if args.smoke else (args.rounds, args.requests)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from matcher.settings import Settings

    caches = Settings().caches
    state = Path(tempfile.mkdtemp(prefix="bench-inference-")) / "state"
    key = create_key(state, caches, "--employer", "Bench Co")
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    setups = {"workers": "true", "per-request lock": "false"}
    seeded = False
    for round_number in range(rounds):
        order = list(setups.items())
        if round_number % 2:
            order.reverse()
        for name, flag in order:
            port = free_port()
            server = start_server(state, caches, port, MATCHER_INFERENCE_WORKERS=flag,
                                  MATCHER_RATE_LIMIT_PER_ADDRESS="0")
            base = f"http://127.0.0.1:{port}"
            try:
                if not seeded:
                    lines = "\n".join(
                        f'{{"title": "{TITLES[n % len(TITLES)]} {n}", "province": "Hà Nội", '
                        f'"description": "{" ".join(WORDS[n % 20 : n % 20 + 30])}"}}'
                        for n in range(60)
                    )
                    httpx.post(f"{base}/v1/jobs/bulk", content=lines.encode(), timeout=600,
                               headers={"Authorization": f"Bearer {key}",
                                        "Content-Type": "application/x-ndjson"}).raise_for_status()  # fmt: skip
                    seeded = True
                measure(base, bodies(4, 99), 2)  # warm the connection pool and caches
                for clients in (1, 8, 32):
                    work = bodies(requests, round_number * 100 + clients)
                    results.setdefault((name, clients), []).append(measure(base, work, clients))
                    print(f"round {round_number + 1} {name:16} {clients:2} clients: "
                          f"{results[(name, clients)][-1]}", file=sys.stderr, flush=True)  # fmt: skip
            finally:
                stop_server(server)
    print(f"\n{requests} requests per cell (half 200-word recommendations, half title "
          f"matches), {rounds} round(s); median (min–max)\n")  # fmt: skip
    print("| clients | setup | requests/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|")
    for clients in (1, 8, 32):
        for name in setups:
            runs = results[(name, clients)]

            def cell(key: str, runs: list[dict[str, float]] = runs) -> str:
                values = [run[key] for run in runs]
                return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"

            errors = sum(int(run["errors"]) for run in runs)
            print(f"| {clients} | {name} | {cell('rps')} | {cell('p50')} | {cell('p99')} | {errors} |")
    print("\n| clients | requests/s, workers ÷ per-request lock (median of per-round ratios) |")
    print("|---|---|")
    for clients in (1, 8, 32):
        ratios = [w["rps"] / b["rps"] for w, b in zip(results[("workers", clients)],
                                                       results[("per-request lock", clients)])]  # fmt: skip
        print(f"| {clients} | {statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f}) |")


if __name__ == "__main__":
    main()
