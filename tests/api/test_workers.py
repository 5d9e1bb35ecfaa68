"""``matcher serve --workers 2``: two processes on one port and one store (issue 18). A write
is searchable at once on the worker that accepted it and within 1 s on the other; a removal
too; the index files the primary saves bring both back after a restart; and the workers stop
when their supervisor is killed."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.api.conftest import bearer
from tests.server import create_key, free_port, server_log, start_server, stop_server

pytestmark = pytest.mark.slow

WELDER = {
    "title": "Thợ hàn ống áp lực cao",
    "description": "Hàn ống thép áp lực cao tại nhà máy đóng tàu, có chứng chỉ hàn 6G.",
    "province": "Hải Phòng",
    "country": "VN",
}
SEEKER = {"profile": {"text": "thợ hàn ống áp lực, chứng chỉ 6G, từng làm ở xưởng đóng tàu"},
          "k": 5}  # fmt: skip


def _one_client_per_worker(base: str) -> dict[str, httpx.Client]:
    """Keep-alive clients, one connected to each worker (the kernel hands each new
    connection to whichever worker accepts first; each response names its worker). Worker 1
    starts once worker 0 is ready: wait for it."""
    clients: dict[str, tuple[httpx.Client, float]] = {}
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        for worker, (old, opened) in list(clients.items()):
            if time.monotonic() - opened > 2:  # uvicorn closes a connection idle for 5 s
                old.close()
                del clients[worker]
        client = httpx.Client(base_url=base, timeout=60)
        worker = client.get("/readyz").headers["X-Matcher-Worker"]
        if worker in clients:
            client.close()
            time.sleep(0.05)
        else:
            clients[worker] = (client, time.monotonic())
        if len(clients) == 2:
            return {worker: client for worker, (client, _) in clients.items()}
    raise AssertionError(f"in 240 s, connections reached only workers {sorted(clients)}")


def _found(client: httpx.Client, job_id: str) -> tuple[bool, str]:
    response = client.post("/v1/recommendations/jobs", json=SEEKER)
    assert response.status_code == 200, response.text
    return (job_id in [r["job"]["id"] for r in response.json()["results"]],
            response.headers["X-Matcher-Worker"])  # fmt: skip


def _seconds_until(client: httpx.Client, job_id: str, present: bool, since: float) -> float:
    while time.monotonic() - since < 5:
        found, _ = _found(client, job_id)
        if found == present:
            return time.monotonic() - since
        time.sleep(0.02)
    raise AssertionError(f"{job_id} still {'absent' if present else 'present'} after 5 s")


def test_two_workers_share_every_write_within_a_second(settings, tmp_path):  # type: ignore[no-untyped-def]
    state, port = tmp_path / "state", free_port()
    key = bearer(create_key(state, settings.caches, "--employer", "Workers Co"))
    admin = bearer(create_key(state, settings.caches, "--admin"))
    server = start_server(state, settings.caches, port, "--workers", "2")
    base = f"http://127.0.0.1:{port}"
    try:
        clients = _one_client_per_worker(base)
        first, second = clients["0"], clients["1"]
        created = second.post("/v1/jobs", json=WELDER, headers=key)
        assert created.status_code == 201, created.text
        acknowledged = time.monotonic()
        job_id = created.json()["id"]
        assert _found(second, job_id) == (True, "1")  # at once where it was accepted
        assert _seconds_until(first, job_id, True, acknowledged) <= 1.0  # the other worker

        removed = first.delete(f"/v1/jobs/{job_id}", headers=key)
        assert removed.status_code == 204
        assert _found(first, job_id) == (False, "0")
        assert _seconds_until(second, job_id, False, time.monotonic()) <= 1.0

        kept = first.post("/v1/jobs", json=dict(WELDER, title="Thợ hàn TIG"), headers=key)
        assert kept.status_code == 201
        _seconds_until(second, kept.json()["id"], True, time.monotonic())
        # a reload would swap one worker's models only: refused, with what to do instead
        reload = first.post("/v1/admin/reload", headers=admin)
        assert reload.status_code == 409 and "restart" in reload.json()["error"]["message"]
        for client in clients.values():
            client.close()
    finally:
        stop_server(server)
    log = server_log(server)  # each worker's own log lines, with its number (they were lost)
    assert "[worker 0] start-up:" in log and "[worker 1] start-up:" in log, log[-2000:]
    assert "leaked semaphore" not in log, log[-2000:]
    assert any(state.glob("indexes/jobs-*.npz"))  # the primary saved the index files
    server = start_server(state, settings.caches, port, "--workers", "2")
    try:
        clients = _one_client_per_worker(base)
        # stopped cleanly: the store is as the files were saved, and nothing waits for worker 0
        assert "2 workers start together" in server_log(server)
        for worker, client in clients.items():
            assert _found(client, kept.json()["id"]) == (True, worker)
            assert not _found(client, job_id)[0]
            client.close()
        server.kill()  # the supervisor dies without a word: its workers stop with it
        server.wait()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/readyz", timeout=2)
            except httpx.ConnectError:
                break  # nobody holds the port: the next `matcher serve` can bind it
            time.sleep(0.5)
        else:
            raise AssertionError("the workers went on serving after their supervisor died")
    finally:
        stop_server(server)
