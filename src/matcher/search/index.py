"""A FAISS index with string ids, metadata filters, updates and atomic save/load.

The vectors themselves are kept alongside the FAISS structure: they are the source of truth,
so removals can be tombstoned and the structure rebuilt, and the index can switch from exact to
approximate search as it grows. They live in a buffer that grows by half, so additions are
amortised. The metadata is kept as columns (:mod:`matcher.search.columns`): a filter becomes a
boolean mask over every row in a few numpy steps, and the plan follows from how many rows it
allows (see :meth:`VectorIndex.search`).

Thread safety: a search only reads. The FAISS structure is built or extended by the call that
changes the index (``add``, ``upsert``, ``remove``, ``load``), never by a search, because a
FAISS index is not safe to change from several threads (two first searches that both built it
lazily crashed the server with SIGSEGV). Any number of threads may search at once; a caller
that changes an index while others search it must hold a lock around both (the catalog does).

One concept, the index and its file format (about 500 lines).
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

from matcher import faults
from matcher.errors import IndexStateError, InvalidInputError
from matcher.search.columns import Columns, Where, from_mapping
from matcher.settings import IndexConfig

FORMAT_VERSION = 1
#: A filter: a :class:`~matcher.search.columns.Where` (evaluated over whole columns), a mapping
#: (``{"field": value}``, the same), or a predicate on one row's metadata (called per row: slow
#: at scale, kept for one-off callers).
Filter = Where | Mapping[str, Any] | Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    metadata: Mapping[str, Any] = field(default_factory=dict)


class VectorIndex:
    """Inner-product search over unit vectors, addressed by string ids.

    Args:
        dimension: vector length.
        config: exact below ``config.exact_threshold`` vectors, HNSW or IVF above.
    """

    def __init__(self, dimension: int, config: IndexConfig | None = None) -> None:
        self.dimension = dimension
        self.config = config or IndexConfig()
        #: rows' vectors, with room to grow (additions are amortised); ``_vectors`` is the used part
        self._buffer = np.zeros((0, dimension), dtype=np.float32)
        self._ids: list[str | None] = []
        #: whether each row is live (not removed), with the same room
        self._live_buffer = np.zeros(0, dtype=bool)
        self._columns = Columns()
        self._row_of: dict[str, int] = {}
        self._faiss: faiss.Index | None = None
        self._faiss_rows = 0  # rows of _vectors already inside _faiss

    @property
    def _vectors(self) -> npt.NDArray[np.float32]:
        return self._buffer[: len(self._ids)]

    @property
    def _live(self) -> npt.NDArray[np.bool_]:
        return self._live_buffer[: len(self._ids)]

    # ------------------------------------------------------------------ size and kind
    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._row_of

    @property
    def ids(self) -> list[str]:
        return [item_id for item_id in self._ids if item_id is not None]

    @property
    def kind(self) -> str:
        """``exact``, ``hnsw`` or ``ivf``: what a search would use now."""
        return "exact" if len(self) < self.config.exact_threshold else self.config.ann

    def metadata(self, item_id: str) -> Mapping[str, Any]:
        return self._columns.row(self._row(item_id))

    def vector(self, item_id: str) -> npt.NDArray[np.float32]:
        return self._vectors[self._row(item_id)].copy()

    def matrix(self, ids: Sequence[str]) -> npt.NDArray[np.float32]:
        """The vectors of ``ids``, one row each in that order: a read-only view of the stored
        array (no copy) when they are consecutive rows in order, else a copy."""
        rows = [self._row(item_id) for item_id in ids]
        if rows and rows == list(range(rows[0], rows[0] + len(rows))):
            view = self._vectors[rows[0] : rows[0] + len(rows)]
            view.flags.writeable = False
            return view
        return self._vectors[rows]

    def _row(self, item_id: str) -> int:
        try:
            return self._row_of[item_id]
        except KeyError:
            raise KeyError(f"{item_id!r} is not in the index") from None

    # ------------------------------------------------------------------ changes
    def _check_vectors(self, ids: Sequence[str], vectors: npt.ArrayLike) -> npt.NDArray[np.float32]:
        array = np.ascontiguousarray(vectors, dtype=np.float32)
        if array.ndim != 2 or array.shape[1] != self.dimension:
            raise InvalidInputError(
                f"vectors must have shape (n, {self.dimension}); got {array.shape}"
            )
        if array.shape[0] != len(ids):
            raise InvalidInputError(f"{len(ids)} ids but {array.shape[0]} vectors")
        if len(set(ids)) != len(ids):
            raise InvalidInputError("ids must be unique within one call")
        if not np.isfinite(array).all():
            raise InvalidInputError("vectors contain NaN or infinity")
        return array

    def add(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        metadata: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Add new items. Raises :class:`InvalidInputError` if an id is already present."""
        array = self._check_vectors(ids, vectors)
        present = [item_id for item_id in ids if item_id in self._row_of]
        if present:
            raise InvalidInputError(
                f"{len(present)} id(s) already in the index (first: {present[0]!r}); "
                "use upsert to replace them"
            )
        self._append(ids, array, metadata)

    def upsert(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        metadata: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Add items, replacing those whose id is already present."""
        array = self._check_vectors(ids, vectors)
        self.remove([item_id for item_id in ids if item_id in self._row_of])
        self._append(ids, array, metadata)

    def update(
        self,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        metadata: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Replace existing items. Raises ``KeyError`` for an unknown id."""
        for item_id in ids:
            self._row(item_id)
        self.upsert(ids, vectors, metadata)

    def remove(self, ids: Iterable[str]) -> int:
        """Remove items by id; unknown ids are ignored. Returns how many were removed."""
        removed = 0
        for item_id in ids:
            row = self._row_of.pop(item_id, None)
            if row is None:
                continue
            self._ids[row] = None
            self._live_buffer[row] = False
            self._columns.clear(row)
            removed += 1
        dead = len(self._ids) - len(self._row_of)
        if dead > max(1024, len(self._ids) // 4):
            self._compact()
        self._sync_structure()
        return removed

    def _append(
        self,
        ids: Sequence[str],
        array: npt.NDArray[np.float32],
        metadata: Sequence[Mapping[str, Any]] | None,
        *,
        sync: bool = True,
    ) -> None:
        if metadata is not None and len(metadata) != len(ids):
            raise InvalidInputError(f"{len(ids)} ids but {len(metadata)} metadata records")
        start = len(self._ids)
        end = start + len(ids)
        if end > len(self._buffer):  # grow by half: n additions cost O(n) copies in all
            capacity = max(end, len(self._buffer) * 3 // 2, 1024)
            grown = np.empty((capacity, self.dimension), dtype=np.float32)
            grown[:start] = self._buffer[:start]
            live = np.zeros(capacity, dtype=bool)
            live[:start] = self._live_buffer[:start]
            self._buffer, self._live_buffer = grown, live
        self._buffer[start:end] = array
        self._live_buffer[start:end] = True
        self._columns.extend(metadata if metadata is not None else [{}] * len(ids))
        for offset, item_id in enumerate(ids):
            self._ids.append(item_id)
            self._row_of[item_id] = start + offset
        if sync:
            self._sync_structure()

    def _compact(self) -> None:
        live = np.flatnonzero(self._live)
        self._buffer = self._vectors[live]
        self._live_buffer = np.ones(len(live), dtype=bool)
        self._ids = [self._ids[row] for row in live.tolist()]
        self._columns.keep(live)
        self._row_of = {item_id: row for row, item_id in enumerate(self._ids) if item_id}
        self._faiss = None
        self._faiss_rows = 0

    # ------------------------------------------------------------------ FAISS structure
    def _new_structure(self) -> faiss.Index:
        config = self.config
        if self.kind == "exact":
            return faiss.IndexFlatIP(self.dimension)
        if config.ann == "hnsw":
            graph = faiss.IndexHNSWFlat(self.dimension, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = config.hnsw_ef_construction
            graph.hnsw.efSearch = config.hnsw_ef_search
            return graph
        quantizer = faiss.IndexFlatIP(self.dimension)
        # FAISS wants about 39 training points per list; small indexes get fewer lists.
        nlist = max(1, min(config.ivf_nlist, len(self._ids) // 39))
        inverted = faiss.IndexIVFFlat(quantizer, self.dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        inverted.train(self._vectors)
        inverted.nprobe = min(config.ivf_nprobe, nlist)
        return inverted

    def _sync_structure(self) -> None:
        """Bring the FAISS structure in line with the rows: build it, extend it, or rebuild it
        when the kind changes (exact ⇄ approximate). Called by every change, never by a search."""
        if not self._row_of:
            self._faiss, self._faiss_rows = None, 0
            return
        wanted_flat = self.kind == "exact"
        if self._faiss is not None and isinstance(self._faiss, faiss.IndexFlatIP) != wanted_flat:
            self._faiss = None
        if self._faiss is None:
            if len(self._ids) != len(self._row_of):
                self._compact()
            self._faiss = self._new_structure()
            self._faiss_rows = 0
        if self._faiss_rows < len(self._ids):
            self._faiss.add(self._vectors[self._faiss_rows :])
            self._faiss_rows = len(self._ids)

    def _structure(self) -> faiss.Index:
        """The FAISS structure over every row (read-only: the changes keep it built)."""
        if self._faiss is None or self._faiss_rows != len(self._ids):
            raise IndexStateError("internal error: the search structure is not built")
        return self._faiss

    def build(self) -> None:
        """Kept for callers that built the structure ahead of searches: every change does now."""
        self._sync_structure()

    # ------------------------------------------------------------------ search
    def search(
        self,
        queries: npt.ArrayLike,
        k: int = 10,
        *,
        where: Filter | None = None,
    ) -> list[list[Hit]]:
        """Top-``k`` items for each query, best first.

        Args:
            queries: ``(Q, dimension)`` float32 unit vectors (a single ``(dimension,)`` vector
                is accepted too).
            k: results per query.
            where: keep only items whose metadata matches: a
                :class:`~matcher.search.columns.Where`, ``{"field": value}``,
                ``{"field": [any, of, these]}`` (list-valued fields match on overlap), or a
                predicate on the metadata (called once per row: slow at scale).

        The plan follows from how many rows the filter allows: none, then nothing; all of
        them, the unfiltered search; at most ``config.exact_subset_limit`` or under
        ``config.ann_min_share`` of them, exact over those rows (a graph search finds too few
        of so few); more, the ANN structure restricted to them (a FAISS ``IDSelectorBitmap``).

        Returns:
            Q lists of at most ``k`` hits, each with the id, the inner-product score and the
            metadata.
        """
        array = np.ascontiguousarray(queries, dtype=np.float32)
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[1] != self.dimension:
            raise InvalidInputError(f"queries must have shape (q, {self.dimension})")
        if k < 1:
            raise InvalidInputError("k must be at least 1")
        if not self._row_of:
            return [[] for _ in range(len(array))]
        _set_faiss_threads(1 if len(array) == 1 else max(1, os.cpu_count() or 1))
        if where is None:
            return self._search_structure(array, k)
        allowed = self._allowed(where)
        count = int(np.count_nonzero(allowed))
        if count == len(self._row_of):
            return self._search_structure(array, k)
        share = count / len(self._row_of)
        if (self.kind == "exact" or count <= self.config.exact_subset_limit
                or share < self.config.ann_min_share):  # fmt: skip
            return self._exact_subset(array, k, allowed, count)
        return self._search_selected(array, k, allowed, count)

    def _allowed(self, where: Filter) -> npt.NDArray[np.bool_]:
        """The live rows that ``where`` keeps, as a mask over every row."""
        if isinstance(where, Mapping):
            where = from_mapping(where)
        if isinstance(where, Where):
            return where.mask(self._columns) & self._live
        return np.fromiter(
            (live and bool(where(self._columns.row(row))) for row, live in enumerate(self._live)),
            dtype=bool,
            count=len(self._ids),
        )

    def _exact_subset(
        self,
        queries: npt.NDArray[np.float32],
        k: int,
        allowed: npt.NDArray[np.bool_],
        count: int,
    ) -> list[list[Hit]]:
        """Exact over the ``allowed`` rows: FAISS's flat scan with a bitmap selector (it reads
        only the allowed rows, and copies nothing) where the structure has the flat vectors
        (exact or HNSW), else numpy over a copy of those rows."""
        if count == 0:
            return [[] for _ in range(len(queries))]
        want = min(k, count)
        flat = self._flat()
        if flat is not None:
            bits = np.packbits(allowed, bitorder="little")  # kept alive during the search
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
            scores, rows = flat.search(queries, want, params=params)
            return [
                [self._hit(int(row), float(score)) for score, row in zip(query_scores, query_rows)
                 if row >= 0]
                for query_scores, query_rows in zip(scores, rows)
            ]  # fmt: skip
        subset = np.flatnonzero(allowed)
        with one_blas_thread():
            scores = queries @ self._vectors[subset].T
        best = np.argpartition(-scores, want - 1, axis=1)[:, :want]
        results = []
        for query_scores, candidates in zip(scores, best):
            ordered = candidates[np.argsort(-query_scores[candidates], kind="stable")]
            results.append([self._hit(int(subset[c]), float(query_scores[c])) for c in ordered])
        return results

    def _flat(self) -> faiss.IndexFlat | None:
        """The structure's flat vectors of every row, where it keeps them."""
        structure = self._structure()
        if isinstance(structure, faiss.IndexFlat):
            return structure
        if isinstance(structure, faiss.IndexHNSW):
            storage = faiss.downcast_index(structure.storage)
            return storage if isinstance(storage, faiss.IndexFlat) else None
        return None

    def _search_selected(
        self,
        queries: npt.NDArray[np.float32],
        k: int,
        allowed: npt.NDArray[np.bool_],
        count: int,
    ) -> list[list[Hit]]:
        """The ANN structure, visiting only the ``allowed`` rows. With few allowed rows an
        HNSW search must look further to find ``k`` of them: efSearch grows as 1 / the share
        (at most the allowed rows), and a query still short of ``k`` is answered exactly."""
        structure = self._structure()
        bits = np.packbits(allowed, bitorder="little")  # kept alive during the search
        selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
        share = count / len(self._ids)
        want = min(k, count)
        if isinstance(structure, faiss.IndexHNSW):
            ef = max(self.config.hnsw_ef_search, want)
            ef = int(min(count, ef / share))
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=ef)  # type: ignore[attr-defined]
        elif isinstance(structure, faiss.IndexIVF):
            params = faiss.SearchParametersIVF(sel=selector, nprobe=structure.nprobe)  # type: ignore[call-arg]
        else:
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, rows = structure.search(queries, want, params=params)
        results: list[list[Hit]] = []
        short: list[int] = []
        for position, (query_scores, query_rows) in enumerate(zip(scores, rows)):
            hits = [self._hit(int(row), float(score))
                    for score, row in zip(query_scores, query_rows) if row >= 0]  # fmt: skip
            if len(hits) < want:
                short.append(position)
            results.append(hits)
        if short:
            exact = self._exact_subset(queries[short], k, allowed, count)
            for position, hits in zip(short, exact):
                results[position] = hits
        return results

    def _search_structure(self, queries: npt.NDArray[np.float32], k: int) -> list[list[Hit]]:
        """Every live row. Removed rows stay in the structure until a compaction: then the
        live rows are a filter like any other."""
        if len(self._row_of) < len(self._ids):
            return self._search_selected(queries, k, self._live.copy(), len(self._row_of))
        scores, rows = self._structure().search(queries, min(k, len(self._ids)))
        return [
            [self._hit(int(row), float(score)) for score, row in zip(query_scores, query_rows)
             if row >= 0]
            for query_scores, query_rows in zip(scores, rows)
        ]  # fmt: skip

    def _hit(self, row: int, score: float) -> Hit:
        item_id = self._ids[row]
        if item_id is None:  # pragma: no cover - filtered out by the callers
            raise IndexStateError("internal error: a removed row was returned")
        return Hit(item_id, score, self._columns.row(row))

    # ------------------------------------------------------------------ persistence
    def save(self, path: Path) -> None:
        """Write the index to ``path`` atomically.

        The file is written next to ``path``, flushed to disk, then renamed over it: a crash at
        any point leaves either the previous file or the new one, never a mix.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        live = np.flatnonzero(self._live).tolist()
        header = {
            "format": FORMAT_VERSION,
            "dimension": self.dimension,
            "config": self.config.model_dump(),
        }
        arrays: dict[str, npt.NDArray[Any]] = {
            "header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
            "vectors": self._vectors[live],
            "ids": np.frombuffer(json.dumps([self._ids[row] for row in live]).encode(), np.uint8),
            "metadata": np.frombuffer(
                json.dumps([self._columns.row(row) for row in live], ensure_ascii=False).encode(),
                dtype=np.uint8,
            ),
        }
        if self.kind != "exact" and len(live) == len(self._ids):
            arrays["structure"] = faiss.serialize_index(self._structure())
        for stale in path.parent.glob(f".{path.name}.*"):  # left by a save that was killed
            stale.unlink(missing_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            os.fchmod(descriptor, 0o644)
            with os.fdopen(descriptor, "wb") as handle:
                np.savez(handle, **arrays)  # type: ignore[arg-type]
                handle.flush()
                os.fsync(handle.fileno())
            faults.point("index-save")
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        """Read an index written by :meth:`save`."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(data["header"].tobytes())
                if header.get("format") != FORMAT_VERSION:
                    raise IndexStateError(
                        f"{path} has index format {header.get('format')}; "
                        f"this version reads {FORMAT_VERSION}: rebuild it"
                    )
                index = cls(header["dimension"], IndexConfig(**header["config"]))
                vectors = data["vectors"].astype(np.float32)
                ids = json.loads(data["ids"].tobytes())
                metadata = json.loads(data["metadata"].tobytes())
                index._append(ids, vectors, metadata, sync=False)
                if "structure" in data.files:
                    index._faiss = faiss.deserialize_index(data["structure"])
                    index._faiss_rows = len(ids)
                else:
                    index._faiss, index._faiss_rows = None, 0
                index._sync_structure()
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            raise IndexStateError(
                f"cannot read the index at {path} ({error}); rebuild it"
            ) from error
        return index


_faiss_threads = threading.local()


@functools.cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread() -> Any:
    """On this thread, numpy's BLAS uses one thread: a matrix-vector product on 2 busy cores
    took 8 ms with idle BLAS threads spinning and 0.8 ms without (docs/benchmarks.md)."""
    return _blas().limit(limits=1, user_api="blas")


def _set_faiss_threads(count: int) -> None:
    """FAISS's OpenMP thread count is per thread: set it in the thread that searches, and only
    when it changes (one query cannot use a second core; a batch can)."""
    if getattr(_faiss_threads, "count", None) != count:
        faiss.omp_set_num_threads(count)
        _faiss_threads.count = count
