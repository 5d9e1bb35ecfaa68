"""The parts of the training pipelines, on the real taxonomy and dev sets (no training)."""

from __future__ import annotations

import random

import pytest

from matcher.ranking.features import FEATURES, INTENT_WEIGHT
from matcher.ranking.learned import LEARNED_FEATURES, LearnedRanker, RankerParams, fit_ranker
from matcher.ranking.metrics import rbo
from matcher.registry import flatten
from matcher.training.datasets import (
    batches,
    build_training_set,
    check_disjoint,
    dev_texts,
    mixture,
)
from matcher.training.pipelines import metric_key
from matcher.training.ranking_eval import Query, age_band, query_metrics


@pytest.fixture(scope="module")
def training(service, settings):  # type: ignore[no-untyped-def]
    return build_training_set(service.taxonomy, service.positions, settings.dev_eval_dir)


def test_training_pairs_keep_the_held_out_dev_parts_out(training, service, settings):  # type: ignore[no-untyped-def]
    from matcher.reference.titles import TITLES_FILE, title_part, title_rows
    from matcher.text import fold

    dev = dev_texts(settings.dev_eval_dir)
    assert check_disjoint(training.pairs, dev) == []
    # the filter had work to do: some ESCO labels are also held-out titles or ViSki terms
    assert sum(training.dropped_dev.values()) > 0
    titles = title_rows(settings.dev_eval_dir / TITLES_FILE, "all")
    held = [r for r in titles if title_part(r["vacancyTitle"]) == "heldout"]
    assert 0.17 < len(held) / len(titles) < 0.23  # the fixed 80/20 split
    assert all(fold(r["vacancyTitle"]) in dev for r in held)
    # the train 80% and viski_train are trained on, and never a held-out title
    trained = [p for p in training.pairs if p.source == "dev_titles"]
    assert len(trained) > 0.7 * (len(titles) - len(held))
    assert all(title_part(p.anchor) == "train" for p in trained)
    assert {p.positive for p in trained} <= {o.label for o in service.taxonomy.occupations.values()}
    assert training.counts.get("viski_train", 0) > 1000
    card = training.card()
    assert training.digest in card and "dropped" in card and "viski_train" in card


def test_training_pairs_cover_every_source_and_are_reproducible(training, service, settings):  # type: ignore[no-untyped-def]
    counts = training.counts
    for source in ("occupation_alt", "occupation_skill", "skill_alt", "vi_occupation",
                   "vi_skill", "position"):  # fmt: skip
        assert counts.get(source, 0) > 50, source
    again = build_training_set(service.taxonomy, service.positions, settings.dev_eval_dir)
    assert again.digest == training.digest
    vi = next(p for p in training.pairs if p.source == "vi_occupation")
    assert vi.positive == service.taxonomy.occupations[vi.group].label
    hard = next(p for p in training.pairs if p.source == "occupation_alt" and p.negative)
    assert hard.negative != hard.positive


def test_feedback_pairs_join_the_set(service, settings):  # type: ignore[no-untyped-def]
    with_feedback = build_training_set(service.taxonomy, service.positions, settings.dev_eval_dir,
                                       feedback=[("kế toán xã 10 năm", "Kế toán tổng hợp")])  # fmt: skip
    assert with_feedback.counts["feedback"] == 1


def test_batches_never_hold_two_pairs_of_one_concept(training):  # type: ignore[no-untyped-def]
    drawn = mixture(training, {"occupation_alt": 1.0, "vi_occupation": 1.0}, 2000)
    assert len(drawn) == 2000
    seen = 0
    for batch in batches(drawn, 32):
        assert len({p.group for p in batch}) == len(batch)
        seen += len(batch)
    assert seen == 2000


def test_the_trainer_batches_hold_real_negatives_only(training):  # type: ignore[no-untyped-def]
    from matcher.text import fold
    from matcher.training.finetune import layout

    drawn = mixture(training, {"occupation_alt": 1.0, "vi_variant": 1.0}, 960)
    grouped = layout(drawn, 32)
    assert sum(map(len, grouped)) == 960
    counted = 0
    for batch in grouped:
        positives = [fold(positive) for _, positive, _, _ in batch]
        assert len(set(positives)) == len(batch)
        negatives = [fold(negative) for _, _, negative, real in batch if real]
        # a counted negative is never a positive of the batch, and counted once
        assert not set(negatives) & set(positives) and len(set(negatives)) == len(negatives)
        counted += len(negatives)
        # a filler is the row's own positive, and the loss leaves it out
        assert all(negative == positive for _, positive, negative, real in batch if not real)
    assert counted > 0  # occupation_alt pairs have hard negatives
    assert all(real == 0.0 for batch in layout(drawn, 32, hard_negatives=False)
               for *_, real in batch)  # fmt: skip


