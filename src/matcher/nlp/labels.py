"""Embedded label indexes: every English and Vietnamese label of a set of ESCO concepts.

One vector per label (preferred, alternative, Vietnamese); a concept's score for a query is its
best label's score. The vectors are cached in the state directory, keyed by the encoder and the
label set, so they are computed once per model.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Container, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from matcher.nlp.encoder import Encoder, Kind
from matcher.search.index import VectorIndex, one_blas_thread
from matcher.settings import IndexConfig

logger = logging.getLogger(__name__)
#: Cached label vector files kept per label-set name (one per model).
KEEP_CACHED = 4


@dataclass(frozen=True)
class Label:
    text: str
    uri: str
    #: "pref", "alt" or "vi"
    source: str


@dataclass(frozen=True)
class ConceptScore:
    uri: str
    score: float
    #: the label that scored best
    label: str
    source: str
    #: how many of the :class:`Vote`'s nearest labels carry this concept
    votes: int = 0


@dataclass(frozen=True)
class Vote:
    """The labels of one ``source`` nearest a query vote for their concepts: each concept's
    score gains ``weight`` × the share of the ``neighbours`` nearest such labels that carry it.
    Only labels within ``margin`` of the query's best label score vote: a text far from every
    such label (a Vietnamese commune post among English vacancy titles) gets no votes, rather
    than votes for whatever occupations are common among the labels.

    For noisy example labels (vacancy titles tagged by hand): one mis-tagged title near the
    query moves its concept less than ten well-tagged ones (docs/evaluation.md)."""

    source: str
    neighbours: int = 20
    weight: float = 0.16
    margin: float = 0.05


class LabelIndex:
    """Nearest concepts to a text, through the embeddings of their labels."""

    def __init__(
        self,
        name: str,
        labels: list[Label],
        index: VectorIndex,
        kind: Kind,
        source_weights: dict[str, float] | None = None,
        *,
        dense: bool = False,
        vote: Vote | None = None,
    ) -> None:
        """``dense``: search by one matrix product with every label (many queries at once,
        such as the ~80 phrases of a profile: 3× faster than FAISS here) rather than FAISS."""
        self.name = name
        self.labels = labels
        self.index = index
        self.kind = kind
        #: Multiplies a label's similarity by its source's weight, e.g. ``{"alt": 0.98}``: when
        #: a preferred and an alternative label match equally, the preferred one's concept wins.
        self.source_weights = source_weights or {}
        #: the label vectors as one matrix, shared with ``index`` (no second copy)
        self._matrix = (
            index.matrix([str(row) for row in range(len(labels))]) if dense and labels else None
        )
        voters = [row for row, label in enumerate(labels) if vote and label.source == vote.source]
        self.vote = vote if voters else None
        #: the voting labels' positions and vectors (a view when they are consecutive rows)
        self._voters = np.array(voters, dtype=np.int64)
        self._voter_matrix = index.matrix([str(row) for row in voters]) if voters else None

    @classmethod
    def build(
        cls,
        name: str,
        labels: Iterable[Label],
        encoder: Encoder,
        cache_dir: Path,
        *,
        kind: Kind = "query",
        config: IndexConfig | None = None,
        source_weights: dict[str, float] | None = None,
        dense: bool = False,
        vote: Vote | None = None,
    ) -> LabelIndex:
        """Embed ``labels`` (or read them from the cache) and index them.

        Args:
            name: what the index holds, e.g. ``"occupations"``.
            labels: the labels; duplicates (same text and concept) are dropped.
            encoder: the model; its fingerprint keys the cache (labels are always encoded in fp32).
            cache_dir: where the vectors are kept between runs.
            kind: the prompt the labels are encoded with.
        """
        unique: dict[tuple[str, str], Label] = {}
        for label in labels:
            unique.setdefault((label.text.casefold(), label.uri), label)
        ordered = list(unique.values())
        digest = hashlib.sha256()
        for label in ordered:
            digest.update(f"{label.uri}\t{label.text}\t{label.source}\n".encode())
        key = f"{name}-{encoder.fingerprint}-{kind}-{digest.hexdigest()[:12]}"
        path = Path(cache_dir) / f"{key}.npz"
        if path.exists():
            index = VectorIndex.load(path)
            if len(index) == len(ordered):
                return cls(name, ordered, index, kind, source_weights, dense=dense, vote=vote)
        logger.info(
            "embedding %d %s labels with %s (once per model)", len(ordered), name, encoder.name
        )
        vectors = encoder.encode(
            [label.text for label in ordered], kind=kind, progress=True, precise=True
        )
        index = VectorIndex(encoder.dimension, config or IndexConfig(exact_threshold=10**9))
        index.add(
            [str(position) for position in range(len(ordered))],
            vectors,
            [{"uri": label.uri, "source": label.source} for label in ordered],
        )
        index.save(path)
        # keep the newest few per label set: a model being evaluated against the champion, or
        # a switch back, should not re-embed everything
        cached = sorted(Path(cache_dir).glob(f"{name}-*.npz"), key=lambda p: p.stat().st_mtime)
        for stale in cached[:-KEEP_CACHED]:
            stale.unlink(missing_ok=True)
        return cls(name, ordered, index, kind, source_weights, dense=dense, vote=vote)

    def centroids(self, skip: Container[str] = ()) -> tuple[list[str], npt.NDArray[np.float32]]:
        """One unit vector per concept: the mean of its label vectors, leaving out labels of
        the sources in ``skip``. ``(uris, matrix)``."""
        uris = sorted({label.uri for label in self.labels})
        row = {uri: i for i, uri in enumerate(uris)}
        sums = np.zeros((len(uris), self.index.dimension), dtype=np.float32)
        counts = np.zeros(len(uris), dtype=np.float32)
        for position, label in enumerate(self.labels):
            if label.source in skip:
                continue
            sums[row[label.uri]] += self.index.vector(str(position))
            counts[row[label.uri]] += 1
        sums /= np.maximum(counts, 1)[:, None]
        sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        return uris, sums

    def search(
        self, vectors: npt.NDArray[np.float32], k: int, *, fetch: int | None = None
    ) -> list[list[ConceptScore]]:
        """Top-``k`` concepts for each query vector, by best label (the best ``fetch`` labels
        of each query, each weighted by its source), plus the :class:`Vote` where there is one."""
        queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.index.dimension)
        fetch = min(len(self.labels), fetch or max(k * 8, 50))
        if not len(queries) or not fetch:
            return [[] for _ in range(len(queries))]
        results = []
        voted = self._votes(queries)
        for position, hits in enumerate(self._nearest(queries, fetch)):
            best: dict[str, ConceptScore] = {}
            # the voters come second: a concept only they reach starts from its nearest voter
            for row, raw in [*hits, *voted[position]]:
                label = self.labels[row]
                score = raw * self.source_weights.get(label.source, 1.0)
                if label.uri not in best or score > best[label.uri].score:
                    best[label.uri] = ConceptScore(label.uri, score, label.text, label.source)
            if self.vote is not None and voted[position]:
                floor = max(c.score for c in best.values()) - self.vote.margin
                counts = Counter(
                    self.labels[row].uri for row, raw in voted[position] if raw >= floor
                )
                share = self.vote.weight / len(voted[position])
                for uri, votes in counts.items():
                    concept = best[uri]
                    best[uri] = replace(concept, score=concept.score + share * votes, votes=votes)
            results.append(sorted(best.values(), key=lambda c: -c.score)[:k])
        return results

    def _votes(self, queries: npt.NDArray[np.float32]) -> list[list[tuple[int, float]]]:
        """(label position, inner product) of each query's nearest voting labels."""
        if self.vote is None or self._voter_matrix is None:
            return [[] for _ in range(len(queries))]
        with one_blas_thread():
            scores = queries @ self._voter_matrix.T
        m = min(self.vote.neighbours, scores.shape[1])
        top = np.argpartition(-scores, m - 1, axis=1)[:, :m]
        return [
            [(int(self._voters[j]), float(row_scores[j])) for j in row]
            for row, row_scores in zip(top, scores)
        ]

    def _nearest(
        self, queries: npt.NDArray[np.float32], fetch: int
    ) -> list[list[tuple[int, float]]]:
        """(label position, inner product) of the ``fetch`` nearest labels of each query."""
        if self._matrix is None:
            return [
                [(int(h.id), h.score) for h in hits] for hits in self.index.search(queries, fetch)
            ]
        import torch

        with one_blas_thread():
            # on this thread only: idle BLAS threads spin after a call and took the cores
            # from the model's next forward pass (this product then a query encode: 120 ms
            # together, 46 ms apart; docs/benchmarks.md)
            scores = queries @ self._matrix.T
        top_scores, top_rows = torch.topk(torch.from_numpy(scores), fetch)
        return [
            list(zip(rows, values)) for rows, values in zip(top_rows.tolist(), top_scores.tolist())
        ]
