"""The benchmarks' smoke runs (small sizes): they run, and what they report holds. Timings are
printed, never asserted (a shared, noisy machine)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _smoke(script: str) -> subprocess.CompletedProcess[str]:
    """``bench/<script> --smoke``, which must exit 0."""
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--smoke"],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def test_bench_filters_smoke_prints_its_tables_with_exact_recall() -> None:
    run = _smoke("bench_filters.py")
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ") and "%" in line]
    assert len(rows) >= 6  # one per filter
    recalls = [float(line.rstrip(" |").rsplit("|", 1)[-1]) for line in rows]
    # every filter that allows rows finds its exact neighbours (recall@10 against numpy)
    assert all(r >= 0.95 for r, line in zip(recalls, rows) if not re.search(r"\| 0 \(", line))
    assert "save after 1,000 changes (1 segment)" in run.stdout


def test_bench_compressed_smoke_measures_each_structure_against_exact_search() -> None:
    run = _smoke("bench_compressed.py")
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ") and "nprobe" in line
            or line.startswith("| HNSW")]  # fmt: skip
    assert len(rows) == 4, run.stdout
    recalls = [float(line.rstrip(" |").rsplit("|", 1)[-1]) for line in rows]
    # compressed codes lose little at 20,000 rows: a broken structure or truth scores ~0
    assert all(r >= 0.9 for r in recalls), rows


def test_bench_pgvector_smoke_reports_each_filter_in_postgresql_beside_faiss() -> None:
    run = _smoke("bench_pgvector.py")
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ") and "%" in line]
    assert len(rows) == 6, run.stdout  # one per filter
    for line in rows:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        plan = cells[2].split(";")[0]
        assert plan in {"HNSW index (iterative scan)", "scan and sort",
                        "its rows by the GIN index, sorted"}, line  # EXPLAIN read  # fmt: skip
        assert float(cells[5]) >= 0.9, line  # recall@10 against the exact plan


def test_bench_batch_smoke_imports_and_embeds_on_both_engines() -> None:
    """A real import and re-embedding on one process and on a local Ray: the bench stops when
    the engines import different counts."""
    run = _smoke("bench_batch.py")
    assert "48 demo postings (48 imported)" in run.stdout, run.stdout
    rows = [line for line in run.stdout.splitlines()
            if line.startswith(("| import", "| re-embed"))]  # fmt: skip
    assert [line.split("|")[2].strip() for line in rows] == ["one process", "Ray Data"] * 2


def test_bench_serving_smoke_serves_every_cell_with_one_and_two_workers() -> None:
    """A real ``matcher serve`` with 1 and 2 workers: every recommendation, candidate search
    and bulk import of the run is answered 2xx (the bench stops at the first error)."""
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_serving.py"), "--smoke"],
        capture_output=True, text=True, timeout=1200, cwd=ROOT, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    cells = re.findall(r"^\| (\d) \| (recommendations|candidate search) \| (\d+) \|", run.stdout,
                       flags=re.MULTILINE)  # fmt: skip
    assert {(w, name) for w, name, _ in cells} == {
        (w, name) for w in "12" for name in ("recommendations", "candidate search")
    }
    assert len(re.findall(r"bulk ingest of 50 200-word postings", run.stdout)) == 3
