"""Bulk import of postings from files (issue 19) with the real model, store and FAISS index:
one process and Ray Data (a real local Ray, an actor pool of builders) store the same postings
with the same vectors; bad rows are reported with their file and line while the rest go in;
a scam is stored and held, not indexed; a job stopped half-way stores nothing twice when run
again; and a file that cannot be read leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matcher.errors import InvalidInputError, NotFoundError
from matcher.search.catalog import Catalog, job_text
from matcher.services.batch import Manifest, read_shards
from matcher.services.bulk import import_postings, plan
from matcher.services.runtime import Runtime, index_dir
from matcher.settings import Settings
from matcher.store import Store

pytestmark = pytest.mark.slow

TITLES = ["Kế toán tổng hợp", "Điều dưỡng viên", "Thợ hàn", "Giáo viên tiếng Anh",
          "Lái xe tải", "Nhân viên bán hàng", "Kỹ sư phần mềm", "Thủ kho"]  # fmt: skip
SCAM = {"title": "Tuyển lao động đi Lào làm nhà máy, lương cao", "country": "LA",
        "description": "Bao đậu visa 100%, bay sau 2 tuần. Chi phí trọn gói 180 triệu, đặt cọc "
                       "30 triệu giữ suất. Liên hệ Zalo 0912 345 678."}  # fmt: skip


def _jsonl(path: Path) -> Path:
    """22 lines: 18 good postings (one a scam, on line 6), a blank line, a line that is not JSON
    (11), a row without a title (12), and a programme tag only an operator may use (21)."""
    lines = [json.dumps({"title": TITLES[i % 8], "province": ["Hà Nội", "Nghệ An"][i % 2],
                         "description": f"Vị trí số {i}: {TITLES[(i * 3) % 8].lower()}."},
                        ensure_ascii=False) for i in range(17)]  # fmt: skip
    lines[5] = json.dumps(SCAM, ensure_ascii=False)
    lines[9:9] = ["", "{not json", json.dumps({"description": "no title"})]
    lines.append(json.dumps({"title": "Công nhân sản xuất", "programme": "eps-korea-manufacturing"}))
    lines.append(json.dumps({"title": "Thợ hàn ống", "province": "Hải Phòng"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _csv(path: Path) -> Path:
    """A header and 5 rows: a description over lines 3 and 4 (quoted), and a salary that is not
    a number on line 6."""
    path.write_text(
        "title,province,description,salary_min\n"
        "Thợ điện,Đà Nẵng,Lắp đặt điện dân dụng,8000000\n"
        'Kế toán viên,Hà Nội,"Lập báo cáo thuế,\nđối chiếu công nợ",12000000\n'
        "Phục vụ nhà hàng,Khánh Hòa,Phục vụ khách du lịch,\n"
        "Bảo vệ,Hà Nội,Tuần tra,không rõ\n"
        "Thợ may,Nghệ An,May công nghiệp,7000000\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def lab(settings, tmp_path):  # type: ignore[no-untyped-def]
    """An empty state directory of its own, sharing the model caches."""
    return Settings(state_dir=tmp_path / "state", cache_dir=settings.caches,
                    serve_champions=False)  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _ray_down():  # type: ignore[no-untyped-def]
    yield
    import ray

    if ray.is_initialized():
        ray.shutdown()


def _employer(lab: Settings) -> str:
    """An employer of the lab's store (not a programme operator)."""
    store = Store(lab.database_url)
    try:
        return store.create_employer_key("Công ty An Phát")[0]
    finally:
        store.close()


def _stored(lab: Settings) -> dict[str, str]:
    store = Store(lab.database_url)
    try:
        return {job.id: job.title for job in store.iter_jobs()}
    finally:
        store.close()


def _shard_vectors(directory: Path) -> dict[str, np.ndarray]:
    return {i: v for ids, vectors in read_shards(directory) for i, v in zip(ids, vectors)}


def test_one_process_and_ray_import_the_same_postings(lab, tmp_path) -> None:  # type: ignore[no-untyped-def]
    files = [_jsonl(tmp_path / "postings.jsonl"), _csv(tmp_path / "more.csv")]
    report = import_postings(lab, files, tmp_path / "local", shard_rows=4,
                             employer_id=_employer(lab))  # fmt: skip
    # 21 JSON rows + 5 CSV rows; refused: not JSON, no title, the tag, the salary
    assert (report.files, report.rows, report.imported, report.held) == (2, 26, 22, 1)
    refused = [(Path(e.path).name, e.line) for e in report.errors]
    assert refused == [("more.csv", 6), ("postings.jsonl", 11), ("postings.jsonl", 12),
                       ("postings.jsonl", 21)], report.errors  # fmt: skip
    assert "programme" in report.errors[-1].message and "operator" in report.errors[-1].message
    stored = _stored(lab)
    assert len(stored) == 22 and "Kế toán viên" in stored.values()

    other = Settings(state_dir=tmp_path / "state-ray", cache_dir=lab.caches,
                     serve_champions=False)  # fmt: skip
    on_ray = import_postings(other, files, tmp_path / "ray", engine="ray", shard_rows=4,
                             employer_id=_employer(other))  # fmt: skip
    assert on_ray.as_dict() | {"errors": []} == report.as_dict() | {"errors": []}
    assert on_ray.errors == report.errors
    assert _stored(other) == stored  # the same ids: derived from the file and the line
    local, ray = _shard_vectors(tmp_path / "local"), _shard_vectors(tmp_path / "ray")
    assert sorted(local) == sorted(ray)
    assert len(set(local) - set(stored)) == 1  # built, then refused its programme tag
    for posting_id, vector in local.items():
        np.testing.assert_allclose(ray[posting_id], vector, atol=1e-5)

    # what a server loads at start-up: every posting but the scam, nothing left to embed,
    # and the vectors are those the server itself computes for a posting
    rt = Runtime(lab)
    store = Store(lab.database_url)
    catalog = Catalog(store, rt.parts.encoder, index_dir(lab), lab.index)
    scam = next(i for i, title in stored.items() if title == SCAM["title"])
    assert sorted(catalog.jobs.ids) == sorted(set(stored) - {scam})
    assert store.review(scam).status == "held"
    assert catalog.reconcile().added == 0
    [job] = store.iter_jobs({next(i for i, t in stored.items() if t == "Kế toán viên")})
    assert "đối chiếu công nợ" in job.description  # the quoted line break survived
    np.testing.assert_allclose(local[job.id], rt.parts.encoder.encode([job_text(job)],
                                                                      kind="passage")[0],
                               atol=1e-5)  # fmt: skip
    [hits] = catalog.jobs.search(rt.parts.encoder.encode(["thợ hàn"]), 3)
    assert "Thợ hàn" in [store.get_job(h.id).title for h in hits][:2]
    store.close()


