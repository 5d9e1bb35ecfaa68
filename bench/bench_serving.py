"""Serving at scale over HTTP (issue 18): one worker against several, 1 to 32 clients.

Run: .venv/bin/python bench/bench_serving.py [--jobs 20000] [--workers 1,2] [--clients 1,8,32]
                                             [--requests 64] [--rounds 3]
     .venv/bin/python bench/bench_serving.py --smoke    (CI: 300 postings, proves it runs)

The store is built once under ``.state/bench-serving-<jobs>``: the demo set (2,000 postings with
the full pipeline, 200 consenting profiles), then each posting stored again under new ids in
other provinces until there are ``--jobs``. Their vectors are the embedded generated postings
of ``bench/embed_postings.py`` where that cache exists (cycled, with noise σ 0.01), else the
original's vector with that noise: the search sees a million distinct vectors, the store a
million postings. For each worker count, a fresh ``matcher serve --workers N``:

- start-up: seconds from the command to every worker answering;
- ``POST /v1/recommendations/jobs`` with new 200-word profiles (no cache helps) and
  ``POST /v1/jobs/{id}/candidates`` (an employer ranking the consenting profiles for one of
  its postings), at each client count: requests/s, p50 and p99, median (min–max) over rounds;
- keep-alive overhead: ``GET /v1/about`` from one client on one connection, p50;
- ingest: ``POST /v1/jobs/bulk`` of 200-word postings, 50 a request (parse, screen, full skill
  extraction, embed, store, index), from one client and from one client per worker:
  postings/s.

With several workers it also serves the same app with uvicorn's own ``--workers`` and measures
the keep-alive overhead there (its listener loses TCP_NODELAY: Kludex/uvicorn#3149).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from bench_recommend import percentile, profile_text, run_clients

DISTINCT = 2_000
#: Rows per bulk request: up to 50, an import gets the full skill extraction (services/jobs.py)
INGEST_BATCH = 50


def build_state(state: Path, jobs: int, env: dict[str, str]) -> dict:
    """The demo set, then copies of its postings until there are ``jobs``; returns demo.json."""
    matcher = str(Path(sys.executable).with_name("matcher"))
    if not (state / "demo.json").exists():
        subprocess.run([matcher, "demo", "load", "--jobs", str(min(jobs, DISTINCT)),
                        "--candidates", "200"], env=env, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    marker = state / f"replicated-{jobs}"
    if not marker.exists():
        replicate(state, jobs)
        marker.write_text("done")
    return json.loads((state / "demo.json").read_text())


def replicate(state: Path, total: int) -> None:
    from matcher.reference.provinces import load_provinces
    from matcher.search.catalog import job_metadata
    from matcher.services import MatcherService
    from matcher.settings import Settings

    settings = Settings(state_dir=state, cache_dir=ROOT / ".state" / "cache")
    service = MatcherService(settings)
    service.start()
    originals = list(service.store.iter_jobs())
    provinces = [p.name for p in load_provinces(settings.project_data_dir)]
    base = _vectors()
    rng = random.Random(3)
    noise = np.random.default_rng(3)
    made, step = len(originals), 20_000
    while made < total:
        count = min(step, total - made)
        copies = []
        for i in range(made, made + count):
            job = originals[i % len(originals)]
            copies.append(job.model_copy(update={
                "id": str(uuid.uuid4()),
                "province": rng.choice(provinces) if job.country == "VN" else None,
            }))  # fmt: skip
        if base is not None:
            vectors = base[np.arange(made, made + count) % len(base)]
        else:
            vectors = service.catalog.jobs.matrix([originals[i % len(originals)].id
                                                   for i in range(made, made + count)])  # fmt: skip
        vectors = vectors + noise.normal(0, 0.01, vectors.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        service.store.add_jobs(copies)
        service.catalog.jobs.upsert([c.id for c in copies], vectors,
                                    [job_metadata(c) for c in copies])  # fmt: skip
        made += count
        print(f"  stored {made:,}/{total:,}", file=sys.stderr, flush=True)
    service.catalog.save()
    service.close()


def _vectors() -> np.ndarray | None:
    try:
        from embed_postings import CACHE, load_postings
    except ImportError:  # pragma: no cover
        return None
    if not (CACHE / "manifest.json").exists():
        return None
    return load_postings()[0]


def start(command: list[str], env: dict[str, str], base: str, workers: int,
          log: Path | None = None) -> tuple[subprocess.Popen, float]:
    """Start a server (its log to ``log``); returns it and the seconds until every worker
    answered."""
    started = time.monotonic()
    errors = log.open("w") if log is not None else subprocess.DEVNULL
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    seen: set[str] = set()
    while time.monotonic() - started < 1800:
        if server.poll() is not None:
            raise SystemExit(f"the server exited ({server.returncode}): {' '.join(command)}")
        try:
            response = httpx.get(f"{base}/readyz", timeout=2)
            if response.status_code == 200:
                seen.add(response.headers.get("X-Matcher-Worker", "0"))
                if len(seen) >= workers:
                    return server, time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not become ready in 30 minutes")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=120)
    except subprocess.TimeoutExpired:
        server.kill()


def keep_alive_p50(base: str, requests: int = 200) -> float:
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/v1/about")
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get("/v1/about").raise_for_status()
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def posting_line(rng: random.Random, number: int) -> str:
    return json.dumps({"title": f"Kế toán tổng hợp {number}", "description": profile_text(rng),
                       "province": "Nghệ An", "country": "VN"}, ensure_ascii=False)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--requests", type=int, default=64, help="per cell and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ingest", type=int, default=100, help="postings in the bulk import")
    parser.add_argument("--port", type=int, default=8777)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--startup-only", action="store_true",
                        help="only start-up, --rounds times per worker count, with its phases")
    args = parser.parse_args()
    if args.smoke:
        args.jobs, args.clients, args.requests, args.rounds, args.ingest = 300, "1,4", 8, 1, 50
    state = ROOT / ".state" / f"bench-serving-{args.jobs}"
    env = {**os.environ, "MATCHER_STATE_DIR": str(state),
           "MATCHER_CACHE_DIR": str(ROOT / ".state" / "cache"),
           "MATCHER_SERVE_CHAMPIONS": "false", "HF_HUB_OFFLINE": "1",
           # one address sends everything: no per-address or per-key limit
           "MATCHER_RATE_LIMIT_PER_ADDRESS": "0", "MATCHER_RATE_LIMIT_PER_KEY": "0"}  # fmt: skip
    demo = build_state(state, args.jobs, env)
    employer = {"Authorization": f"Bearer {demo['employer_key']}"}
    matcher = str(Path(sys.executable).with_name("matcher"))
    base = f"http://127.0.0.1:{args.port}"
    from matcher.services import MatcherService
    from matcher.settings import Settings

    store = MatcherService(Settings(state_dir=state, cache_dir=ROOT / ".state" / "cache")).store
    principal = store.principal(demo["employer_key"])
    assert principal is not None, "the demo employer key is not in the store"
    # ranking candidates for a posting held for review is refused (409): an earlier run's
    # ingest may have added such postings to this employer, so keep the visible ones
    visible = store.job_hashes()
    own = [job.id for job in store.list_jobs(principal.employer_id, limit=500)[1]
           if job.id in visible]  # fmt: skip
    store.close()
    assert own, "the demo employer has no posting visible to candidates"
    rng = random.Random(11)
    profiles = [{"profile": {"text": profile_text(rng)}, "k": 10} for _ in range(4096)]
    calls = {
        "recommendations": lambda c, n: c.post("/v1/recommendations/jobs", json=profiles[n % 4096]),
        "candidate search": lambda c, n: c.post(f"/v1/jobs/{own[n % len(own)]}/candidates",
                                                 json={"k": 10}, headers=employer),
    }  # fmt: skip
    if args.startup_only:
        startup(matcher, env, base, args, state)
        return
    clients = [int(c) for c in args.clients.split(",")]
    rows, facts = [], []
    offset = 0
    for workers in [int(w) for w in args.workers.split(",")]:
        server, ready = start([matcher, "serve", "--host", "127.0.0.1", "--port", str(args.port),
                               "--workers", str(workers)], env, base, workers)  # fmt: skip
        try:
            facts.append((workers, "start-up to every worker ready, s", f"{ready:.1f}"))
            run_clients(base, calls["recommendations"], 8, 2)  # warm-up
            for name, send in calls.items():
                for count in clients:
                    qps, p50, p99 = [], [], []
                    for _ in range(args.rounds):
                        def shifted(c: httpx.Client, n: int, send=send, at=offset) -> httpx.Response:
                            return send(c, n + at)  # new profiles every cell: no cache helps

                        rate, latencies = run_clients(base, shifted, args.requests, count)
                        offset += args.requests
                        qps.append(rate)
                        p50.append(statistics.median(latencies))
                        p99.append(percentile(latencies, 0.99))
                    rows.append((workers, name, count, qps, p50, p99))
            facts.append((workers, "keep-alive GET /v1/about p50, ms",
                          f"{keep_alive_p50(base) * 1000:.2f}"))  # fmt: skip
            for senders in sorted({1, workers}):
                batches = [("\n".join(posting_line(rng, offset + i) for i in range(start, min(start + INGEST_BATCH, args.ingest)))
                            + "\n").encode() for start in range(0, args.ingest, INGEST_BATCH)]  # fmt: skip
                offset += args.ingest

                def post(client: httpx.Client, number: int, batches=batches) -> httpx.Response:
                    return client.post("/v1/jobs/bulk", content=batches[number], headers={
                        **employer, "Content-Type": "application/x-ndjson"})  # fmt: skip

                rate, _ = run_clients(base, post, len(batches), senders)
                facts.append((workers, (f"bulk ingest of {args.ingest} 200-word postings, "
                              f"{INGEST_BATCH} a request, {senders} client(s), postings/s"),
                              f"{rate * INGEST_BATCH:.1f}"))  # fmt: skip
        finally:
            stop(server)
        if workers > 1:  # uvicorn's own --workers, for the keep-alive overhead only
            server, _ = start([sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app",
                               "--host", "127.0.0.1", "--port", str(args.port), "--workers",
                               str(workers), "--log-level", "warning"],
                              {**env, "PYTHONPATH": str(ROOT)}, base, 1)  # fmt: skip
            try:
                time.sleep(5)  # the other workers finish starting
                facts.append((workers, "keep-alive GET /v1/about p50, ms, **uvicorn --workers**",
                              f"{keep_alive_p50(base) * 1000:.2f}"))  # fmt: skip
            finally:
                stop(server)
    print(f"\n{args.jobs:,} postings in the store, 200 consenting profiles; {args.requests} "
          f"requests per cell and round, {args.rounds} rounds: median (min–max) over rounds\n")
    print("| workers | call | clients | requests/s | vs 1 client | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|")
    single = {(w, n): statistics.median(q) for w, n, c, q, _, _ in rows if c == clients[0]}
    for workers, name, count, qps, p50, p99 in rows:
        ratio = statistics.median(qps) / single[(workers, name)]
        print(f"| {workers} | {name} | {count} | {_span(qps, 1)} | {ratio:.2f}x | "
              f"{_span(p50, 1000)} | {_span(p99, 1000)} |")  # fmt: skip
    print("\n| workers | measure | value |\n|---|---|---|")
    for workers, name, value in facts:
        print(f"| {workers} | {name} | {value} |")


def startup(matcher: str, env: dict[str, str], base: str, args: argparse.Namespace,
            state: Path) -> None:  # fmt: skip
    """Start-up, ``--rounds`` times per worker count, and its phases from the server's log:
    the jobs index file read, everything loaded (models, taxonomy, indexes), the store
    reconciled, every inference path run once."""
    phases = {"index file read": r"loaded jobs-\S+: \d+ rows in ([\d.]+) s",
              "loaded (models, taxonomy, indexes)": r"indexes loaded in ([\d.]+) s",
              "store reconciled": r"store reconciled in ([\d.]+) s",
              "inference paths run once": r"every inference path run in ([\d.]+) s"}  # fmt: skip
    print(f"\n{args.jobs:,} postings in the store; start-up to every worker answering /readyz, "
          f"{args.rounds} rounds: median (min–max) in seconds; the phases are worker 0's\n")
    print("| workers | to ready | " + " | ".join(phases) + " |")
    print("|---|---|" + "---|" * len(phases))
    log = state / "bench-startup.log"
    for workers in [int(w) for w in args.workers.split(",")]:
        ready, found = [], {name: [] for name in phases}
        for _ in range(args.rounds):
            server, seconds = start([matcher, "serve", "--host", "127.0.0.1", "--port",
                                     str(args.port), "--workers", str(workers)], env, base,
                                    workers, log)  # fmt: skip
            stop(server)
            ready.append(seconds)
            text = log.read_text()
            for name, pattern in phases.items():
                match = re.search(pattern, text)
                if match:
                    found[name].append(float(match.group(1)))
        cells = [_span(found[name], 1) if found[name] else "–" for name in phases]
        print(f"| {workers} | {_span(ready, 1)} | " + " | ".join(cells) + " |", flush=True)


def _span(values: list[float], scale: float) -> str:
    scaled = [v * scale for v in values]
    return f"{statistics.median(scaled):.1f} ({min(scaled):.1f}–{max(scaled):.1f})"


if __name__ == "__main__":
    main()
