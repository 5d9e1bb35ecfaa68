"""Fine-tuning the encoder on the training pairs, with sentence-transformers'
``SentenceTransformerTrainer`` and ``MultipleNegativesRankingLoss``.

Each anchor must pick its positive out of every positive in the batch and every hard negative
(for an alternative occupation label: the preferred label of an occupation in the same ISCO-08
unit group, the confusion title matching most often makes). The trainer's rows all need a
negative, so a pair without one gets a filler that the loss masks out (:func:`_masked_loss`):
padding with other batches' positives instead gave more, easier negatives and cost 0.0017 title
MRR@10 against the hand-written loop this replaced (docs/evaluation.md). Batches never hold two
pairs of one concept, nor a negative that is another pair's positive (:func:`layout`): in-batch
negatives must be real negatives. The large word-embedding matrix (250k × 384, 80% of
e5-small's weights) and the lower transformer layers are frozen, so a step costs about half as
much on a 2-core CPU.

What is specific to this project is kept to three callbacks: progress (step, loss, time left),
a wall-clock guard that stops a run that overran and makes it fail (it is never registered),
and the weight averaging with the base model at the end (``merge_ratio``, WiSE-FT), which keeps
the gains on occupation titles without losing the base model's Vietnamese synonyms. The recipe
is a fixed, seeded number of steps with a linear schedule run to its end, so two runs on the
same data give the same model whatever the machine's load.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from matcher.errors import MatcherError
from matcher.text import fold
from matcher.training.datasets import Pair, TrainingSet, batches, mixture

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)


@dataclass
class FinetuneConfig:
    """Settings of one fine-tuning run (all logged as params)."""

    steps: int = 240
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
    #: the wall-clock guard: a run still training after this many minutes fails (0: no limit)
    max_minutes: float = 60.0
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
            # the train parts of the dev sets (real vacancy titles, ViSki synonyms)
            "dev_titles": 0.30, "viski_train": 0.10,
        }
    )  # fmt: skip

    def params(self) -> dict[str, object]:
        flat = asdict(self)
        mix = flat.pop("mixture")
        return flat | {f"mixture.{k}": v for k, v in mix.items()}


PRESETS = {
    # about 25 s of training: for tests and a first look
    "quick": FinetuneConfig(
        steps=12, batch_size=24, freeze_layers=9, max_minutes=10.0, merge_ratio=1.0
    ),
    # the default run: 240 steps (about 12 minutes on 2 cores), then the weights are averaged
    # with the base model (merge_ratio 0.5)
    "default": FinetuneConfig(),
}


@dataclass
class FinetuneResult:
    steps: int
    pairs_seen: int
    seconds: float
    losses: list[float]


class TrainingBudgetError(MatcherError):
    """The wall-clock guard stopped a run before its last step: the model is not the recipe's,
    so it is neither evaluated nor registered."""


Progress = Callable[[int, int, float, float], None]


Row = tuple[str, str, str, float]


def layout(pairs: list[Pair], size: int, *, hard_negatives: bool = True) -> list[list[Row]]:
    """``(anchor, positive, negative, counted)`` batches in which no two pairs share a concept
    or a positive (:func:`matcher.training.datasets.batches`). ``counted`` is 1.0 for a hard
    negative the loss scores against: the first of its text in the batch, and not another
    pair's positive. Any other row carries its own positive as a filler, with 0.0, and the loss
    leaves it out."""
    out = []
    for batch in batches(pairs, size):
        positives = {fold(p.positive) for p in batch}
        seen: set[str] = set()
        rows = []
        for pair in batch:
            key = fold(pair.negative) if pair.negative else ""
            real = hard_negatives and bool(key) and key not in positives and key not in seen
            seen.add(key)
            negative = pair.negative if real and pair.negative else pair.positive
            rows.append((pair.anchor, pair.positive, negative, 1.0 if real else 0.0))
        out.append(rows)
    return out


def finetune(
    model: SentenceTransformer,
    training: TrainingSet,
    config: FinetuneConfig,
    *,
    progress: Progress | None = None,
) -> FinetuneResult:
    """Train ``model`` in place for ``config.steps`` steps. ``progress(step, steps, loss,
    seconds_left)`` after each step. Raises :class:`TrainingBudgetError` if the wall-clock
    guard stopped it early."""
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from transformers.trainer_callback import PrinterCallback

    model.max_seq_length = config.max_seq_length
    _freeze(model, config)
    drawn = mixture(training, config.mixture, config.steps * config.batch_size, config.seed)
    grouped = layout(drawn, config.batch_size, hard_negatives=config.hard_negatives)
    rows = [row for batch in grouped for row in batch]
    columns = ("anchor", "positive", "negative", "label")  # "label" reaches the loss as labels
    dataset = Dataset.from_dict({name: [row[i] for row in rows] for i, name in enumerate(columns)})
    spans = _spans(grouped)
    callbacks = _callbacks(model, config, progress)
    prompt = (getattr(model, "prompts", None) or {}).get("query", "")
    with tempfile.TemporaryDirectory(prefix="matcher-finetune-") as output:
        args = SentenceTransformerTrainingArguments(
            output_dir=output, max_steps=config.steps * config.epochs,
            per_device_train_batch_size=config.batch_size, learning_rate=config.learning_rate,
            # a float below 1 is a share of the steps (transformers v5)
            warmup_steps=config.warmup_ratio, lr_scheduler_type="linear", weight_decay=0.01,
            seed=config.seed, data_seed=config.seed, prompts=prompt or None,
            batch_sampler=fixed_batches(spans),
            # no gradient clipping (the trainer clips at 1.0 by default), as in the recipe the
            # hand-written loop settled on
            max_grad_norm=0.0,
            logging_steps=1, save_strategy="no", report_to="none", disable_tqdm=True,
            dataloader_num_workers=0,
        )  # fmt: skip
        trainer = SentenceTransformerTrainer(
            model=model, args=args, train_dataset=dataset, callbacks=list(callbacks.values()),
            loss=_masked_loss(model, scale=config.scale),
        )  # fmt: skip
        trainer.remove_callback(PrinterCallback)  # progress goes through our callback
        try:
            trainer.train()
        finally:
            model.eval()
            for parameter in model.parameters():
                parameter.requires_grad_(True)
    guard, reporter = callbacks["guard"], callbacks["progress"]
    done = trainer.state.global_step
    if guard.tripped:  # type: ignore[attr-defined]
        raise TrainingBudgetError(
            f"the wall-clock guard stopped training after {done} of {config.steps} steps "
            f"({config.max_minutes} min); nothing was registered. Run it again on a quieter "
            "machine, or raise --max-minutes"
        )
    return FinetuneResult(
        done,
        done * config.batch_size,
        reporter.seconds,  # type: ignore[attr-defined]
        reporter.losses,
    )  # type: ignore[attr-defined]


def _masked_loss(model: SentenceTransformer, scale: float) -> Any:
    """sentence-transformers' ``MultipleNegativesRankingLoss`` (each anchor against every
    positive and every hard negative of the batch, cosine × ``scale``, cross-entropy) with the
    negatives whose label is 0 left out of the softmax."""
    import torch
    import torch.nn.functional as F
    from sentence_transformers.base.losses.merged_forward import embed_columns
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    class MaskedLoss(MultipleNegativesRankingLoss):  # type: ignore[misc]
        def forward(self, sentence_features: Any, labels: torch.Tensor) -> torch.Tensor:
            anchors, positives, negatives = embed_columns(self.model, sentence_features)
            scores = self.similarity_fct(anchors, torch.cat([positives, negatives])) * self.scale
            size = anchors.size(0)
            hidden = torch.cat([torch.zeros(size, dtype=torch.bool), labels.to("cpu") < 0.5])
            scores = scores.masked_fill(hidden.to(scores.device), -torch.inf)
            return F.cross_entropy(scores, torch.arange(size, device=scores.device))

    return MaskedLoss(model, scale=scale)


def _spans(grouped: list[list[Any]]) -> list[list[int]]:
    spans, start = [], 0
    for batch in grouped:
        spans.append(list(range(start, start + len(batch))))
        start += len(batch)
    return spans


def fixed_batches(spans: list[list[int]]) -> Callable[..., Any]:
    """A sentence-transformers batch sampler that yields the batches :func:`layout` made, in
    its order (the trainer calls it with the dataset and its own options, which are ignored)."""
    from sentence_transformers.base.sampler import DefaultBatchSampler

    class FixedBatches(DefaultBatchSampler):  # type: ignore[misc]
        def __iter__(self) -> Iterator[list[int]]:
            return iter(spans)

        def __len__(self) -> int:
            return len(spans)

    size = max(map(len, spans))
    return lambda dataset, **_: FixedBatches(dataset, batch_size=size, drop_last=False)


def _callbacks(model: SentenceTransformer, config: FinetuneConfig,
               progress: Progress | None) -> dict[str, Any]:  # fmt: skip
    """The three callbacks: progress, the wall-clock guard, the weight averaging."""
    import torch
    from transformers import TrainerCallback

    class Report(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.started = time.perf_counter()
            self.seconds = 0.0
            self.losses: list[float] = []

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **_: Any) -> None:
            if logs and "loss" in logs:
                self.losses.append(float(logs["loss"]))
                self.seconds = time.perf_counter() - self.started
                step, total = state.global_step, state.max_steps
                if progress:
                    progress(
                        step, total, self.losses[-1], self.seconds / max(1, step) * (total - step)
                    )

    class Guard(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.started = time.perf_counter()
            self.tripped = False

        def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            late = (
                config.max_minutes and time.perf_counter() - self.started > config.max_minutes * 60
            )
            if late and state.global_step < state.max_steps:
                self.tripped = True
                control.should_training_stop = True

    class Average(TrainerCallback):  # type: ignore[misc]
        def on_train_begin(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            self.trainable = [p for p in model.parameters() if p.requires_grad]
            self.initial = [p.detach().clone() for p in self.trainable]

        def on_train_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            merge(self.trainable, self.initial, config.merge_ratio)

    torch.manual_seed(config.seed)
    return {"progress": Report(), "guard": Guard(), "average": Average()}


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
