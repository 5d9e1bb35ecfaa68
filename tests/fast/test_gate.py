"""The promotion gate decides on evidence: a guard refuses a model only for a fall that is
both significant (paired bootstrap) and larger than its tolerance."""

from __future__ import annotations

import random

import pytest

from matcher.training.gate import GateRule, gate, paired_bootstrap

RULE = GateRule("titles", 0.002, {"viski": 0.01})


def flips(n: int, worse: int, better: int, seed: int = 1) -> tuple[list[float], list[float]]:
    """Per-item 0/1 outcomes of a baseline that gets 75% right, and a candidate that loses
    ``worse`` of its right answers and gains ``better`` of its wrong ones."""
    rnd = random.Random(seed)
    base = [1.0 if rnd.random() < 0.75 else 0.0 for _ in range(n)]
    right = [i for i, v in enumerate(base) if v]
    wrong = [i for i, v in enumerate(base) if not v]
    cand = list(base)
    for i in rnd.sample(right, worse):
        cand[i] = 0.0
    for i in rnd.sample(wrong, better):
        cand[i] = 1.0
    return cand, base


def test_the_metric_must_beat_the_baseline_by_more_than_min_delta() -> None:
    assert gate(RULE, {"titles": 0.51}, {"titles": 0.50}, "champion").promote
    refused = gate(RULE, {"titles": 0.501}, {"titles": 0.50}, "champion")
    assert not refused.promote and "does not beat" in refused.reason


def test_a_small_noisy_fall_of_a_guard_does_not_refuse_a_better_model() -> None:
    cand, base = flips(960, worse=40, better=29)  # 11 of 960 items: a 0.0115 fall
    fall = (sum(base) - sum(cand)) / 960
    assert fall > RULE.guards["viski"]
    decision = gate(RULE, {"titles": 0.40, "viski": sum(cand) / 960},
                    {"titles": 0.38, "viski": sum(base) / 960}, "champion",
                    candidate_items={"viski": cand}, baseline_items={"viski": base})  # fmt: skip
    assert decision.promote and "not significantly" in decision.reason
    interval = decision.intervals["viski"]
    assert interval.low < 0 < interval.high
    assert decision.metrics()["gate.ci_low.viski"] == interval.low


def test_a_significant_fall_larger_than_the_guard_refuses() -> None:
    cand, base = flips(960, worse=70, better=5)
    decision = gate(RULE, {"titles": 0.40, "viski": sum(cand) / 960},
                    {"titles": 0.38, "viski": sum(base) / 960}, "champion",
                    candidate_items={"viski": cand}, baseline_items={"viski": base})  # fmt: skip
    assert not decision.promote and "viski fell" in decision.reason
    assert decision.intervals["viski"].high < 0


def test_without_per_item_values_the_fall_alone_decides() -> None:
    decision = gate(RULE, {"titles": 0.6, "viski": 0.70}, {"titles": 0.5, "viski": 0.75},
                    "champion")  # fmt: skip
    assert not decision.promote and "no per-item values" in decision.reason


def test_the_bootstrap_is_paired_and_reproducible() -> None:
    cand, base = flips(500, worse=10, better=30)
    first, again = paired_bootstrap(cand, base), paired_bootstrap(cand, base)
    assert first == again
    assert first.low < first.delta < first.high and first.delta == pytest.approx(20 / 500)
    with pytest.raises(ValueError):
        paired_bootstrap(cand, base[:-1])


def test_a_model_outside_the_fairness_limits_is_refused_whatever_it_gains() -> None:
    from matcher.training.gate import fairness_limits

    limits = fairness_limits(min_rbo=0.8, min_exposure_ratio=0.5, max_map_gap=0.2)
    fair = {"titles": 0.60, "fairness.cf_rbo.gender": 0.93, "fairness.cf_rbo.age": 0.85,
            "fairness.exposure_ratio.age": 0.7, "fairness.map_gap.gender": 0.05}  # fmt: skip
    assert gate(RULE, fair, {"titles": 0.50}, "champion", limits=limits).promote
    for name, value in (("fairness.cf_rbo.age", 0.79), ("fairness.exposure_ratio.age", 0.45),
                        ("fairness.map_gap.gender", 0.21)):  # fmt: skip
        refused = gate(RULE, fair | {name: value}, {"titles": 0.50}, "champion", limits=limits)
        assert not refused.promote
        assert "fairness limits" in refused.reason and name in refused.reason
    # a limit only bounds what a run computed: a run without fairness metrics is not refused
    assert gate(RULE, {"titles": 0.60}, {"titles": 0.50}, "champion", limits=limits).promote
