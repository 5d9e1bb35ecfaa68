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


def test_bench_filters_smoke_prints_its_tables_with_exact_recall() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_filters.py"), "--smoke"],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ") and "%" in line]
    assert len(rows) >= 6  # one per filter
    recalls = [float(line.rstrip(" |").rsplit("|", 1)[-1]) for line in rows]
    # every filter that allows rows finds its exact neighbours (recall@10 against numpy)
    assert all(r >= 0.95 for r, line in zip(recalls, rows) if not re.search(r"\| 0 \(", line))
    assert "save after 1,000 changes (1 segment)" in run.stdout


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
