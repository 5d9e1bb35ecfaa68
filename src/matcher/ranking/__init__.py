"""Match features, rankers (hand-set and learned), explanations, ranking metrics."""
