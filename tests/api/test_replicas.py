"""API replicas on a shared PostgreSQL store (issue 19): two real server processes on
127.0.0.1, on different ports. With pgvector they search one set of vector tables, so a write
accepted by one is searchable on the other at once. Without it (``MATCHER_REPLICA``: FAISS
followers), each keeps its own index files and applies the other's logged changes, so a write
is searchable on the other within the follow delay, and both end with the same index."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.main import create_app
from matcher.settings import IndexConfig
from matcher.store import Store
from tests.api.conftest import ACCOUNTING_JOB, api_settings, bearer
from tests.pgvector_server import pgvector_server
from tests.server import free_port, server_log, start_server, stop_server

pytestmark = pytest.mark.slow


@contextmanager
def _two_replicas(settings, tmp_path, url: str, env: dict[str, str], *,  # type: ignore[no-untyped-def]
                  slow_first: dict[str, str] | None = None) -> Iterator[tuple[str, str, dict[str, str]]]:  # fmt: skip
    """Two ``matcher serve`` on 127.0.0.1 (state directories ``a`` and ``b``) on the store
    ``url`` with the environment ``env`` (the first also with ``slow_first``); yields their
    addresses and an employer's headers, and stops both."""
    first, second = free_port(), free_port()
    servers = [start_server(tmp_path / "a", settings.caches, first, **env, **(slow_first or {}))]
    try:
        servers.append(start_server(tmp_path / "b", settings.caches, second, **env))
        store = Store(url)
        _, key = store.create_employer_key("Replica Co")
        store.close()
        yield (f"http://127.0.0.1:{first}", f"http://127.0.0.1:{second}",
               {"Authorization": f"Bearer {key}"})  # fmt: skip
    except AssertionError:
        print(server_log(servers[-1])[-3000:])
        raise
    finally:
        for server in servers:
            stop_server(server)


