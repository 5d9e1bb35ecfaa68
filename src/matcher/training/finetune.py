"""Fine-tuning the encoder on the training pairs (sentence-transformers, in-batch negatives).

The loss is the multiple-negatives ranking loss (as sentence-transformers'
``MultipleNegativesRankingLoss``): each anchor must pick its positive out of every positive in
the batch and every hard negative (for an alternative occupation label: the preferred label of
an occupation in the same ISCO-08 unit group, the confusion title matching most often makes). The large word-embedding
matrix (250k × 384, 80% of e5-small's weights) is frozen, and optionally the lower transformer
layers too, so a step costs about half as much on a 2-core CPU. Progress (step, loss, time left)
is reported as training runs, and a time budget stops it cleanly. At the end the trained
weights are averaged with the starting ones (``merge_ratio``), which keeps the gains on
occupation titles without losing the base model's Vietnamese synonyms.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from matcher.training.datasets import Pair, TrainingSet, batches, mixture

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)


@dataclass
class FinetuneConfig:
    """Settings of one fine-tuning run (all logged as params)."""

    steps: int = 480
    batch_size: int = 48
    epochs: int = 1
    learning_rate: float = 3e-5
    warmup_ratio: float = 0.1
    #: tokens per text while training (labels are short; 32 covers almost all of them)
    max_seq_length: int = 32
    freeze_embeddings: bool = True
    #: lower transformer layers kept frozen (e5-small has 12)
    freeze_layers: int = 8
    hard_negatives: bool = True
    #: stop after this many minutes even if steps remain (0: no limit)
    max_minutes: float = 12.0
    scale: float = 20.0
    #: share of the fine-tuned weights kept when they are averaged back with the base model's
    #: (WiSE-FT, Wortsman et al. 2022): 1.0 keeps the fine-tuned weights. Averaging keeps what
    #: the base model knew that the training pairs do not cover (Vietnamese skill synonyms) and,
    #: on the dev sets, beats both ends on title normalisation too (docs/evaluation.md).
    merge_ratio: float = 0.5
    seed: int = 13
    #: share of the training pairs drawn from each source
    mixture: dict[str, float] = field(
        default_factory=lambda: {
            "occupation_noisy": 0.30, "occupation_alt": 0.16, "vi_occupation": 0.10,
            "vi_variant": 0.14, "vi_skill": 0.10, "position": 0.04, "skill_alt": 0.08,
            "occupation_skill": 0.04, "feedback": 0.04,
        }
    )  # fmt: skip

    def params(self) -> dict[str, object]:
        flat = asdict(self)
        mix = flat.pop("mixture")
        return flat | {f"mixture.{k}": v for k, v in mix.items()}


PRESETS = {
    # about 25 s of training: for tests and a first look
    "quick": FinetuneConfig(
        steps=12, batch_size=24, freeze_layers=9, max_minutes=1.0, merge_ratio=1.0
    ),
    # the default run: 12 minutes of training on 2 cores (220–270 of the 480 steps, by load), then
    # the weights are averaged with the base model (merge_ratio 0.5)
    "default": FinetuneConfig(),
}


@dataclass
class FinetuneResult:
    steps: int
    pairs_seen: int
    seconds: float
    losses: list[float]
    stopped_early: bool


def finetune(
    model: SentenceTransformer,
    training: TrainingSet,
    config: FinetuneConfig,
    *,
    progress: Callable[[int, int, float, float], None] | None = None,
) -> FinetuneResult:
    """Train ``model`` in place. ``progress(step, steps, loss, seconds_left)`` after each step."""
    import torch

    torch.manual_seed(config.seed)
    random.seed(config.seed)
    model.max_seq_length = config.max_seq_length
    _freeze(model, config)
    trainable = [p for p in model.parameters() if p.requires_grad]
    initial = [p.detach().clone() for p in trainable]
    optimiser = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.01)
    total = config.steps * config.epochs
    warmup = max(1, int(total * config.warmup_ratio))

    def rate(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
    prompt = (getattr(model, "prompts", None) or {}).get("query", "")
    drawn = mixture(training, config.mixture, config.steps * config.batch_size, config.seed)
    started = time.perf_counter()
    losses: list[float] = []
    seen = 0
    step = 0
    stopped = False
    model.train()
    try:
        for _epoch in range(config.epochs):
            for batch in batches(drawn, config.batch_size):
                if step >= total:
                    break
                if config.max_minutes and time.perf_counter() - started > config.max_minutes * 60:
                    stopped = True
                    break
                value = _step(model, batch, prompt, config)
                optimiser.step()
                scheduler.step()
                optimiser.zero_grad(set_to_none=True)
                losses.append(value)
                seen += len(batch)
                step += 1
                if progress:
                    elapsed = time.perf_counter() - started
                    progress(step, total, value, elapsed / step * (total - step))
            if stopped or step >= total:
                break
    finally:
        model.eval()
        merge(trainable, initial, config.merge_ratio)
        for parameter in model.parameters():
            parameter.requires_grad_(True)
    return FinetuneResult(step, seen, time.perf_counter() - started, losses, stopped)


def merge(tuned: list[Any], initial: list[Any], ratio: float) -> None:
    """Average the trained parameters back with their starting values, in place:
    ``ratio * tuned + (1 - ratio) * initial`` (frozen parameters did not move)."""
    import torch

    if ratio >= 1.0:
        return
    with torch.no_grad():
        for parameter, start in zip(tuned, initial):
            parameter.mul_(ratio).add_(start, alpha=1.0 - ratio)


def _freeze(model: SentenceTransformer, config: FinetuneConfig) -> None:
    transformer: Any = model[0].auto_model
    if config.freeze_embeddings:
        transformer.embeddings.word_embeddings.weight.requires_grad_(False)
    layers = getattr(getattr(transformer, "encoder", None), "layer", [])
    for layer in list(layers)[: config.freeze_layers]:
        for parameter in layer.parameters():
            parameter.requires_grad_(False)


def _step(model: SentenceTransformer, batch: list[Pair], prompt: str,
          config: FinetuneConfig) -> float:  # fmt: skip
    """One forward and backward pass; returns the loss."""
    import torch
    import torch.nn.functional as F

    def embed(texts: list[str]) -> torch.Tensor:
        features = model.preprocess([prompt + text for text in texts])
        return F.normalize(model(dict(features))["sentence_embedding"], dim=-1)

    anchors = embed([p.anchor for p in batch])
    candidates = [p.positive for p in batch]
    if config.hard_negatives:
        taken = set(candidates)  # a negative that is another pair's positive is not one
        candidates += list(
            dict.fromkeys(p.negative for p in batch if p.negative and p.negative not in taken)
        )
    scores = anchors @ embed(candidates).T * config.scale
    loss = F.cross_entropy(scores, torch.arange(len(batch)))
    loss.backward()
    value = float(loss.detach())
    return value if math.isfinite(value) else float("nan")