def test_a_stopped_import_stores_nothing_twice_when_run_again(lab, tmp_path) -> None:  # type: ignore[no-untyped-def]
    files, employer = [_jsonl(tmp_path / "postings.jsonl")], _employer(lab)

    class Killed(Exception):
        pass

    def killed(stage: str, done: int, total: int) -> None:
        if stage == "built" and done == 3:  # shards 1 and 2 stored, the index not yet saved
            raise Killed

    with pytest.raises(Killed):
        import_postings(lab, files, tmp_path / "job", shard_rows=4, progress=killed,
                        employer_id=employer)  # fmt: skip
    manifest = Manifest.read(tmp_path / "job")
    assert len(manifest.shards) == 3 and manifest.stored == {}
    assert len(_stored(lab)) == 8  # two shards' postings are in the store
    stages: list[tuple[str, int]] = []
    report = import_postings(lab, files, tmp_path / "job", shard_rows=4, employer_id=employer,
                             progress=lambda stage, done, total: stages.append((stage, done)))  # fmt: skip
    assert ("built", 4) in stages and ("built", 3) not in stages  # only the shards it lacked
    assert (report.imported, report.already, report.held) == (10, 8, 1)
    stored = _stored(lab)
    assert len(stored) == 18
    store = Store(lab.database_url)
    catalog = Catalog(store, Runtime(lab).parts.encoder, index_dir(lab), lab.index)
    assert len(catalog.jobs) == 17 and catalog.reconcile().added == 0  # every posting but the scam
    store.close()
    # the same file again, in a new job: every posting is already there
    again = import_postings(lab, files, tmp_path / "again", shard_rows=4,
                            employer_id=employer)  # fmt: skip
    assert (again.imported, again.already) == (0, 18) and len(_stored(lab)) == 18


def test_a_file_that_cannot_be_read_leaves_nothing_behind(lab, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes('{"title": "Thợ hàn"}\n{"title": "Kế toán"}\n'.encode() +
                    '{"title": "Café"}\n'.encode("latin-1"))  # line 3 is Latin-1
    with pytest.raises(InvalidInputError, match="not valid UTF-8 at line 3"):
        import_postings(lab, [_jsonl(tmp_path / "good.jsonl"), bad], tmp_path / "job")
    no_title = tmp_path / "no-title.csv"
    no_title.write_text("name,province\nThợ hàn,Hà Nội\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="'title' column"):
        import_postings(lab, [no_title], tmp_path / "job")
    (tmp_path / "empty.csv").write_text("title,province\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="no rows"):
        import_postings(lab, [tmp_path / "empty.csv"], tmp_path / "job")
    with pytest.raises(InvalidInputError, match=".jsonl or .ndjson"):
        import_postings(lab, [tmp_path / "postings.xlsx"], tmp_path / "job")
    with pytest.raises(NotFoundError, match="employer nobody does not exist"):
        import_postings(lab, [no_title], tmp_path / "job", employer_id="nobody")
    assert _stored(lab) == {}


def test_pieces_are_byte_ranges_that_never_split_a_row(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pieces, _, rows = plan([_csv(tmp_path / "a.csv"), _jsonl(tmp_path / "b.jsonl")], 2)
    assert rows == 26 and [p.rows for p in pieces] == [2, 2, 1] + [2] * 10 + [1]
    data = (tmp_path / "a.csv").read_bytes()
    second = data[pieces[1].offset : pieces[1].offset + pieces[1].length].decode()
    assert second.startswith("Phục vụ nhà hàng") and second.endswith("không rõ\n")
    assert (pieces[1].first_line, pieces[3].first_line) == (5, 1)


def test_the_command_line_imports_and_reports(lab, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    matcher = str(Path(sys.executable).with_name("matcher"))
    env = {**os.environ, "MATCHER_STATE_DIR": str(lab.state_dir),
           "MATCHER_CACHE_DIR": str(lab.caches), "MATCHER_SERVE_CHAMPIONS": "false"}  # fmt: skip
    done = subprocess.run([matcher, "batch", "import", str(tmp_path / "job"),
                           str(_csv(tmp_path / "p.csv")), "--shard-rows", "2", "--json"],
                          env=env, capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["imported"] == 4 and report["errors"][0]["line"] == 6
    assert "stored 3/3" in done.stderr
    assert len(_stored(lab)) == 4
