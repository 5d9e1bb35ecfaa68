"""Ranking metrics, one definition each: the dev-set evaluation, the held-out ranking
evaluation, the fairness audit and the promotion gate all read them from here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np


def reciprocal_rank(ranked: Sequence[str], relevant: str | set[str], k: int = 10) -> float:
    """1/rank of the first relevant item within the top ``k``, else 0."""
    wanted = {relevant} if isinstance(relevant, str) else relevant
    for position, item in enumerate(ranked[:k], start=1):
        if item in wanted:
            return 1.0 / position
    return 0.0


def r_precision(ranked: Sequence[str], relevant: set[str], k: int = 5) -> float:
    """Hits in the top ``min(k, |relevant|)`` over ``min(k, |relevant|)``."""
    if not relevant:
        raise ValueError("r_precision needs at least one relevant item")
    cutoff = min(k, len(relevant))
    return len(set(ranked[:cutoff]) & relevant) / cutoff


def average_precision(ranked: Sequence[str], relevant: set[str]) -> float:
    hits, total = 0, 0.0
    for position, item in enumerate(ranked, start=1):
        if item in relevant:
            hits += 1
            total += hits / position
    return total / len(relevant) if relevant else 0.0


def dcg(gains: Iterable[float]) -> float:
    """Discounted cumulative gain of gains in rank order (``g / log2(rank + 1)``)."""
    return float(sum(g / np.log2(i + 2) for i, g in enumerate(gains)))


def ndcg_at_k(
    ranked: Sequence[str],
    gains: Mapping[str, float],
    k: int = 10,
    ideal: Iterable[float] | None = None,
) -> float:
    """DCG of the top ``k`` over the ideal DCG: of ``ideal`` when given (every relevant item's
    gain, retrieved or not), else of ``gains``."""  # fmt: skip
    best = dcg(sorted(gains.values() if ideal is None else ideal, reverse=True)[:k])
    return dcg(gains.get(item, 0.0) for item in ranked[:k]) / best if best > 0 else 0.0


def rbo(first: Sequence[str], second: Sequence[str], p: float = 0.9) -> float:
    """Rank-biased overlap of two top-k lists (Webber et al. 2010, extrapolated); 1 = same."""
    k = max(len(first), len(second))
    if k == 0:
        return 1.0
    overlap = [len(set(first[:d]) & set(second[:d])) for d in range(1, k + 1)]
    total = sum(overlap[d - 1] / d * p**d for d in range(1, k + 1))
    return float((1 - p) / p * total + overlap[-1] / k * p**k)
