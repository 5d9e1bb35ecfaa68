"""Nothing is lost across restarts, and the index always agrees with the store."""


import logging

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from matcher.settings import IndexConfig
from matcher.store import Store
from tests.api.conftest import ACCOUNTING_JOB, api_settings, bearer
from tests.server import create_key, free_port, start_server, stop_server

pytestmark = pytest.mark.slow


def test_reconcile_repairs_an_index_that_missed_writes(settings, tmp_path):
    state = tmp_path / "state"
    with TestClient(create_app(api_settings(settings, state))) as client:
        service = client.app.state.service
        _, key = service.store.create_employer_key("Restart Co")
        kept = client.post("/v1/jobs", json=ACCOUNTING_JOB, headers=bearer(key)).json()
        gone = client.post(
            "/v1/jobs", json=dict(ACCOUNTING_JOB, title="Kế toán kho"), headers=bearer(key)
        ).json()
        unindexed = service.build_job(
            service.store.get_job(kept["id"]).model_copy(update={"title": "Kế toán thuế"}),
            employer_id=kept["employer_id"],
        )
        # The index write fails after the store took the write: the store changed, the index
        # did not, and the server carries on (then saves its indexes at shutdown).
        with pytest.raises(RuntimeError), service.runtime.writes:
            service.store.delete_job(gone["id"])
            service.store.add_jobs([unindexed])
            raise RuntimeError("the index write failed")
        assert gone["id"] in service.catalog.jobs and unindexed.id not in service.catalog.jobs
    with TestClient(create_app(api_settings(settings, state))) as client:
        catalog = client.app.state.service.catalog
        assert set(catalog.jobs.ids) == {kept["id"], unindexed.id}
        response = client.post(
            "/v1/recommendations/jobs", json={"profile": {"text": "kế toán thuế"}, "k": 10}
        )
        ids = [r["job"]["id"] for r in response.json()["results"]]
        assert gone["id"] not in ids and unindexed.id in ids


def test_a_restart_compares_the_records_only_when_the_store_changed(settings, tmp_path,
                                                                    caplog):  # fmt: skip
    """A restart with the store as the indexes were saved (its stamp unchanged) skips
    comparing every record and serves the same; a store changed while the server was down
    (another process, a script) is compared, and the change is served."""
    state = tmp_path / "state"
    caplog.set_level(logging.INFO, logger="matcher.api")

    def restarted() -> tuple[bool, list[str]]:
        caplog.clear()
        with TestClient(create_app(api_settings(settings, state))) as client:
            response = client.post(
                "/v1/recommendations/jobs", json={"profile": {"text": "kế toán thuế"}, "k": 10}
            )
            ids = [r["job"]["id"] for r in response.json()["results"]]
        reports = [r.getMessage() for r in caplog.records if "ReconcileReport" in r.getMessage()]
        assert len(reports) == 1, reports
        return "in_step=True" in reports[0], ids

    with TestClient(create_app(api_settings(settings, state))) as client:
        service = client.app.state.service
        _, key = service.store.create_employer_key("Stamp Co")
        kept = client.post("/v1/jobs", json=ACCOUNTING_JOB, headers=bearer(key)).json()
        edited = service.store.get_job(kept["id"]).model_copy(update={"title": "Kế toán thuế"})
        added = service.build_job(edited, employer_id=kept["employer_id"])
    in_step, ids = restarted()
    assert in_step and ids == [kept["id"]]
    in_step, ids = restarted()
    assert in_step and ids == [kept["id"]]
    other = Store(api_settings(settings, state).database_url)  # while the server is down
    other.add_jobs([added])
    other.close()
    in_step, ids = restarted()
    assert not in_step and set(ids) == {kept["id"], added.id}
    in_step, ids = restarted()  # compared once, saved with the new stamp
    assert in_step and set(ids) == {kept["id"], added.id}


