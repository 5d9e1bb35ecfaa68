"""A learned re-ranker over the same features as the hand-set weights (scikit-learn).

The model is a gradient-boosted regressor of graded relevance, constrained to be monotone in
every feature: more skill coverage, a better place or language fit never lowers a score, so the
reasons shown with each result stay true. ``similarity`` is rescaled within each result set, as
for :class:`~matcher.ranking.features.WeightedRanker`, so the model survives an encoder change. The
priority boost is policy, not learned: it is added after the model, with the configured size;
so is what the person asked for (``intent``), with the hand-set weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.ranking.features import FEATURES, INTENT_WEIGHT, POLICY_FEATURES

#: What the model reads: every ranking feature but policy (the priority boost, the person's
#: stated wish to change field).
LEARNED_FEATURES = tuple(name for name in FEATURES if name not in POLICY_FEATURES)


def feature_matrix(rows: Sequence[dict[str, float]]) -> npt.NDArray[np.float64]:
    """One result set's feature rows as a matrix (columns :data:`LEARNED_FEATURES`), with
    similarity rescaled to [0, 1] within the set."""
    matrix = np.array([[row[name] for name in LEARNED_FEATURES] for row in rows], dtype=np.float64)
    if len(matrix):
        column = matrix[:, 0]
        low, high = column.min(), column.max()
        matrix[:, 0] = (column - low) / (high - low) if high > low else 1.0
    return matrix.reshape(len(rows), len(LEARNED_FEATURES))


@dataclass
class LearnedRanker:
    """Scores feature rows with a fitted scikit-learn regressor (any object with ``predict``)."""

    model: Any
    priority_boost: float = 0.0
    name: str = "learned"
    #: The policy weights (``priority_boost``, :data:`INTENT_WEIGHT`) are set on the weighted
    #: ranker's scale, about 0–1; the model predicts graded relevance, 0–3: they are multiplied
    #: by this, so a policy moves a posting as far under either ranker.
    policy_scale: float = 3.0

    def score(self, rows: Sequence[dict[str, float]]) -> list[float]:
        if not rows:
            return []
        import pandas as pd

        frame = pd.DataFrame(feature_matrix(rows), columns=list(LEARNED_FEATURES))
        predicted = np.asarray(self.model.predict(frame), dtype=np.float64)
        boost = np.array([row.get("priority", 0.0) for row in rows]) * self.priority_boost
        boost += np.array([row.get("intent", 0.0) for row in rows]) * INTENT_WEIGHT
        return [float(v) for v in predicted + boost * self.policy_scale]


@dataclass(frozen=True)
class RankerParams:
    """The learned ranker's hyperparameters: fitted with and logged from this one place."""

    max_iter: int = 200
    learning_rate: float = 0.08
    max_leaf_nodes: int = 15
    l2_regularization: float = 1.0
    seed: int = 13


def fit_ranker(
    groups: Sequence[Sequence[dict[str, float]]],
    labels: Sequence[Sequence[float]],
    params: RankerParams = RankerParams(),
) -> Any:
    """Fit on result sets (each a list of feature rows) and their graded relevance."""
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingRegressor

    matrices = [feature_matrix(rows) for rows in groups if rows]
    y = np.concatenate([np.asarray(g, dtype=np.float64) for g, rows in zip(labels, groups) if rows])
    frame = pd.DataFrame(np.vstack(matrices), columns=list(LEARNED_FEATURES))
    model = HistGradientBoostingRegressor(
        max_iter=params.max_iter, learning_rate=params.learning_rate,
        max_leaf_nodes=params.max_leaf_nodes, l2_regularization=params.l2_regularization,
        monotonic_cst=[1] * len(LEARNED_FEATURES), random_state=params.seed,
    )  # fmt: skip
    model.fit(frame, y)
    return model
