"""The `matcher` command as a user runs it: a real process, real model, real data."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

MATCHER = str(Path(sys.executable).with_name("matcher"))


def run(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None):
    return subprocess.run(
        [MATCHER, *args],
        input=stdin,
        check=False,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def one_line_error(result) -> str:
    lines = result.stderr.decode().strip().splitlines()
    assert lines and lines[-1].startswith("error: "), result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
    return lines[-1]


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (["occupations", "   "], None, "empty"),
        (["occupations", "x" * 20_001], None, "20,000"),
        (["skills", "-"], b"\xff\xfe CV", "not valid UTF-8"),
        (["occupations", "nurse", "-k", "0"], None, "at least 1"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(args, stdin, expected):
    result = run(*args, stdin=stdin)
    assert result.returncode == 2
    assert expected in one_line_error(result)


def test_unknown_model_gives_one_line_and_exit_2():
    result = run("occupations", "nurse", env={"MATCHER_MODEL": "no-such-model"})
    assert result.returncode == 2
    assert "unknown model 'no-such-model'" in one_line_error(result)


def test_missing_data_dir_says_where_the_data_is_expected(tmp_path):
    result = run("occupations", "nurse", env={"MATCHER_DATA_DIR": str(tmp_path / "missing")})
    assert result.returncode == 3
    line = one_line_error(result)
    assert str(tmp_path / "missing") in line and "MATCHER_DATA_DIR" in line


@pytest.mark.slow
def test_occupations_json():
    result = run("occupations", "giáo viên tiểu học", "-k", "3", "--json")
    assert result.returncode == 0, result.stderr.decode()
    matches = json.loads(result.stdout)
    assert len(matches) == 3 and {"uri", "label", "score"} <= set(matches[0])
    assert "primary school teacher" in [m["label"] for m in matches]


@pytest.mark.slow
def test_batch_answers_every_line_in_order_and_reports_bad_lines(tmp_path):
    batch = tmp_path / "queries.jsonl"
    batch.write_text(
        '"accountant"\n{"text": "thợ hàn", "k": 2}\n{"text": ""}\nnot json\n"kế toán viên"\n',
        encoding="utf-8",
    )
    result = run("occupations", "--batch", str(batch), "-k", "3")
    assert result.returncode == 1  # some lines failed, and all were answered
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [line["line"] for line in lines] == [1, 2, 3, 4, 5]
    assert lines[0]["results"][0]["label"] == "accountant"
    assert len(lines[1]["results"]) == 2
    assert lines[2]["error"]["code"] == "empty_text"
    assert lines[3]["error"]["code"] == "invalid_input"
    assert "accountant" in [m["label"] for m in lines[4]["results"]]


@pytest.mark.slow
def test_skills_json_has_evidence():
    result = run("skills", "Thành thạo Excel, sơ cứu và lái xe nâng", "--json")
    assert result.returncode == 0, result.stderr.decode()
    skills = json.loads(result.stdout)
    assert {"uri", "label", "score", "evidence"} <= set(skills[0])
    labels = [s["label"] for s in skills]
    assert "operate forklift" in labels and "provide first aid" in labels


@pytest.mark.slow
def test_embed_writes_normalised_vectors_in_input_order(tmp_path):
    output = tmp_path / "vectors.npy"
    texts = "kế toán viên\nwelder\nkế toán viên\n"
    result = run("embed", "--kind", "passage", "-o", str(output), stdin=texts.encode())
    assert result.returncode == 0, result.stderr.decode()
    vectors = np.load(output)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[0], vectors[2], atol=1e-6)
    assert float(vectors[0] @ vectors[1]) < 0.99


@pytest.mark.slow
def test_evaluate_on_a_slice_of_the_dev_sets(tmp_path):
    report = tmp_path / "evaluation.md"
    result = run("evaluate", "--limit", "30", "--output", str(report), "--json")
    assert result.returncode == 0, result.stderr.decode()
    results = json.loads(result.stdout)
    tasks = {r["task"] for r in results}
    assert {"title normalisation", "skill extraction", "Vietnamese skill synonyms",
            "transitions (default weights)"} <= tasks  # fmt: skip
    titles = next(r for r in results if r["task"] == "title normalisation")
    assert titles["n"] == 30 and 0.2 < titles["metrics"]["mrr@10"] <= 1.0
    transitions = next(r for r in results if r["task"] == "transitions (default weights)")
    assert transitions["n"] == 30 and 0.3 < transitions["metrics"]["mrr@10"] <= 1.0
    assert "| title normalisation |" in report.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["train", "encoder", "--merge-ratio", "2"], "less than or equal to 1"),
        (["train", "encoder", "--steps", "many"], "valid integer"),
    ],
)
def test_a_bad_option_value_is_a_usage_error_not_a_traceback(args, expected):
    result = run(*args)
    err = result.stderr.decode()
    assert result.returncode == 2
    assert expected in err and "Traceback" not in err
    assert "--help" in err
