"""Load on a real server on 127.0.0.1, bounded in count and time: a soak of writers and
readers, overload answered with 503 + Retry-After, and rate limits answered with 429."""

from __future__ import annotations

import concurrent.futures
import json
import os
import random
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import bearer
from tests.api.test_crash import all_jobs, indexed_jobs, posting
from tests.server import create_key, free_port, server_log, start_server, stop_server

pytestmark = pytest.mark.slow

SOAK_SECONDS = float(os.environ.get("MATCHER_SOAK_SECONDS", "60"))
MINIMUM = 50  # requests each side makes at least
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PROFILES = [
    {"text": "Giáo viên tiểu học 12 năm, soạn giáo án, chủ nhiệm lớp", "province": "Nghệ An"},
    {"text": "Công nhân cơ khí, vận hành máy CNC, hàn, đọc bản vẽ", "province": "Bắc Ninh"},
    {"text": "Kế toán xã 10 năm, lập báo cáo tài chính, Excel", "province": "Hà Nội"},
    {"text": "Điều dưỡng viên, chăm sóc người bệnh, sơ cứu", "province": "Huế"},
]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_soak_of_writers_and_readers_loses_nothing(settings, tmp_path):
    """8 writers and 32 readers for 60 s (MATCHER_SOAK_SECONDS): creates, updates, deletes,
    recommendations, candidate searches. Zero errors; the final counts equal what was
    acknowledged; RSS at the start and the end is reported and does not balloon."""
    state, port = tmp_path / "state", free_port()
    keys = [bearer(create_key(state, settings.caches, "--employer", f"Soak {n}")) for n in range(8)]
    admin = bearer(create_key(state, settings.caches, "--admin"))
    server = start_server(state, settings.caches, port, MATCHER_RATE_LIMIT_PER_ADDRESS="0",
                          MATCHER_RATE_LIMIT_PER_KEY="0")  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    live: dict[str, int] = {}  # acknowledged postings not deleted since: id -> writer
    lock = threading.Lock()
    errors: list[str] = []
    served = {"writes": 0, "reads": 0}
    seed_job = httpx.post(f"{base}/v1/jobs", json=posting(0), headers=keys[0], timeout=60).json()
    live[seed_job["id"]] = 0
    for profile in PROFILES:
        made = httpx.post(f"{base}/v1/candidates", json=profile | {"consent_to_be_found": True},
                          timeout=60)  # fmt: skip
        assert made.status_code == 201
    started_rss = rss_kib(server.pid)
    # The soak lasts SOAK_SECONDS and until each side made MINIMUM requests (a busy shared
    # machine is slower), but never longer than three times SOAK_SECONDS.
    deadline = time.monotonic() + SOAK_SECONDS
    cutoff = time.monotonic() + 3 * SOAK_SECONDS

    def going() -> bool:
        now = time.monotonic()
        with lock:
            short = served["writes"] <= MINIMUM or served["reads"] <= MINIMUM
        return now < cutoff and (now < deadline or short)

    def note(kind: str, response: httpx.Response, expected: int) -> bool:
        with lock:
            served[kind] += 1
            if response.status_code != expected:
                errors.append(f"{response.request.method} {response.request.url.path}: "
                              f"{response.status_code} {response.text[:200]}")  # fmt: skip
        return response.status_code == expected

    def writer(number: int) -> None:
        rng = random.Random(number)
        mine: list[str] = []  # the seed posting is never changed: readers always have one
        with httpx.Client(base_url=base, headers=keys[number], timeout=120) as http:
            n = number * 100_000 + 1
            while going():
                action = rng.random()
                if action < 0.6 or not mine:
                    response = http.post("/v1/jobs", json=posting(n))
                    if note("writes", response, 201):
                        mine.append(response.json()["id"])
                        with lock:
                            live[mine[-1]] = number
                elif action < 0.8:
                    note("writes", http.put(f"/v1/jobs/{rng.choice(mine)}", json=posting(n)), 200)
                else:
                    gone = mine.pop(rng.randrange(len(mine)))
                    if note("writes", http.delete(f"/v1/jobs/{gone}"), 204):
                        with lock:
                            live.pop(gone, None)
                n += 1

    def reader(number: int) -> None:
        rng = random.Random(1000 + number)
        with httpx.Client(base_url=base, timeout=120) as http:
            while going():
                if rng.random() < 0.75:
                    body = {"profile": rng.choice(PROFILES), "k": 5}
                    note("reads", http.post("/v1/recommendations/jobs", json=body), 200)
                else:
                    with lock:
                        job_id, owner = rng.choice(list(live.items()))
                    response = http.post(f"/v1/jobs/{job_id}/candidates", headers=keys[owner])
                    if response.status_code != 404:  # deleted meanwhile by its writer
                        note("reads", response, 200)

    try:
        with concurrent.futures.ThreadPoolExecutor(40) as pool:
            futures = [pool.submit(writer, n) for n in range(8)]
            futures += [pool.submit(reader, n) for n in range(32)]
            for future in futures:
                future.result()
        ended_rss = rss_kib(server.pid)
        stored = {job["id"] for job in all_jobs(base, admin)}
        report = {"seconds": SOAK_SECONDS, "writes": served["writes"], "reads": served["reads"],
                  "errors": len(errors), "postings_acknowledged_and_kept": len(live),
                  "postings_stored": len(stored), "rss_start_mib": round(started_rss / 1024),
                  "rss_end_mib": round(ended_rss / 1024)}  # fmt: skip
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "soak.json").write_text(json.dumps(report, indent=2))
        print("soak:", report)
        assert errors == [], errors[:10]
        assert stored == set(live)  # exactly what was acknowledged, less what was deleted
        assert indexed_jobs(base) == len(stored)
        assert served["writes"] > MINIMUM and served["reads"] > MINIMUM, report
        assert ended_rss < started_rss * 1.5 + 300 * 1024, report
    finally:
        stop_server(server)
    assert "Application shutdown complete" in server_log(server)  # a clean stop after the soak


