import pytest

from matcher.ranking.metrics import average_precision, ndcg_at_k, r_precision, reciprocal_rank
from matcher.training.evaluation import RESULTS_END, RESULTS_START, EvalResult, write_report


@pytest.mark.parametrize(
    ("ranked", "relevant", "expected"),
    [(["a", "b", "c"], "a", 1.0), (["a", "b", "c"], "c", 1 / 3), (["a", "b"], "z", 0.0)],
)
def test_reciprocal_rank(ranked, relevant, expected):
    assert reciprocal_rank(ranked, relevant) == pytest.approx(expected)


def test_reciprocal_rank_ignores_hits_beyond_k():
    assert reciprocal_rank(list("abcdefghijk"), "k", k=10) == 0.0


def test_r_precision_uses_the_smaller_of_k_and_the_gold_size():
    assert r_precision(["a", "x", "b"], {"a", "b"}, k=5) == 0.5
    assert r_precision(["a", "b", "c", "d", "e", "f"], set("abcdefg"), k=5) == 1.0
    with pytest.raises(ValueError, match="relevant"):
        r_precision(["a"], set())


def test_average_precision_and_ndcg_on_a_known_ranking():
    assert average_precision(["a", "x", "b"], {"a", "b"}) == pytest.approx((1 + 2 / 3) / 2)
    assert ndcg_at_k(["a", "b"], {"a": 1.0, "b": 1.0}) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "a"], {"a": 1.0}) == pytest.approx(1 / 1.5849625, rel=1e-6)


def test_report_keeps_hand_written_notes_around_the_results(tmp_path):
    path = tmp_path / "evaluation.md"
    result = EvalResult("title normalisation", "titles.csv", {"mrr@10": 0.5}, 10, 1.0)
    write_report(path, [result], "model-a", None)
    path.write_text(path.read_text() + "\n## Notes by hand\nkeep me\n")
    write_report(
        path, [EvalResult("title normalisation", "titles.csv", {"mrr@10": 0.7}, 10, 1.0)], "m", None
    )
    text = path.read_text()
    assert "keep me" in text and "0.7000" in text and "0.5000" not in text
    assert text.count(RESULTS_START) == 1 and text.count(RESULTS_END) == 1
