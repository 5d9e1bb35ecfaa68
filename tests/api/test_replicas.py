"""API replicas on PostgreSQL + pgvector (issue 19): two real server processes on 127.0.0.1,
on different ports, one store and one set of vector tables. A write accepted by one is
searchable on the other at once, because both search the same table."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import create_engine, text

from matcher.store import Store
from tests.api.conftest import ACCOUNTING_JOB
from tests.pgvector_server import pgvector_server
from tests.server import free_port, server_log, start_server, stop_server

pytestmark = pytest.mark.slow


def test_two_replicas_serve_each_others_writes_at_once(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    query = {"profile": {"text": "kế toán thuế, kê khai thuế"}, "k": 5}
    with pgvector_server() as url:
        env = {"MATCHER_STORE_URL": url, "MATCHER_INDEX__BACKEND": "pgvector"}
        first, second = free_port(), free_port()
        servers = [start_server(tmp_path / "a", settings.caches, first, **env)]
        try:
            servers.append(start_server(tmp_path / "b", settings.caches, second, **env))
            store = Store(url)
            _, key = store.create_employer_key("Replica Co")
            store.close()
            headers = {"Authorization": f"Bearer {key}"}
            a, b = f"http://127.0.0.1:{first}", f"http://127.0.0.1:{second}"

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
        except AssertionError:
            print(server_log(servers[-1])[-3000:])
            raise
        finally:
            for server in servers:
                stop_server(server)