def test_overload_is_answered_with_503_and_rate_limits_with_429(settings, tmp_path):
    state, port = tmp_path / "state", free_port()
    key = bearer(create_key(state, settings.caches, "--employer", "Limit Co"))
    server = start_server(state, settings.caches, port, MATCHER_MAX_IN_FLIGHT="2",
                          MATCHER_RATE_LIMIT_PER_ADDRESS="1000", MATCHER_RATE_LIMIT_PER_KEY="5")  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        # Two requests are held in flight by bodies that do not finish until released, so the
        # third is over the limit whatever the speed of the machine.
        release = threading.Event()
        body = json.dumps({"profile": PROFILES[0], "k": 5}).encode()

        def slow_body():  # type: ignore[no-untyped-def]
            yield body[:10]
            release.wait(60)
            yield body[10:]

        def held() -> httpx.Response:
            return httpx.post(f"{base}/v1/recommendations/jobs", content=slow_body(),
                              headers={"Content-Type": "application/json"}, timeout=120)  # fmt: skip

        def in_flight() -> float:
            metrics = httpx.get(f"{base}/metrics", timeout=10).text
            line = next(
                x for x in metrics.splitlines() if x.startswith("matcher_requests_in_flight")
            )
            return float(line.split()[-1])

        def until(count: int) -> None:
            for _ in range(300):  # each held request arrives within a fraction of a second
                if in_flight() >= count:
                    return
                time.sleep(0.05)
            raise AssertionError(f"{count} held requests were never in flight")

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            holding = [pool.submit(held)]
            until(1)
            holding.append(pool.submit(held))
            until(2)
            refused = httpx.post(f"{base}/v1/recommendations/jobs",
                                 json={"profile": PROFILES[1], "k": 5}, timeout=120)  # fmt: skip
            release.set()
            answers = [h.result() for h in holding]
        assert refused.status_code == 503, refused.text  # a third while two are served
        assert [a.status_code for a in answers] == [200, 200]  # the held ones are served
        assert int(refused.headers["Retry-After"]) > 0
        assert refused.json()["error"]["code"] == "overloaded"
        assert "2 requests are being served" in refused.json()["error"]["message"]
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200  # health is not bounded

        # 5 a minute per key: 11 requests span at most two windows, so at least one is 429
        limited = [httpx.get(f"{base}/v1/jobs", headers=key, timeout=30) for _ in range(11)]
        statuses = [r.status_code for r in limited]
        assert statuses[:5] == [200] * 5 and statuses[-1] == 429, statuses
        assert 0 < int(limited[-1].headers["Retry-After"]) <= 60
        assert limited[-1].json()["error"]["code"] == "rate_limited"
        # another credential is counted apart
        other = bearer(create_key(state, settings.caches, "--employer", "Other Limit Co"))
        assert httpx.get(f"{base}/v1/jobs", headers=other, timeout=30).status_code == 200
    finally:
        stop_server(server)