def test_two_replicas_serve_each_others_writes_at_once(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    query = {"profile": {"text": "kế toán thuế, kê khai thuế"}, "k": 5}
    with pgvector_server() as url:
        env = {"MATCHER_STORE_URL": url, "MATCHER_INDEX__BACKEND": "pgvector"}
        with _two_replicas(settings, tmp_path, url, env) as (a, b, headers):
            job = dict(ACCOUNTING_JOB, title="Kế toán thuế")
            posted = httpx.post(f"{a}/v1/jobs", json=job, headers=headers, timeout=60)
            assert posted.status_code == 201, posted.text
            job_id = posted.json()["id"]
            # no wait: the other replica searches the table the first one wrote
            found = httpx.post(f"{b}/v1/recommendations/jobs", json=query, timeout=60).json()
            assert job_id in [r["job"]["id"] for r in found["results"]]
            assert found["results"][0]["job"]["title"] == "Kế toán thuế"

            gone = httpx.delete(f"{b}/v1/jobs/{job_id}", headers=headers, timeout=60)
            assert gone.status_code == 204, gone.text
            found = httpx.post(f"{a}/v1/recommendations/jobs", json=query, timeout=60).json()
            assert job_id not in [r["job"]["id"] for r in found["results"]]
            # the vectors are in PostgreSQL, not in index files beside either replica
            assert not list(tmp_path.glob("*/indexes/*.npz")), list(tmp_path.rglob("*.npz"))
            engine = create_engine(url)
            with engine.connect() as connection:
                tables = connection.execute(text(
                    "SELECT tablename FROM pg_tables WHERE tablename LIKE 'vectors_jobs_%'"
                )).scalars().all()  # fmt: skip
                assert len(tables) == 1
                held = connection.execute(text(f"SELECT id FROM {tables[0]}")).scalars().all()
            engine.dispose()
            assert job_id not in held


def _ranked(base: str, query: dict) -> list[tuple[str, float]]:  # type: ignore[type-arg]
    found = httpx.post(f"{base}/v1/recommendations/jobs", json=query, timeout=60)
    assert found.status_code == 200, found.text
    return [(r["job"]["id"], round(r["score"], 5)) for r in found.json()["results"]]


def _seconds_until(check, limit: float = 10.0) -> float:  # type: ignore[no-untyped-def]
    """How long ``check()`` took to become true (polled every 20 ms), failing past ``limit``."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < limit, f"not true after {limit} s"
        time.sleep(0.02)
    return time.monotonic() - started


def test_faiss_replicas_follow_each_others_writes(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    query = {"profile": {"text": "kế toán thuế, kê khai thuế"}, "k": 10}
    with pgvector_server() as url:  # PostgreSQL as the shared store only
        env = {"MATCHER_STORE_URL": url, "MATCHER_REPLICA": "true",
               "MATCHER_INDEX_SAVE_SECONDS": "1"}  # fmt: skip
        # A's writes pause 1.5 s between the store and the index
        slow = {"MATCHER_FAULT_POINT": "store-to-index", "MATCHER_FAULT_PAUSE_S": "1.5"}
        with _two_replicas(settings, tmp_path, url, env, slow_first=slow) as (a, b, headers):
            delays, ids = [], []
            for number, (writer, reader) in enumerate([(a, b), (b, a), (a, b)]):
                job = dict(ACCOUNTING_JOB, title=f"Kế toán thuế {number}")
                posted = httpx.post(f"{writer}/v1/jobs", json=job, headers=headers, timeout=60)
                assert posted.status_code == 201, posted.text
                ids.append(posted.json()["id"])
                delays.append(_seconds_until(
                    lambda: ids[-1] in dict(_ranked(reader, query))))  # noqa: B023  # fmt: skip
            print(f"FAISS follower delays: {[f'{d:.2f}' for d in delays]} s")

            # A edits a posting; while its edit sits between the store and its index, B edits
            # the same posting. The advisory lock makes B's write wait for A's, so both
            # replicas apply the two edits in the store's order. Without it both kept A's
            # edit, which the store had overwritten with B's.
            def edit(base: str, title: str) -> None:
                body = dict(ACCOUNTING_JOB, title=title)
                answer = httpx.put(f"{base}/v1/jobs/{ids[0]}", json=body, headers=headers,
                                   timeout=60)  # fmt: skip
                assert answer.status_code == 200, answer.text

            def stored_title() -> str:
                return str(httpx.get(f"{b}/v1/jobs/{ids[0]}", timeout=60).json()["title"])

            for turn in range(2):
                first_edit = threading.Thread(target=edit, args=(a, f"Kế toán kho {turn}"))
                first_edit.start()
                _seconds_until(lambda: stored_title() == f"Kế toán kho {turn}")  # noqa: B023
                edit(b, f"Giáo viên toán {turn}")
                first_edit.join()
            assert stored_title() == "Giáo viên toán 1"
            # both hold the store's last edit: the edited posting scores as a new posting with
            # the same content does, on each replica
            title = httpx.get(f"{a}/v1/jobs/{ids[0]}", timeout=60).json()["title"]
            twin = httpx.post(f"{b}/v1/jobs", json=dict(ACCOUNTING_JOB, title=title),
                              headers=headers, timeout=60).json()["id"]  # fmt: skip
            for base in (a, b):
                _seconds_until(lambda: twin in dict(_ranked(base, query)))  # noqa: B023
                scores = dict(_ranked(base, query))
                assert scores[ids[0]] == scores[twin], (base, title, scores)
            assert _ranked(a, query) == _ranked(b, query)

            gone = httpx.delete(f"{b}/v1/jobs/{ids[1]}", headers=headers, timeout=60)
            assert gone.status_code == 204, gone.text
            _seconds_until(lambda: ids[1] not in [i for i, _ in _ranked(a, query)])
            # a model reload would swap the models of one replica only: restart them all
            store = Store(url)
            admin = {"Authorization": f"Bearer {store.create_admin_key()}"}
            store.close()
            reload = httpx.post(f"{a}/v1/admin/reload", headers=admin, timeout=60)
            assert reload.status_code == 409 and "restart every replica" in reload.text
            # each replica keeps index files of its own
            _seconds_until(lambda: all(list((tmp_path / r / "indexes").glob("jobs-*.npz"))
                                       for r in "ab"))  # fmt: skip


def test_a_write_the_pgvector_index_missed_is_repaired_at_the_next_start(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The store and the vector table are two transactions: a posting stored whose vector
    write failed (a crash between them) is embedded at the next start, and one removed from
    the store but not from the table is dropped; searches then agree with the store."""
    query = {"profile": {"text": "kế toán thuế"}, "k": 10}
    with pgvector_server() as url:
        config = api_settings(settings, tmp_path / "state").model_copy(update={
            "store_url": url, "index": IndexConfig(backend="pgvector")})  # fmt: skip
        with TestClient(create_app(config)) as client:
            service = client.app.state.service
            _, key = service.store.create_employer_key("Crash Co")
            kept = client.post("/v1/jobs", json=ACCOUNTING_JOB, headers=bearer(key)).json()
            gone = client.post("/v1/jobs", json=dict(ACCOUNTING_JOB, title="Kế toán kho"),
                               headers=bearer(key)).json()  # fmt: skip
            missed = service.build_job(
                service.store.get_job(kept["id"]).model_copy(update={"title": "Kế toán thuế"}),
                employer_id=kept["employer_id"],
            )
            with pytest.raises(RuntimeError), service.runtime.writes:
                service.store.delete_job(gone["id"])
                service.store.add_jobs([missed])
                raise RuntimeError("the vector write failed")
            jobs = service.catalog.jobs
            assert gone["id"] in jobs and missed.id not in jobs  # the table lags the store
        with TestClient(create_app(config)) as client:
            jobs = client.app.state.service.catalog.jobs
            assert jobs.kind == "pgvector" and sorted(jobs.ids) == sorted([kept["id"], missed.id])
            found = client.post("/v1/recommendations/jobs", json=query).json()["results"]
            ids = [r["job"]["id"] for r in found]
            assert missed.id in ids and gone["id"] not in ids