def test_the_loss_leaves_out_masked_negatives():
    """Masked negatives change nothing: the loss equals the in-batch loss over positives only,
    and a counted negative that is close to the anchor raises it."""
    import torch
    import torch.nn.functional as F

    from matcher.training.finetune import _masked_loss

    class Columns(torch.nn.Module):  # embeds a column by looking its rows up
        def __init__(self, table: torch.Tensor) -> None:
            super().__init__()
            self.table = table

        def forward(self, features: dict) -> dict:
            return {"sentence_embedding": self.table[features["rows"]]}

    torch.manual_seed(0)
    anchors, positives = torch.randn(4, 8), torch.randn(4, 8)
    negatives = anchors + 0.01 * torch.randn(4, 8)  # each close to its anchor
    table = torch.cat([anchors, positives, negatives])
    loss = _masked_loss(Columns(table), scale=20.0)
    features = [{"rows": torch.arange(4) + 4 * column} for column in range(3)]
    plain = F.cross_entropy(
        F.normalize(anchors, dim=-1) @ F.normalize(positives, dim=-1).T * 20.0, torch.arange(4))
    assert float(loss(features, torch.zeros(4))) == pytest.approx(float(plain), rel=1e-5)
    assert float(loss(features, torch.ones(4))) > float(plain) + 1.0

def test_rank_biased_overlap():
    assert rbo(["a", "b", "c"], ["a", "b", "c"]) == pytest.approx(1.0)
    assert rbo(["a", "b", "c"], ["x", "y", "z"]) == pytest.approx(0.0)
    swapped_top = rbo(["a", "b", "c", "d"], ["b", "a", "c", "d"])
    swapped_tail = rbo(["a", "b", "c", "d"], ["a", "b", "d", "c"])
    assert 0.0 < swapped_top < swapped_tail < 1.0


def test_ranking_metrics_reward_relevant_items_first():
    query = Query(key="q", side="candidate", items=["a", "b", "c", "d"],
                  rows=[{}] * 4, grades=[0, 3, 0, 1], relevant=[3, 1, 2])  # fmt: skip
    best = query_metrics(query, [1, 3, 0, 2])
    worst = query_metrics(query, [0, 2, 3, 1])
    assert best["map"] > worst["map"] and best["ndcg@10"] > worst["ndcg@10"]
    # one relevant posting (grade 2) was never retrieved: recall and MAP cannot reach 1
    assert best["recall@10"] == pytest.approx(2 / 3)
    assert best["map"] == pytest.approx(2 / 3)


def test_age_bands():
    assert [age_band(y) for y in (1995, 1991, 1990, 1976, 1975)] == [
        "35_or_under", "35_or_under", "36_to_50", "36_to_50", "over_50"]  # fmt: skip


def test_learned_ranker_is_monotone_and_adds_the_policy_terms_on_its_own_scale():
    rnd = random.Random(3)
    groups, labels = [], []
    for _ in range(60):
        rows = [{name: rnd.random() for name in FEATURES} for _ in range(12)]
        groups.append(rows)
        labels.append([3 * r["essential_coverage"] + r["location"] + rnd.random() for r in rows])
    ranker = LearnedRanker(fit_ranker(groups, labels, RankerParams(max_iter=50)), priority_boost=0.05)
    base = {name: 0.5 for name in FEATURES} | {"priority": 0.0, "intent": 0.0}
    anchors = [dict(base, similarity=0.0), dict(base, similarity=1.0)]  # fix the rescaling
    scores = [ranker.score([*anchors, dict(base, essential_coverage=v)])[-1]
              for v in (0.0, 0.25, 0.5, 0.75, 1.0)]  # fmt: skip
    assert scores == sorted(scores) and scores[-1] > scores[0]
    plain = ranker.score([*anchors, base])[-1]
    boosted = ranker.score([*anchors, dict(base, priority=1.0)])[-1]
    # policy weights are set on the weighted ranker's 0-1 scale; this one predicts grades 0-3
    assert boosted == pytest.approx(plain + 0.05 * 3)
    left = ranker.score([*anchors, dict(base, intent=-1.0)])[-1]
    assert left == pytest.approx(plain - INTENT_WEIGHT * 3)
    assert "priority" not in LEARNED_FEATURES and "intent" not in LEARNED_FEATURES


def test_mlflow_names():
    assert metric_key("heldout.candidate.ndcg@10") == "heldout.candidate.ndcg_at_10"
    assert flatten({"a": {"b": 1, "c": {"d": "x"}}, "e": 2}) == {"a.b": "1", "a.c.d": "x", "e": "2"}


def test_merge_averages_trained_weights_with_the_start():
    import torch

    from matcher.training.finetune import merge

    start = [torch.tensor([0.0, 2.0]), torch.tensor([4.0])]
    for ratio, expected in ((0.5, [[1.0, 3.0], [5.0]]), (0.0, [[0.0, 2.0], [4.0]]),
                            (1.0, [[2.0, 4.0], [6.0]])):  # fmt: skip
        tuned = [torch.tensor([2.0, 4.0]), torch.tensor([6.0])]
        merge(tuned, start, ratio)
        assert [t.tolist() for t in tuned] == expected
