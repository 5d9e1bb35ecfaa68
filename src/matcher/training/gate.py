"""The promotion gate: a new model replaces the champion only on evidence.

The gate's metric must beat the baseline by more than ``min_delta``. Each guard metric may not
fall, but a fall refuses the model only when it is both **significant** (the upper end of a
paired bootstrap confidence interval of the per-item difference is below zero) and **larger**
than the guard's tolerance: on 960 ViSki items a 0.01 fall is about 11 items, within the noise
of one training run. The intervals are logged with the run (``gate.ci_low.*``,
``gate.ci_high.*``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

#: Bootstrap resamples, the interval's confidence, and its seed (the same data give the same
#: interval).
SAMPLES = 2000
CONFIDENCE = 0.95
SEED = 0


@dataclass(frozen=True)
class Interval:
    """Mean per-item difference (candidate − baseline) and its bootstrap interval."""

    delta: float
    low: float
    high: float

    @property
    def significant_fall(self) -> bool:
        return self.high < 0

    def __str__(self) -> str:
        return f"{self.delta:+.4f} [{self.low:+.4f}, {self.high:+.4f}]"


def paired_bootstrap(
    candidate: Sequence[float],
    baseline: Sequence[float],
    *,
    samples: int = SAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = SEED,
) -> Interval:
    """Percentile bootstrap of the mean of ``candidate[i] - baseline[i]`` over the same items
    (resampled together, so what both models find hard does not widen the interval)."""  # fmt: skip
    a, b = np.asarray(candidate, dtype=np.float64), np.asarray(baseline, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or not len(a):
        raise ValueError(f"paired items differ: {a.shape} vs {b.shape}")
    diff = a - b
    rng = np.random.default_rng(seed)
    means = np.concatenate([
        diff[rng.integers(0, len(diff), size=(min(200, samples - done), len(diff)))].mean(axis=1)
        for done in range(0, samples, 200)
    ])  # fmt: skip
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return Interval(float(diff.mean()), float(low), float(high))


@dataclass(frozen=True)
class GateRule:
    """The metric a new model must beat the baseline on, by more than ``min_delta``, and how
    far each guard metric may fall (significantly) before the model is refused."""

    metric: str
    min_delta: float
    guards: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    metric: str
    candidate: float
    baseline: float
    baseline_source: str
    reason: str
    intervals: Mapping[str, Interval] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        out = {
            f"gate.candidate.{self.metric}": self.candidate,
            f"gate.baseline.{self.metric}": self.baseline,
            "gate.delta": self.candidate - self.baseline,
            "gate.promoted": float(self.promote),
        }
        for name, interval in self.intervals.items():
            out |= {f"gate.ci_low.{name}": interval.low, f"gate.ci_high.{name}": interval.high}
        return out


Items = Mapping[str, Sequence[float]]


@dataclass(frozen=True)
class Limits:
    """Absolute bounds a model must meet whatever the baseline (the fairness limits): each key
    is a metric name, or a prefix ending in ``.`` for every metric under it, e.g.
    ``fairness.cf_rbo.`` ≥ 0.8. A missing metric is no breach (not every run computes all)."""

    at_least: Mapping[str, float] = field(default_factory=dict)
    at_most: Mapping[str, float] = field(default_factory=dict)

    def breaches(self, metrics: Mapping[str, float]) -> list[str]:
        def matching(key: str) -> list[str]:
            return sorted(
                n for n in metrics if n == key or (key.endswith(".") and n.startswith(key))
            )

        out = []
        for key, floor in self.at_least.items():
            out += [f"{n} {metrics[n]:.4f} < {floor}" for n in matching(key) if metrics[n] < floor]
        for key, ceiling in self.at_most.items():
            out += [f"{n} {metrics[n]:.4f} > {ceiling}" for n in matching(key)
                    if metrics[n] > ceiling]  # fmt: skip
        return out


def fairness_limits(min_rbo: float, min_exposure_ratio: float, max_map_gap: float) -> Limits:
    """The fairness limits on the metrics training computes (:mod:`.ranking_eval`):
    counterfactual RBO, exposure ratio (lowest group over highest) and MAP gap."""
    return Limits(at_least={"fairness.cf_rbo.": min_rbo,
                            "fairness.exposure_ratio.": min_exposure_ratio},
                  at_most={"fairness.map_gap.": max_map_gap})  # fmt: skip


def gate(
    rule: GateRule,
    candidate: Mapping[str, float],
    baseline: Mapping[str, float],
    baseline_source: str,
    *,
    candidate_items: Items | None = None,
    baseline_items: Items | None = None,
    limits: Limits | None = None,
) -> GateDecision:
    """Promote only if the candidate is within ``limits`` (the fairness limits),
    ``candidate[rule.metric]`` beats ``baseline[rule.metric]`` by more than ``rule.min_delta``
    and no guard falls significantly by more than its tolerance. Without per-item values for a
    guard (an old baseline run), its fall alone decides."""
    metric = rule.metric
    new, old = candidate[metric], baseline[metric]
    intervals: dict[str, Interval] = {}
    for name in (metric, *rule.guards):
        if name in (candidate_items or {}) and name in (baseline_items or {}):
            ours, theirs = candidate_items[name], baseline_items[name]  # type: ignore[index]
            if len(ours) == len(theirs) and len(ours):
                intervals[name] = paired_bootstrap(ours, theirs)

    def decide(promote: bool, reason: str) -> GateDecision:
        return GateDecision(promote, metric, new, old, baseline_source, reason, intervals)

    breaches = limits.breaches(candidate) if limits else []
    if breaches:
        return decide(False, "outside the fairness limits (MATCHER_FAIRNESS_*): "
                             + "; ".join(breaches))  # fmt: skip
    if new <= old + rule.min_delta:
        return decide(False, f"{metric} {new:.4f} does not beat {baseline_source}'s {old:.4f} "
                             f"by more than {rule.min_delta}")  # fmt: skip
    notes = []
    for guard, tolerance in rule.guards.items():
        if guard not in candidate or guard not in baseline:
            continue
        fall = baseline[guard] - candidate[guard]
        interval = intervals.get(guard)
        if fall > tolerance and (interval is None or interval.significant_fall):
            evidence = f", 95% interval {interval}" if interval else " (no per-item values)"
            return decide(False, f"{guard} fell from {baseline[guard]:.4f} to "
                                 f"{candidate[guard]:.4f} (more than {tolerance}{evidence})")  # fmt: skip
        if fall > tolerance and interval is not None:
            notes.append(f"{guard} fell {fall:.4f}, not significantly ({interval})")
    reason = f"{metric} {new:.4f} beats {baseline_source}'s {old:.4f}"
    return decide(True, reason + ("; " + "; ".join(notes) if notes else ""))
