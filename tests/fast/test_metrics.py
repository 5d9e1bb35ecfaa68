"""/metrics through prometheus_client: one worker's counts and gauges, and several worker
processes summed in multiprocess mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from api.metrics import Metrics
from matcher.settings import PROJECT_ROOT

WORKER = """
from api.metrics import Metrics
metrics = Metrics(lambda: [])
for _ in range({n}):
    metrics.observe("GET", "/v1/jobs/{{job_id}}", 200, 0.02)
"""
SCRAPE = """
import sys
from api.metrics import Metrics
sys.stdout.write(Metrics(lambda: [("matcher_index_jobs", "Postings.", 7.0, {})]).render().decode())
"""


def test_one_worker_counts_requests_and_reports_gauges() -> None:
    metrics = Metrics(lambda: [("matcher_model_info", "Model.", 1.0, {"model": "e5"})])
    metrics.observe("POST", "/v1/jobs", 201, 0.3)
    metrics.observe("POST", "/v1/jobs", 201, 0.01)
    text = metrics.render().decode()
    assert 'matcher_requests_total{method="POST",route="/v1/jobs",status="201"} 2.0' in text
    assert 'matcher_request_seconds_bucket{le="0.25",method="POST",route="/v1/jobs"} 1.0' in text
    assert 'matcher_model_info{model="e5"} 1.0' in text


def _python(code: str, env: dict[str, str]) -> str:
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT, check=True,
                          capture_output=True, text=True, timeout=60).stdout  # fmt: skip


def test_several_worker_processes_are_summed(tmp_path: Path) -> None:
    env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(PROJECT_ROOT)}
    _python(WORKER.format(n=2), env)
    _python(WORKER.format(n=3), env)
    text = _python(SCRAPE, env)
    assert 'matcher_requests_total{method="GET",route="/v1/jobs/{job_id}",status="200"} 5.0' in text
    assert "matcher_index_jobs 7.0" in text
