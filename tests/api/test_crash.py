"""Crash safety against a real server process: SIGKILL at random moments and at named fault
points (``MATCHER_FAULT_POINT``, see matcher.faults). After each restart, every acknowledged
write is there and searchable, nothing is duplicated, and the index agrees with the store."""

from __future__ import annotations

import concurrent.futures
import json
import re
import threading
import time

import httpx
import pytest

from tests.api.conftest import bearer
from tests.server import create_key, free_port, start_server, stop_server

pytestmark = pytest.mark.slow

TRADES = ["thợ điện", "kế toán", "điều dưỡng", "lái xe tải", "đầu bếp", "thợ may", "thợ hàn",
          "nhân viên bán hàng", "giáo viên mầm non", "thợ sửa ô tô", "lễ tân khách sạn",
          "nhân viên kho"]  # fmt: skip


def posting(n: int) -> dict:  # type: ignore[type-arg]
    trade = TRADES[n % len(TRADES)]
    return {"title": f"{trade.capitalize()} số {n}", "province": "Hà Nội",
            "description": f"Tuyển {trade}, mã tin {n}."}  # fmt: skip


def all_jobs(base: str, admin: dict[str, str]) -> list[dict]:  # type: ignore[type-arg]
    found, offset = [], 0
    while True:
        page = httpx.get(f"{base}/v1/jobs?limit=200&offset={offset}", headers=admin,
                         timeout=60).json()  # fmt: skip
        found += page["results"]
        offset += 200
        if offset >= page["total"]:
            return found


def indexed_jobs(base: str) -> int:
    metrics = httpx.get(f"{base}/metrics", timeout=30).text
    return int(float(re.search(r"^matcher_index_jobs (\S+)$", metrics, re.MULTILINE).group(1)))  # type: ignore[union-attr]


def kill(server) -> None:  # type: ignore[no-untyped-def]
    server.kill()
    server.wait()


@pytest.fixture
def setup(settings, tmp_path):  # type: ignore[no-untyped-def]
    state = tmp_path / "state"
    employer = bearer(create_key(state, settings.caches, "--employer", "Crash Co"))
    admin = bearer(create_key(state, settings.caches, "--admin"))
    return state, settings.caches, employer, admin


def test_killed_during_concurrent_creates_loses_no_acknowledged_posting(setup):  # type: ignore[no-untyped-def]
    state, caches, employer, admin = setup
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(state, caches, port)
    acknowledged: dict[str, int] = {}
    stop = threading.Event()
    counter = iter(range(10_000))
    lock = threading.Lock()

    def writer() -> None:
        while not stop.is_set():
            with lock:
                n = next(counter)
            try:
                response = httpx.post(f"{base}/v1/jobs", json=posting(n), headers=employer,
                                      timeout=60)  # fmt: skip
            except httpx.HTTPError:
                return  # the server is gone
            if response.status_code == 201:
                with lock:
                    acknowledged[response.json()["id"]] = n

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    while len(acknowledged) < 24 and time.monotonic() < deadline:
        time.sleep(0.1)
    kill(server)
    stop.set()
    for thread in threads:
        thread.join()
    assert len(acknowledged) >= 24
    server = start_server(state, caches, port)
    try:
        stored = all_jobs(base, admin)
        ids = {job["id"] for job in stored}
        assert set(acknowledged) <= ids  # every 201 survived the kill
        titles = [job["title"] for job in stored]
        assert len(titles) == len(set(titles))  # nothing created twice
        assert indexed_jobs(base) == len(stored)  # the index agrees with the store
        for job_id, n in list(acknowledged.items())[:6]:  # and finds each by its own text
            query = {"profile": {"text": f"{posting(n)['title']}. {posting(n)['description']}"},
                     "k": 5}  # fmt: skip
            found = httpx.post(f"{base}/v1/recommendations/jobs", json=query, timeout=60).json()
            assert job_id in [r["job"]["id"] for r in found["results"]]
    finally:
        stop_server(server)


BULK = "\n".join(json.dumps(posting(n), ensure_ascii=False) for n in range(40)).encode()


@pytest.mark.parametrize("fault,kept", [("store-commit", 0), ("store-to-index", 40)])
def test_a_bulk_import_killed_before_or_after_its_commit_is_retried_safely(setup, fault, kept):  # type: ignore[no-untyped-def]
    """Before the commit nothing is stored; after it (but before the answer) the postings
    stay. Either way a retry with the same Idempotency-Key ends with exactly 40 postings."""
    state, caches, employer, admin = setup
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    headers = employer | {"Content-Type": "application/x-ndjson", "Idempotency-Key": "bulk-7"}
    server = start_server(state, caches, port, MATCHER_FAULT_POINT=fault)
    with pytest.raises(httpx.HTTPError):  # the server dies before it answers
        httpx.post(f"{base}/v1/jobs/bulk", content=BULK, headers=headers, timeout=300)
    server.wait(timeout=60)
    server = start_server(state, caches, port)
    try:
        assert len(all_jobs(base, admin)) == kept
        assert indexed_jobs(base) == kept  # reconciled at start-up
        retry = httpx.post(f"{base}/v1/jobs/bulk", content=BULK, headers=headers, timeout=300)
        assert retry.status_code == 201, retry.text
        assert retry.json()["imported"] == 40
        assert (retry.headers.get("Idempotent-Replayed") == "true") == bool(kept)
        again = httpx.post(f"{base}/v1/jobs/bulk", content=BULK, headers=headers, timeout=300)
        assert again.json()["ids"] == retry.json()["ids"]
        stored = all_jobs(base, admin)
        assert len(stored) == 40 and {j["id"] for j in stored} == set(retry.json()["ids"])
        assert indexed_jobs(base) == 40
    finally:
        stop_server(server)


def test_killed_while_saving_the_index_restarts_on_the_last_good_state(setup):  # type: ignore[no-untyped-def]
    state, caches, employer, admin = setup
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(state, caches, port, MATCHER_FAULT_POINT="index-save")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        made = list(pool.map(lambda n: httpx.post(f"{base}/v1/jobs", json=posting(n),
                                                  headers=employer, timeout=60), range(8)))  # fmt: skip
    assert [r.status_code for r in made] == [201] * 8
    stop_server(server)  # the shutdown's index save is killed half-way
    assert server.returncode == -9
    server = start_server(state, caches, port)
    try:
        assert {j["id"] for j in all_jobs(base, admin)} == {r.json()["id"] for r in made}
        assert indexed_jobs(base) == 8
    finally:
        stop_server(server)
    assert not list((state / "indexes").glob(".*"))  # the killed save's partial file is gone


def test_killed_inside_a_reload_swap_restarts_on_the_last_good_state(setup):  # type: ignore[no-untyped-def]
    state, caches, employer, admin = setup
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(state, caches, port, MATCHER_FAULT_POINT="reload-swap")
    job = httpx.post(f"{base}/v1/jobs", json=posting(1), headers=employer, timeout=60).json()
    started = httpx.post(f"{base}/v1/admin/reload", headers=admin, timeout=60)
    assert started.status_code == 202
    server.wait(timeout=120)  # killed at the swap
    server = start_server(state, caches, port)
    try:
        assert httpx.get(f"{base}/v1/jobs/{job['id']}", timeout=30).status_code == 200
        assert indexed_jobs(base) == 1
        done = httpx.post(f"{base}/v1/admin/reload", headers=admin, timeout=60)
        assert done.status_code == 202
    finally:
        stop_server(server)