def test_the_compressed_index_serves_filtered_recommendations_across_a_restart(settings,
                                                                             tmp_path):  # fmt: skip
    """``MATCHER_INDEX__ANN=compressed`` through the service: postings kept as 8-bit codes
    only are recommended under the service's filters (open, visible, province), by their
    lists, and again the same after a restart that loads the codes from the file."""
    state = tmp_path / "state"
    config = api_settings(settings, state).model_copy(
        update={"index": IndexConfig(exact_threshold=4, ann="compressed")})  # fmt: skip
    query = {"profile": {"text": "kế toán thuế"}, "k": 3, "filters": {"province": "Đà Nẵng"}}
    with TestClient(create_app(config)) as client:
        _, key = client.app.state.service.store.create_employer_key("Codes Co")
        posted = {}
        for title, province in [("Kế toán thuế", "Đà Nẵng"), ("Kế toán kho", "Đà Nẵng"),
                                ("Kế toán tổng hợp", "Hà Nội"), ("Điều dưỡng viên", "Đà Nẵng"),
                                ("Thợ hàn", "Đà Nẵng"), ("Kế toán thuế", "Huế")]:  # fmt: skip
            job = dict(ACCOUNTING_JOB, title=title, province=province)
            posted[title, province] = client.post("/v1/jobs", json=job,
                                                  headers=bearer(key)).json()["id"]  # fmt: skip
        jobs = client.app.state.service.catalog.jobs
        assert jobs.kind == "compressed" and jobs._buffer.nbytes == 0  # the codes only
        before = client.post("/v1/recommendations/jobs", json=query).json()["results"]
    ids = [r["job"]["id"] for r in before]
    assert ids[0] == posted["Kế toán thuế", "Đà Nẵng"]
    assert {r["job"]["province"] for r in before} == {"Đà Nẵng"}
    with TestClient(create_app(config)) as client:
        assert client.app.state.service.catalog.jobs.kind == "compressed"
        after = client.post("/v1/recommendations/jobs", json=query).json()["results"]
    assert [r["job"]["id"] for r in after] == ids


def test_lost_index_files_are_rebuilt_from_the_store(settings, tmp_path):
    state = tmp_path / "state"
    with TestClient(create_app(api_settings(settings, state))) as client:
        created = client.post(
            "/v1/candidates", json={"text": "điều dưỡng viên", "consent_to_be_found": True}
        ).json()
    for index_file in (state / "indexes").glob("*.npz"):
        index_file.unlink()
    with TestClient(create_app(api_settings(settings, state))) as client:
        assert created["candidate"]["id"] in client.app.state.service.catalog.candidates


def test_real_server_end_to_end_and_across_a_kill(settings, tmp_path):
    state, port = tmp_path / "state", free_port()
    key = create_key(state, settings.caches, "--employer", "E2E Co")
    server = start_server(state, settings.caches, port)
    base = f"http://127.0.0.1:{port}"
    try:
        job = httpx.post(f"{base}/v1/jobs", json=ACCOUNTING_JOB, headers=bearer(key), timeout=60)
        assert job.status_code == 201, job.text
        person = httpx.post(
            f"{base}/v1/candidates",
            json={"text": "kế toán, lập báo cáo tài chính", "consent_to_be_found": True},
            timeout=60,
        )
        assert person.status_code == 201
        ranked = httpx.post(
            f"{base}/v1/jobs/{job.json()['id']}/candidates", headers=bearer(key), timeout=60
        )
        assert ranked.status_code == 200 and ranked.json()["results"]
    finally:
        server.kill()  # no clean shutdown: the index file is not saved
        server.wait()
    server = start_server(state, settings.caches, port)
    try:
        again = httpx.get(f"{base}/v1/jobs/{job.json()['id']}", timeout=30)
        assert again.status_code == 200
        found = httpx.post(
            f"{base}/v1/recommendations/jobs",
            json={"profile": {"text": "kế toán tổng hợp"}},
            timeout=60,
        )
        assert job.json()["id"] in [r["job"]["id"] for r in found.json()["results"]]
    finally:
        stop_server(server)
    assert server.returncode is not None
