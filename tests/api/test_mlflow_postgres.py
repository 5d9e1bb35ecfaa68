"""The MLflow tracking server on PostgreSQL, for a team (issue 19): a real ``mlflow server``
on 127.0.0.1 whose backend store is a PostgreSQL database and whose artifacts it serves
itself; the project's own ranker pipeline logs, registers and gates a run through it, and the
run is in PostgreSQL's tables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from matcher.registry import RANKER_MODEL, configure
from matcher.settings import Settings
from matcher.training.pipelines import train_ranker
from tests.pgvector_server import pgvector_server
from tests.server import free_port

pytestmark = pytest.mark.slow


def test_the_ranker_pipeline_tracks_and_registers_through_a_server_on_postgresql(
    settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    import mlflow as tracking_client

    before = tracking_client.get_tracking_uri(), tracking_client.get_registry_uri()
    with pgvector_server() as url:
        port = free_port()
        mlflow = str(Path(sys.executable).with_name("mlflow"))
        log = open(tmp_path / "mlflow-server.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [mlflow, "server", "--backend-store-uri", url, "--artifacts-destination",
             (tmp_path / "artifacts").as_uri(), "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            tracking = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:  # 15-20 s on this machine (database migrations, then the app)
                assert server.poll() is None, (tmp_path / "mlflow-server.log").read_text()
                try:
                    if httpx.get(f"{tracking}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "mlflow server not healthy in 120 s"
                time.sleep(0.5)
            lab = Settings(state_dir=tmp_path / "state", cache_dir=settings.caches,
                           mlflow_uri=tracking, occupation_labels="preferred",
                           fairness_min_rbo=0.0, fairness_min_exposure_ratio=0.0,
                           fairness_max_map_gap=1.0)  # fmt: skip
            report = train_ranker(lab, preset="quick", say=lambda _: None)
            configure(tracking, lab.state_dir)
            from mlflow import MlflowClient

            client = MlflowClient(tracking_uri=tracking, registry_uri=tracking)
            run = client.get_run(report.run_id)
            assert "heldout.map" in {name.removeprefix("eval.") for name in run.data.metrics}
            assert run.data.tags["gate.decision"] in {"promoted", "refused"}
            versions = client.search_model_versions(f"name='{RANKER_MODEL}'")
            assert [str(v.version) for v in versions] == [report.version]
            # the server kept them in PostgreSQL, and the artifacts under its destination
            engine = create_engine(url)
            with engine.connect() as connection:
                runs = connection.execute(text("SELECT run_uuid FROM runs")).scalars().all()
                registered = connection.execute(
                    text("SELECT name FROM model_versions")).scalars().all()  # fmt: skip
            engine.dispose()
            assert runs == [report.run_id] and registered == [RANKER_MODEL]
            assert any((tmp_path / "artifacts").rglob("*")), "no artifact reached the server"
        finally:
            tracking_client.set_tracking_uri(before[0])  # the pipeline pointed MLflow here
            tracking_client.set_registry_uri(before[1])
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
            log.close()
