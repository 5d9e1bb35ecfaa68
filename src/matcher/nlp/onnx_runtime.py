"""A faster CPU path for query vectors: the same model as an int8 ONNX Runtime graph.

A 200-word profile is ~350 tokens; through the 12-layer encoder in torch fp32 that is ~100 ms
on this 2-core machine, most of a recommendation's time budget. This module exports the
sentence-transformers model's transformer to ONNX (eager attention, so ONNX Runtime's BERT
optimiser can fuse attention, GELU and layer norms), then quantises every MatMul weight to int8
(dynamic quantisation: activations are quantised per call), which runs on AVX-512 VNNI.
Pooling (mean over the attention mask, prompt included) and L2 normalisation are done here in
numpy, exactly as the sentence-transformers modules do.

Measured (``bench/bench_encode.py``): about 2× faster than torch fp32 for one 256-token query,
with a cosine to the fp32 vector of ≥ 0.98. ``matcher evaluate`` judges the effect on ranking;
``docs/evaluation.md`` has the numbers.

The graph is derived data: it is built once per model fingerprint into the cache directory
(~25 s) and rebuilt whenever the weights change.
"""

from __future__ import annotations

import copy
import logging
import os
import tempfile
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

#: Ways to compute query vectors. ``torch`` is the reference; ``onnx-int8`` is the fast path.
RUNTIMES = ("onnx-int8", "torch")


def supported(model: SentenceTransformer) -> str | None:
    """Why ``model`` cannot take the ONNX path, or ``None`` if it can.

    The path reproduces exactly Transformer → mean Pooling (prompt included) → Normalize on a
    BERT-architecture transformer; anything else keeps torch.
    """
    modules = list(model)
    names = [type(module).__name__ for module in modules]
    if names[:2] != ["Transformer", "Pooling"] or names[2:] not in ([], ["Normalize"]):
        return f"module stack {names} is not Transformer → Pooling → Normalize"
    pooling = modules[1]
    if getattr(pooling, "pooling_mode", "mean") != "mean" or not getattr(
        pooling, "include_prompt", True
    ):
        return "pooling is not mean over all tokens"
    transformer: Any = modules[0]
    if getattr(transformer.auto_model.config, "model_type", "") != "bert":
        return "transformer is not BERT-architecture"
    return None


def build_int8_graph(model: SentenceTransformer, target: Path) -> None:
    """Export ``model``'s transformer and write its int8 ONNX graph to ``target`` atomically."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    transformer: Any = model[0]
    auto_model: Any = transformer.auto_model
    config = auto_model.config
    target.parent.mkdir(parents=True, exist_ok=True)

    class LastHidden(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    sample = model.tokenizer(["query: xin chào", "passage: a nurse"], return_tensors="pt",
                             padding=True)  # fmt: skip
    previous = getattr(config, "_attn_implementation", None) or "sdpa"
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        raw, fused = Path(work) / "raw.onnx", Path(work) / "fused.onnx"
        auto_model.set_attn_implementation("eager")  # fusable attention pattern
        try:
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the exporter's tracer warnings are noise here
                torch.onnx.export(
                    LastHidden(auto_model).eval(),
                    (sample["input_ids"], sample["attention_mask"]),
                    str(raw),
                    input_names=["input_ids", "attention_mask"],
                    output_names=["last_hidden_state"],
                    dynamic_axes={
                        "input_ids": {0: "batch", 1: "tokens"},
                        "attention_mask": {0: "batch", 1: "tokens"},
                        "last_hidden_state": {0: "batch", 1: "tokens"},
                    },
                    opset_version=17,
                    dynamo=False,
                )
        finally:
            auto_model.set_attn_implementation(previous)
        optimized = optimizer.optimize_model(
            str(raw), model_type="bert", num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
        )  # fmt: skip
        optimized.save_model_to_file(str(fused))
        partial = Path(work) / "int8.onnx"
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # the quantiser logs a line per tensor on the root logger
        try:
            quantize_dynamic(
                str(fused), str(partial), weight_type=QuantType.QInt8,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )  # fmt: skip
        finally:
            root.setLevel(level)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)


class OnnxQueryEncoder:
    """Encodes already-prompted, normalised texts with the int8 graph.

    Args:
        model: the sentence-transformers model the graph was built from (for its tokenizer and
            ``max_seq_length``).
        graph: the ``.onnx`` file; built on first use if missing.
        threads: ONNX Runtime intra-op threads (one query cannot use more than the cores).
    """

    def __init__(self, model: SentenceTransformer, graph: Path, *, threads: int = 2) -> None:
        self.model = model
        self.graph = graph
        self.threads = threads
        self._session: Any = None
        self._lock = threading.Lock()
        #: its own tokenizer: a fast tokenizer's padding and truncation are state that each
        #: call changes, and the torch runtime may be tokenising on another thread
        self.tokenizer = copy.deepcopy(model.tokenizer)

    def session(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = self._open()
        return self._session

    def _open(self) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if self.graph.exists():
            try:
                return ort.InferenceSession(
                    str(self.graph), options, providers=["CPUExecutionProvider"]
                )
            except Exception as error:  # noqa: BLE001 - any unreadable graph is rebuilt
                logger.warning("rebuilding unreadable ONNX graph %s: %s", self.graph, error)
        logger.info("building the int8 ONNX graph for query vectors (once per model, ~30 s)")
        build_int8_graph(self.model, self.graph)
        return ort.InferenceSession(str(self.graph), options, providers=["CPUExecutionProvider"])

    def hidden(
        self, input_ids: npt.NDArray[np.int64], attention_mask: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float32]:
        """The graph's ``(batch, tokens, dimension)`` output states for tokenised inputs."""
        [out] = self.session().run(None, {"input_ids": input_ids, "attention_mask": attention_mask})
        return np.asarray(out, dtype=np.float32)

    def encode(
        self, texts: list[str], *, batch_size: int = 64, progress: bool = False
    ) -> npt.NDArray[np.float32]:
        """``(N, dim)`` unit vectors for ``texts`` (prompt already prepended), in order."""
        from tqdm.auto import tqdm

        session = self.session()
        tokenizer = self.tokenizer
        max_length = int(self.model.max_seq_length or 512)
        order = np.argsort([-len(text) for text in texts], kind="stable")
        out = np.empty((len(texts), self.model.get_embedding_dimension() or 0), np.float32)
        starts = range(0, len(texts), batch_size)
        for start in tqdm(starts, desc="Batches", disable=not progress):
            chunk = order[start : start + batch_size]
            batch = tokenizer(
                [texts[i] for i in chunk], return_tensors="np", padding=True, truncation=True,
                max_length=max_length,
            )  # fmt: skip
            mask = batch["attention_mask"].astype(np.int64)
            [hidden] = session.run(
                None, {"input_ids": batch["input_ids"].astype(np.int64), "attention_mask": mask}
            )
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[chunk] = pooled
        return out
