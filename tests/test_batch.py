"""Batch embedding of the whole store (issue 19) with the real model: the single-process
path and Ray Data (a real local Ray, an actor pool of encoder replicas) give the same vectors;
a job killed half-way embeds only what it lacks when run again; a pool Ray cannot place fails
in bounded time with a clear error; and the shards become the index the server reads."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pytest

from matcher.schemas import JobPosting
from matcher.search.catalog import Catalog, job_text
from matcher.services.batch import (
    BatchError,
    Manifest,
    build_index,
    embed_store,
    pool_size,
    read_shards,
)
from matcher.services.runtime import Runtime, index_dir
from matcher.settings import Settings
from matcher.store import Store

pytestmark = pytest.mark.slow
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)

TITLES = ["Kế toán tổng hợp", "Điều dưỡng viên", "Thợ hàn", "Giáo viên tiếng Anh",
          "Lái xe tải", "Nhân viên bán hàng", "Kỹ sư phần mềm", "Thủ kho"]  # fmt: skip


@pytest.fixture(scope="module")
def lab(settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A store of 20 postings in a state directory of its own."""
    state = tmp_path_factory.mktemp("batch-state")
    lab = Settings(state_dir=state, cache_dir=settings.caches, serve_champions=False)
    store = Store(lab.database_url)
    store.add_jobs([
        JobPosting(id=f"job-{i:02d}", title=TITLES[i % len(TITLES)],
                   description=f"Vị trí số {i}: {TITLES[(i * 3) % len(TITLES)].lower()}.",
                   province=["Hà Nội", "Nghệ An", "Đà Nẵng"][i % 3],
                   created_at=NOW, updated_at=NOW)
        for i in range(20)
    ])  # fmt: skip
    store.close()
    yield lab
    import ray

    if ray.is_initialized():
        ray.shutdown()


def _vectors(directory) -> tuple[list[str], np.ndarray]:  # type: ignore[no-untyped-def]
    ids, parts = [], []
    for shard_ids, vectors in read_shards(directory):
        ids += shard_ids
        parts.append(vectors)
    return ids, np.concatenate(parts)


def test_ray_and_one_process_give_the_same_vectors(lab, tmp_path) -> None:  # type: ignore[no-untyped-def]
    local = embed_store(lab, "jobs", tmp_path / "local", shard_rows=6)
    on_ray = embed_store(lab, "jobs", tmp_path / "ray", engine="ray", shard_rows=6,
                         wait_seconds=120)  # fmt: skip
    assert local.complete and on_ray.complete and local.shard_count == 4  # 6 + 6 + 6 + 2
    ids, vectors = _vectors(tmp_path / "local")
    ray_ids, ray_vectors = _vectors(tmp_path / "ray")
    assert ids == ray_ids == [f"job-{i:02d}" for i in range(20)]
    np.testing.assert_allclose(ray_vectors, vectors, atol=1e-5)
    # what the server itself embeds for a posting
    encoder = Runtime(lab).load_encoder(local.model)
    store = Store(lab.database_url)
    [job] = store.iter_jobs({"job-07"})
    store.close()
    np.testing.assert_allclose(vectors[7], encoder.encode([job_text(job)], kind="passage")[0],
                               atol=1e-5)  # fmt: skip


def test_a_job_stopped_half_way_embeds_only_the_rest_when_run_again(lab, tmp_path) -> None:  # type: ignore[no-untyped-def]
    class Killed(Exception):
        pass

    def killed_after_two(done: int, total: int) -> None:
        if done == 2:
            raise Killed

    with pytest.raises(Killed):
        embed_store(lab, "jobs", tmp_path / "job", shard_rows=6, progress=killed_after_two)
    assert sorted(Manifest.read(tmp_path / "job").shards) == ["shard-00000.npz",
                                                               "shard-00001.npz"]  # fmt: skip
    with pytest.raises(BatchError, match="no complete"):
        list(read_shards(tmp_path / "job"))
    resumed: list[int] = []
    embed_store(lab, "jobs", tmp_path / "job", shard_rows=6,
                progress=lambda done, total: resumed.append(done))  # fmt: skip
    assert resumed == [3, 4]  # the two shards it lacked, no more
    embed_store(lab, "jobs", tmp_path / "whole", shard_rows=6)
    np.testing.assert_array_equal(_vectors(tmp_path / "job")[1], _vectors(tmp_path / "whole")[1])
    # another job's directory is refused, not mixed
    with pytest.raises(BatchError, match="another job"):
        embed_store(lab, "jobs", tmp_path / "job", shard_rows=5)


def test_a_pool_ray_cannot_place_fails_in_bounded_time(lab, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert pool_size(2) == 1 and pool_size(16) == 15 and pool_size(1) == 1
    started = time.monotonic()
    with pytest.raises(BatchError, match="could not start 1 encoder replica"):
        embed_store(lab, "jobs", tmp_path / "big", engine="ray", shard_rows=6,
                    replica_cpus=64, wait_seconds=10)  # fmt: skip
    assert time.monotonic() - started < 120


def test_the_shards_become_the_index_the_server_reads(lab, tmp_path) -> None:  # type: ignore[no-untyped-def]
    manifest = embed_store(lab, "jobs", tmp_path / "built", shard_rows=6)
    assert build_index(lab, "jobs", tmp_path / "built") == 20
    encoder = Runtime(lab).load_encoder(manifest.model)
    store = Store(lab.database_url)
    catalog = Catalog(store, encoder, index_dir(lab), lab.index)  # what a start-up loads
    assert sorted(catalog.jobs.ids) == [f"job-{i:02d}" for i in range(20)]
    assert catalog.reconcile().added == 0  # nothing left for the server to embed
    [hits] = catalog.jobs.search(encoder.encode(["thợ hàn"]), 3)
    assert "Thợ hàn" in [store.get_job(h.id).title for h in hits]
    store.close()


def test_the_command_line_embeds_resumes_and_indexes(lab, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys
    from pathlib import Path

    matcher = str(Path(sys.executable).with_name("matcher"))
    env = {**os.environ, "MATCHER_STATE_DIR": str(lab.state_dir),
           "MATCHER_CACHE_DIR": str(lab.caches), "MATCHER_SERVE_CHAMPIONS": "false"}  # fmt: skip

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([matcher, "batch", *args], env=env, capture_output=True,
                              text=True, timeout=600, check=False)  # fmt: skip

    done = run("embed", str(tmp_path / "cli"), "--shard-rows", "8", "--json")
    assert done.returncode == 0, done.stderr
    assert '"rows": 20' in done.stdout and "shard 3/3" in done.stderr  # progress, per shard
    assert run("index", str(tmp_path / "cli")).stdout.strip() == "20 jobs indexed"
    wrong = run("embed", str(tmp_path / "cli"), "--kind", "postings")
    assert wrong.returncode == 2 and "--kind is jobs or candidates" in wrong.stderr
    other = run("embed", str(tmp_path / "cli"), "--shard-rows", "5")
    assert other.returncode == 3 and "holds another job" in other.stderr
