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

One concept, the index and its file format (about 720 lines).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import tempfile
import threading
import time
import uuid
import zipfile
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeGuard

import faiss
import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

from matcher import faults
from matcher.errors import IndexStateError, InvalidInputError
from matcher.search.columns import Columns, Where, everything, from_mapping
from matcher.settings import IndexConfig

logger = logging.getLogger(__name__)

#: 2: the vectors are left out of the file where the saved structure holds them (HNSW).
#: 3: removed rows keep their place (id ``null``), a generation, and segments beside the file.
#: 4: the metadata as columns (codes and distinct values), and the partition's lists.
FORMAT_VERSION = 4
READABLE_FORMATS = (1, 2, 3, 4)
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
        #: rows' vectors, with room to grow (additions are amortised), while the FAISS structure
        #: does not hold them (IVF, or before it is built); ``_vectors`` is the used part
        self._buffer = np.zeros((0, dimension), dtype=np.float32)
        #: whether the structure's flat storage holds every row's vectors (exact or HNSW): then
        #: they are kept there only, once, and ``_buffer`` is empty
        self._in_faiss = False
        self._ids: list[str | None] = []
        #: whether each row is live (not removed), with the same room
        self._live_buffer = np.zeros(0, dtype=bool)
        self._columns = Columns()
        self._row_of: dict[str, int] = {}
        #: what the file last saved or loaded holds, and the rows it holds removed since
        self._on_disk: _OnDisk | None = None
        self._removed_since_save: list[int] = []
        self._faiss: faiss.Index | None = None
        self._faiss_rows = 0  # rows of _vectors already inside _faiss
        #: a coarse partition of the rows (HNSW only), for filters the graph walks badly
        self._lists: _Lists | None = None
        #: the rows a compressed index's IVF was trained for (trained again at LIST_REGROW x)
        self._codes_trained_rows = 0
        #: the rows recent filters allowed, by filter key, valid until the next change
        self._selections: OrderedDict[Hashable, _Selection] = OrderedDict()
        self._selection_lock = threading.Lock()
        #: how many queries each plan answered: ``unfiltered``, ``walk`` (the graph restricted
        #: to the allowed rows), ``lists`` (the partition's nearest lists), ``exact``
        self.plans: Counter[str] = Counter()

    @property
    def _vectors(self) -> npt.NDArray[np.float32] | npt.NDArray[np.float16]:
        """Every row's vector (removed rows too, until a compaction): float32, or float16
        where the structure keeps them so (``config.hnsw_vectors``). A view: valid until the
        next change of the index."""
        if self._in_faiss:
            return self._stored_vectors()
        return self._buffer[: len(self._ids)]

    def _stored_vectors(self) -> npt.NDArray[np.float32] | npt.NDArray[np.float16]:
        """The vectors in the structure's storage, as a view of FAISS's memory."""
        if _compressed(self._faiss):  # 8-bit codes only: decoded as they are read
            return _Decoded(self._faiss)  # type: ignore[return-value]  # indexed like one
        storage = self._storage()
        if storage is None:  # pragma: no cover - _in_faiss is only set with a storage
            raise IndexStateError("internal error: the vectors are not in the structure")
        if isinstance(storage, faiss.IndexFlat):
            view = faiss.rev_swig_ptr(storage.get_xb(), storage.ntotal * self.dimension)
            return view.reshape(storage.ntotal, self.dimension)
        codes = faiss.rev_swig_ptr(storage.codes.data(), storage.ntotal * storage.code_size)
        return codes.view(np.float16).reshape(storage.ntotal, self.dimension)

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

    def select_ids(self, where: Filter) -> list[str]:
        """The ids of the live rows ``where`` keeps, sorted: a list by the metadata columns
        alone (no query vector), e.g. a centre's consenting candidates of one province."""
        mask = self._select(where).mask
        return sorted(str(self._ids[row]) for row in np.flatnonzero(mask))

    @property
    def saved_as(self) -> str | None:
        """The file state this index holds exactly: its file, generation and segments, as
        last saved or loaded; ``None`` when it changed since (or was never saved)."""
        on_disk = self._on_disk
        if on_disk is None and not self._ids:
            return "no rows, no file"  # see save
        if on_disk is None or self._changes():
            return None
        return f"{on_disk.path.name}:{on_disk.generation}:{on_disk.segments}:{on_disk.rows_written}"

    @property
    def kind(self) -> str:
        """``exact``, ``hnsw`` or ``ivf``: what a search would use now."""
        return "exact" if len(self) < self.config.exact_threshold else self.config.ann

    def metadata(self, item_id: str) -> Mapping[str, Any]:
        return self._columns.row(self._row(item_id))

    def values(self, name: str) -> dict[str, Any]:
        """Each item's value of metadata field ``name`` (``None`` where absent), in one pass
        over its column (a million content hashes at start-up: not a million dicts)."""
        return _without_removed(dict(zip(self._ids, self._columns.values(name))))

    def vector(self, item_id: str) -> npt.NDArray[np.float32]:
        return self._vectors[self._row(item_id)].astype(np.float32)  # a copy

    def matrix(self, ids: Sequence[str]) -> npt.NDArray[np.float32]:
        """The vectors of ``ids``, one row each in that order: a read-only view of the stored
        array (no copy, valid until the index changes) when they are consecutive rows in order,
        else a copy."""
        rows = [self._row(item_id) for item_id in ids]
        vectors: npt.NDArray[Any] = self._vectors
        if vectors.dtype != np.float32:  # kept in float16: always a float32 copy
            return vectors[rows].astype(np.float32)
        if rows and rows == list(range(rows[0], rows[0] + len(rows))):
            view = vectors[rows[0] : rows[0] + len(rows)]
            view.flags.writeable = False
            return view
        return vectors[rows]

    def _row(self, item_id: str) -> int:
        try:
            return self._row_of[item_id]
        except KeyError:
            raise KeyError(f"{item_id!r} is not in the index") from None

    # ------------------------------------------------------------------ changes
    def _check_vectors(self, ids: Sequence[str], vectors: npt.ArrayLike) -> npt.NDArray[np.float32]:
        return checked_vectors(self.dimension, ids, vectors)

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
        rows = [self._row_of[item_id] for item_id in ids if item_id in self._row_of]
        removed = self._kill_rows(rows)
        dead = len(self._ids) - len(self._row_of)
        if dead > max(1024, len(self._ids) // 4):
            self._compact()
        self._sync_structure()
        return removed

    def _kill_rows(self, rows: Iterable[int]) -> int:
        """Mark rows removed (their place stays until a compaction); how many were live."""
        self._selections.clear()
        killed = 0
        written = self._on_disk.rows_written if self._on_disk else 0
        for row in rows:
            item_id = self._ids[row]
            if item_id is None:
                continue
            del self._row_of[item_id]
            self._ids[row] = None
            self._live_buffer[row] = False
            self._columns.clear(row)
            if row < written:  # the file has it: the next segment says it is gone
                self._removed_since_save.append(row)
            killed += 1
        return killed

    def _append(
        self,
        ids: Sequence[str | None],
        array: npt.NDArray[np.float32],
        metadata: Sequence[Mapping[str, Any]] | None,
        *,
        sync: bool = True,
    ) -> None:
        if metadata is not None and len(metadata) != len(ids):
            raise InvalidInputError(f"{len(ids)} ids but {len(metadata)} metadata records")
        self._selections.clear()
        start = len(self._ids)
        end = start + len(ids)
        if end > len(self._live_buffer):  # grow by half: n additions cost O(n) copies in all
            live = np.zeros(max(end, len(self._live_buffer) * 3 // 2, 1024), dtype=bool)
            live[:start] = self._live_buffer[:start]
            self._live_buffer = live
        self._live_buffer[start:end] = True
        self._columns.extend(metadata if metadata is not None else [{}] * len(ids))
        for offset, item_id in enumerate(ids):
            self._ids.append(item_id)
            if item_id is None:  # a removed row read from a file keeps its place
                self._live_buffer[start + offset] = False
            else:
                self._row_of[item_id] = start + offset
        if self._in_faiss and sync and self._faiss is not None and self._fits(self._faiss):
            self._faiss.add(array)  # FAISS's storage grows by itself, amortised
            self._faiss_rows = end
            self._sync_lists()
            return
        self._own_vectors(end, start)
        self._buffer[start:end] = array
        if sync:
            self._sync_structure()

    def _load_rows(self, ids: list[str | None], columns: Columns) -> None:
        """Ids (``None``: a removed row) and metadata of rows whose vectors are already in the
        structure."""
        self._live_buffer = np.array([item_id is not None for item_id in ids], dtype=bool)
        self._columns = columns
        self._ids = list(ids)
        self._row_of = _without_removed(dict(zip(ids, range(len(ids)))))  # 3x a comprehension

    def _own_vectors(self, rows: int, valid: int) -> None:
        """Keep the vectors in ``_buffer`` (copied out of FAISS if they were there), with room
        for ``rows`` rows; its first ``valid`` rows are kept."""
        if not self._in_faiss and rows <= len(self._buffer):
            return
        capacity = max(rows, len(self._buffer) * 3 // 2, 1024)
        grown = np.empty((capacity, self.dimension), dtype=np.float32)
        source = self._stored_vectors() if self._in_faiss else self._buffer
        for begin in range(0, valid, 65_536):  # codes are decoded: a chunk at a time
            grown[begin : min(valid, begin + 65_536)] = source[begin : min(valid, begin + 65_536)]
        self._buffer, self._in_faiss = grown, False

    def _fits(self, structure: faiss.Index | None) -> bool:
        """Whether ``structure`` is the kind the index should have at its size now."""
        return structure is not None and isinstance(structure, faiss.IndexFlatIP) == (
            self.kind == "exact"
        )

    def _compact(self) -> None:
        self._selections.clear()
        live = np.flatnonzero(self._live)
        # a float32 copy, then FAISS's is freed
        self._buffer = np.asarray(self._vectors[live], dtype=np.float32)
        self._in_faiss = False
        self._live_buffer = np.ones(len(live), dtype=bool)
        self._ids = [self._ids[row] for row in live.tolist()]
        self._columns.keep(live)
        if self._lists is not None:
            self._lists.keep(live)
        self._row_of = {item_id: row for row, item_id in enumerate(self._ids) if item_id}
        self._faiss = None
        self._faiss_rows = 0
        self._on_disk, self._removed_since_save = None, []  # rows renumbered: save it whole

    # ------------------------------------------------------------------ FAISS structure
    def _new_structure(self) -> faiss.Index:
        config = self.config
        if self.kind == "exact":
            return faiss.IndexFlatIP(self.dimension)
        if config.ann == "compressed":
            return self._new_codes()
        if config.ann == "hnsw":
            if config.hnsw_vectors == "fp16":  # half the memory; no training needed
                graph: faiss.IndexHNSW = faiss.IndexHNSWSQ(
                    self.dimension,
                    faiss.ScalarQuantizer.QT_fp16,  # type: ignore[arg-type]
                    config.hnsw_m,
                    faiss.METRIC_INNER_PRODUCT,
                )
            else:
                graph = faiss.IndexHNSWFlat(
                    self.dimension, config.hnsw_m, faiss.METRIC_INNER_PRODUCT
                )
            graph.hnsw.efConstruction = config.hnsw_ef_construction
            graph.hnsw.efSearch = config.hnsw_ef_search
            return graph
        quantizer = faiss.IndexFlatIP(self.dimension)
        # FAISS wants about 39 training points per list; small indexes get fewer lists.
        nlist = max(1, min(config.ivf_nlist, len(self._ids) // 39))
        inverted = faiss.IndexIVFFlat(quantizer, self.dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        inverted.train(np.asarray(self._vectors, dtype=np.float32))
        inverted.nprobe = min(config.ivf_nprobe, nlist)
        return inverted

    def _new_codes(self) -> faiss.IndexIVFScalarQuantizer:
        """An IVF index of 8-bit codes, about √rows lists trained by k-means: the vectors are
        kept as these codes only. Each row is coded less its list's centroid (a finer range
        than the vectors': recall@10 0.95 against 0.915 on the filter tests' clusters); a row
        decoded and coded again in the same list (a segment read back) gets the same codes."""
        live = np.flatnonzero(self._live)
        count = _Lists.count_for(len(live))
        sample = live  # k-means takes LIST_TRAIN_POINTS a list of them; the codes' ranges, all
        if len(live) > CODES_TRAIN_ROWS:
            chosen = np.random.default_rng(0).choice(len(live), CODES_TRAIN_ROWS, replace=False)
            sample = live[np.sort(chosen)]
        codes = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(self.dimension), self.dimension, count,
            faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT, True,  # type: ignore[arg-type]
        )  # fmt: skip
        codes.cp.max_points_per_centroid = LIST_TRAIN_POINTS
        codes.cp.niter, codes.cp.seed, codes.cp.spherical = 10, 1, True
        codes.train(np.ascontiguousarray(self._vectors[sample], dtype=np.float32))
        codes.set_direct_map_type(faiss.DirectMap.Array)  # type: ignore[attr-defined]  # row -> (list, offset): decoding
        codes.nprobe = min(LIST_PROBES, count)
        self._codes_trained_rows = len(live)
        return codes

    def _sync_structure(self) -> None:
        """Bring the FAISS structure in line with the rows: build it, extend it, or rebuild it
        when the kind changes (exact ⇄ approximate). Called by every change, never by a search."""
        if not self._row_of:  # nothing left: start afresh
            self._buffer = np.zeros((0, self.dimension), dtype=np.float32)
            self._live_buffer = np.zeros(0, dtype=bool)
            self._ids, self._columns, self._in_faiss = [], Columns(), False
            self._faiss, self._faiss_rows, self._lists = None, 0, None
            self._on_disk, self._removed_since_save = None, []
            return
        if self._faiss is not None and not self._fits(self._faiss):
            self._own_vectors(len(self._ids), len(self._ids))
            self._faiss = None
        if self._faiss is None:
            if len(self._ids) != len(self._row_of):
                self._compact()
            self._faiss = self._new_structure()
            self._faiss_rows = 0
        if self._faiss_rows < len(self._ids):
            self._faiss.add(self._buffer[self._faiss_rows : len(self._ids)])
            self._faiss_rows = len(self._ids)
        if not self._in_faiss and (self._storage() is not None or _compressed(self._faiss)):
            # the structure holds the vectors now: keep them there only
            self._buffer = np.zeros((0, self.dimension), dtype=np.float32)
            self._in_faiss = True
        self._sync_lists()

    def _sync_lists(self) -> None:
        """Keep the coarse partition over every row: trained once the index is an HNSW graph
        (k-means, seconds at a million rows), extended with each change, none otherwise."""
        if _compressed(self._faiss):
            self._sync_codes_lists()
            return
        if not isinstance(self._faiss, faiss.IndexHNSW):
            self._lists = None
            return
        live = len(self._row_of)
        if self._lists is None or live >= LIST_REGROW * self._lists.trained_rows:
            # trained when the index was a fraction of its size: lists too coarse make a
            # filtered search score several times the rows it needs (a million rows, lists
            # trained at 50,000: salary top tenth 5.3 ms at p50, recall 0.952; at 1M: 2.6 ms,
            # 0.988). Trained again, and every row assigned again: seconds at a million rows
            started, regrown = time.perf_counter(), self._lists is not None
            self._lists = _Lists.train(self._vectors, self._live)
            self._lists.extend(self._vectors)  # every row, here, for the log's time
            logger.info("partitioned %d rows into %d lists in %.1f s", live,
                        len(self._lists.centroids), time.perf_counter() - started)  # fmt: skip
            if regrown and self._on_disk is not None:  # the file's lists are the old ones
                self._on_disk, self._removed_since_save = None, []  # the next save: whole
        self._lists.extend(self._vectors)

    def _sync_codes_lists(self) -> None:
        """A compressed index's lists are its IVF's own: their centroids and each row's list
        (read from FAISS's direct map, so that the counts of allowed rows per list are exactly
        what a scan of those lists finds). The IVF is trained again, every row encoded again
        from its decoded codes, once the index holds :data:`LIST_REGROW` times the rows it was
        trained for."""
        structure = self._faiss
        if not _compressed(structure):  # pragma: no cover - called for a compressed index
            raise IndexStateError("internal error: not a compressed index")
        lists = self._lists
        if lists is None or lists.structure is not structure:
            quantizer = faiss.downcast_index(structure.quantizer)
            centroids = faiss.rev_swig_ptr(quantizer.get_xb(),  # type: ignore[attr-defined]
                                           structure.nlist * self.dimension)  # fmt: skip
            lists = self._lists = _Lists(centroids.reshape(structure.nlist, self.dimension),
                                         trained_rows=self._codes_trained_rows)  # fmt: skip
            lists.structure = structure
        if lists.of_row.size < structure.ntotal:
            placed = faiss.rev_swig_ptr(structure.direct_map.array.data(), structure.ntotal)
            lists.append((placed[lists.of_row.size :] >> 32).astype(np.int32))
        live = len(self._row_of)
        if (live >= LIST_REGROW * lists.trained_rows
                and _Lists.count_for(live) > structure.nlist):  # fmt: skip
            started = time.perf_counter()
            self._own_vectors(len(self._ids), len(self._ids))  # decoded, a chunk at a time
            self._faiss, self._lists = None, None
            self._sync_structure()  # trained on them, and each row encoded again
            logger.info("encoded %d rows again into %d lists in %.1f s", live,
                        _Lists.count_for(live), time.perf_counter() - started)  # fmt: skip
            self._on_disk, self._removed_since_save = None, []  # the next save: whole

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
        of so few); more, the ANN structure restricted to them (a FAISS ``IDSelectorBitmap``),
        unless few of the query's own neighbours are allowed: then exact over the allowed rows
        of the lists nearest the query (an HNSW index keeps a k-means partition for this).

        Returns:
            Q lists of at most ``k`` hits, each with the id, the inner-product score and the
            metadata.
        """
        array = checked_queries(self.dimension, queries, k)
        if not self._row_of:
            return [[] for _ in range(len(array))]
        _set_faiss_threads(1 if len(array) == 1 else max(1, os.cpu_count() or 1))
        if where is None:
            return self._search_structure(array, k)
        selection = self._select(where)
        plan = self.plan(selection.count)
        if plan == "all":
            return self._search_structure(array, k)
        if _compressed(self._faiss) and self._lists is not None:  # no graph: lists always
            return self._search_lists(array, k, selection, self._lists)
        if plan == "exact":
            return self._exact_subset(array, k, selection)
        return self._search_selected(array, k, selection)

    def plan(self, count: int) -> Literal["all", "exact", "selector"]:
        """How a search whose filter allows ``count`` of the live rows runs (see
        :meth:`search`): ``all`` unfiltered, ``exact`` over those rows, ``selector`` the ANN
        structure restricted to them."""
        if count == len(self._row_of):
            return "all"
        if (self.kind == "exact" or count <= self.config.exact_subset_limit
                or count / max(len(self._row_of), 1) < self.config.ann_min_share):  # fmt: skip
            return "exact"
        return "selector"

    def _select(self, where: Filter) -> _Selection:
        """The live rows that ``where`` keeps. A filter with a key (see
        :attr:`~matcher.search.columns.Where.key`) is remembered until the next change of the
        index (at most ``config.filter_cache`` of them): the same province or the same
        recommendation filter again costs no pass over the rows."""
        if isinstance(where, Mapping):
            where = from_mapping(where)
        key = where.key if isinstance(where, Where) else None
        if key is not None:
            found = self._selections.get(key)
            if found is not None:
                return found
        if isinstance(where, Where):
            mask = where.mask(self._columns) & self._live
        else:
            mask = np.fromiter(
                (live and bool(where(self._columns.row(row)))
                 for row, live in enumerate(self._live)),
                dtype=bool,
                count=len(self._ids),
            )  # fmt: skip
        selection = _Selection(mask)
        if key is not None and self.config.filter_cache:
            with self._selection_lock:  # searches run on several threads at once
                self._selections[key] = selection
                while len(self._selections) > self.config.filter_cache:
                    self._selections.popitem(last=False)
        return selection

    def _exact_subset(
        self, queries: npt.NDArray[np.float32], k: int, selection: _Selection
    ) -> list[list[Hit]]:
        """Exact over the allowed rows, in time proportional to how many there are."""
        self.plans["exact"] += len(queries)
        return self._exact_rows(queries, k, selection.rows)

    def _exact_rows(
        self, queries: npt.NDArray[np.float32], k: int, subset: npt.NDArray[np.int64]
    ) -> list[list[Hit]]:
        """The best ``k`` of the rows ``subset``, exactly: FAISS computes the inner products of
        just those rows where the structure has the flat vectors (exact or HNSW; 2.1 ms for
        9,000 of a million rows, where a flat scan with a bitmap selector tests every row:
        5.3 ms), else numpy over a copy of them (IVF)."""
        if len(subset) == 0:
            return [[] for _ in range(len(queries))]
        want = min(k, len(subset))
        storage = self._storage() if self._faiss_rows == len(self._ids) else None
        if isinstance(storage, faiss.IndexFlat):
            labels = np.ascontiguousarray(np.broadcast_to(subset, (len(queries), len(subset))))
            scores = np.empty(labels.shape, dtype=np.float32)
            storage.compute_distance_subset(  # type: ignore[attr-defined]
                len(queries), faiss.swig_ptr(queries), len(subset),
                faiss.swig_ptr(scores), faiss.swig_ptr(labels),
            )  # fmt: skip
        elif storage is not None:  # float16: torch widens them with SIMD (numpy: 2x slower)
            scores = _half_scores(queries, self._stored_vectors(), subset)
        else:
            with one_blas_thread():
                scores = queries @ self._vectors[subset].T
        best = np.argpartition(-scores, want - 1, axis=1)[:, :want]
        results = []
        for query_scores, candidates in zip(scores, best):
            ordered = candidates[np.argsort(-query_scores[candidates], kind="stable")]
            results.append([self._hit(int(subset[c]), float(query_scores[c])) for c in ordered])
        return results

    def _search_lists(
        self, queries: npt.NDArray[np.float32], k: int, selection: _Selection, lists: _Lists
    ) -> list[list[Hit]]:
        """Exact over the allowed rows of the partition's lists nearest each query: lists in
        order of their centroid, skipping those the filter empties, until
        :data:`LIST_PROBES` lists and :data:`LIST_ROWS` rows. It finds the allowed rows
        wherever they are, where a graph walk stays among the query's own neighbours: a
        filter that follows the vectors (a salary band) refuses all of those.

        A compressed index searches this way for every filter: FAISS scans the chosen lists'
        codes, testing the filter's bitmap before it scores a row, until
        :data:`CODES_LIST_ROWS` allowed rows (the codes' rounding asks for more than exact
        float32 rows do), unless that scans over :data:`CODES_SCAN_ROWS` rows in all (a small
        province spread over every list: 4,096 of its rows are enough). A filter that allows
        fewer rows than that has all its lists scanned: an exact search of the codes."""
        structure = self._faiss
        codes = structure if _compressed(structure) else None
        grouped, offsets = selection.grouped(lists)
        counts = np.diff(offsets)
        present = np.flatnonzero(counts)
        with one_blas_thread():
            similarity = queries @ lists.centroids[present].T
        bits = selection.bits  # kept alive during the scans
        selector = faiss.IDSelectorBitmap(len(selection.mask), faiss.swig_ptr(bits))
        results: list[list[Hit]] = []
        for query, similarities in zip(queries, similarity):
            ranking = np.argsort(-similarities)
            order = present[ranking]
            reached = np.cumsum(counts[order])
            if codes is not None:
                probes = max(LIST_PROBES, int(np.searchsorted(reached, CODES_LIST_ROWS)) + 1)
                scanned = np.cumsum(lists.sizes[order])
                capped = max(int(np.searchsorted(reached, LIST_ROWS)),
                             int(np.searchsorted(scanned, CODES_SCAN_ROWS))) + 1  # fmt: skip
                probes = min(probes, capped)
                self.plans["exact" if probes >= len(order) else "lists"] += 1
                results.append(self._scan_lists(codes, query, k, order[:probes],
                                                similarities[ranking[:probes]], selector))  # fmt: skip
                continue
            self.plans["lists"] += 1
            probes = max(LIST_PROBES, int(np.searchsorted(reached, LIST_ROWS)) + 1)
            # lists dense with allowed rows: enough rows well before LIST_PROBES lists
            capped = max(LIST_MIN_PROBES, int(np.searchsorted(reached, LIST_MAX_ROWS)) + 1)
            probes = min(probes, capped)
            rows = np.concatenate([grouped[offsets[chosen] : offsets[chosen + 1]]
                                   for chosen in order[:probes].tolist()])  # fmt: skip
            results.extend(self._exact_rows(query[None, :], k, rows))
        return results

    def _scan_lists(
        self,
        codes: faiss.IndexIVFScalarQuantizer,
        query: npt.NDArray[np.float32],
        k: int,
        chosen: npt.NDArray[np.int64],
        centroid_scores: npt.NDArray[np.float32],
        selector: faiss.IDSelector,
    ) -> list[Hit]:
        """The best ``k`` rows the selector allows in the lists ``chosen`` of ``codes``."""
        assign = np.ascontiguousarray(chosen[None, :], dtype=np.int64)
        near = np.ascontiguousarray(centroid_scores[None, :], dtype=np.float32)
        scores = np.empty((1, k), dtype=np.float32)
        rows = np.empty((1, k), dtype=np.int64)
        params = faiss.SearchParametersIVF(sel=selector, nprobe=len(chosen))  # type: ignore[call-arg]
        codes.search_preassigned_c(  # type: ignore[attr-defined]
            1, faiss.swig_ptr(np.ascontiguousarray(query)), k, faiss.swig_ptr(assign),
            faiss.swig_ptr(near), faiss.swig_ptr(scores), faiss.swig_ptr(rows), False, params,
        )  # fmt: skip
        return [self._hit(int(row), float(score))
                for score, row in zip(scores[0], rows[0]) if row >= 0]  # fmt: skip

    def _storage(self) -> faiss.IndexFlat | faiss.IndexScalarQuantizer | None:
        """Where the structure keeps every row's vector, if it does: a flat float32 array
        (exact, HNSW) or a float16 one (HNSW with ``hnsw_vectors="fp16"``)."""
        structure = self._faiss
        if isinstance(structure, faiss.IndexFlat):
            return structure
        if isinstance(structure, faiss.IndexHNSW):
            storage = faiss.downcast_index(structure.storage)
            if isinstance(storage, faiss.IndexFlat):
                return storage
            if (isinstance(storage, faiss.IndexScalarQuantizer)
                    and storage.sq.qtype == faiss.ScalarQuantizer.QT_fp16):  # fmt: skip
                return storage
        return None

    def _search_selected(
        self, queries: npt.NDArray[np.float32], k: int, selection: _Selection
    ) -> list[list[Hit]]:
        """The ANN structure, visiting only the ``allowed`` rows. With few allowed rows an
        HNSW search must look further to find ``k`` of them: efSearch grows as 1 / the share
        of the query's own neighbours the filter allows; a query still short of ``k`` is tried
        again with 4x that, then answered exactly. Where that share is under a
        :data:`LOCAL_SHARE_FLOOR`-th of the overall share (the allowed rows are elsewhere), or
        the walk would cost more than scoring them, no walk: the partition's lists or exact
        (:meth:`_without_graph`)."""
        structure = self._structure()
        if _compressed(structure) and self._lists is not None:
            return self._search_lists(queries, k, selection, self._lists)
        count, bits = selection.count, selection.bits  # bits: kept alive during the search
        selector = faiss.IDSelectorBitmap(len(selection.mask), faiss.swig_ptr(bits))
        share = count / len(self._ids)
        want = min(k, count)
        base = max(self.config.hnsw_ef_search, want)
        if isinstance(structure, faiss.IndexHNSW):
            # how many of the query's own neighbours the filter allows: a filter that follows
            # the vectors (a salary band, an occupation) allows far fewer near the query than
            # overall, and a walk restricted to it stays among refused rows: the allowed ones
            # are found by the partition's lists instead (or the other way round: a walk
            # needs less room)
            _, near = structure.search(queries, base)
            allowed_near = selection.mask[near.clip(0)] & (near >= 0)
            local = float(allowed_near.mean(axis=1).min())
            if local * LOCAL_SHARE_FLOOR < share:
                return self._without_graph(queries, k, selection)
            share = min(1.0, local)
        ef = int(min(count, base / share))
        if ef * GRAPH_COST > count:  # a walk that long costs more than scoring every row
            return self._without_graph(queries, k, selection)
        results: list[list[Hit]] = [[] for _ in range(len(queries))]
        short = list(range(len(queries)))
        # a graph search can end short of k allowed rows (its frontier closed among rows the
        # filter refuses): once more with 4x the frontier, then exactly (~0.2 µs a row)
        for widen in (1, 4):
            if not short:
                break
            if isinstance(structure, faiss.IndexHNSW):
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=min(count, ef * widen))  # type: ignore[attr-defined]
            elif isinstance(structure, faiss.IndexIVF):
                probes = min(structure.nlist, structure.nprobe * widen)
                params = faiss.SearchParametersIVF(sel=selector, nprobe=probes)  # type: ignore[call-arg]
            else:
                params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
            scores, rows = structure.search(np.ascontiguousarray(queries[short]), want,
                                            params=params)  # fmt: skip
            still = []
            for position, query_scores, query_rows in zip(short, scores, rows):
                hits = [self._hit(int(row), float(score))
                        for score, row in zip(query_scores, query_rows) if row >= 0]  # fmt: skip
                results[position] = hits
                if len(hits) < want:
                    still.append(position)
            short = still
        self.plans["walk"] += len(queries) - len(short)
        if short:
            exact = self._exact_subset(np.ascontiguousarray(queries[short]), k, selection)
            for position, hits in zip(short, exact):
                results[position] = hits
        return results

    def _without_graph(
        self, queries: npt.NDArray[np.float32], k: int, selection: _Selection
    ) -> list[list[Hit]]:
        """Where a graph walk would not find a filter's rows, or costs more than scoring them:
        the partition's lists when the filter allows many rows, else all of them exactly."""
        if self._lists is not None and selection.count > LIST_MIN_ROWS:
            return self._search_lists(queries, k, selection, self._lists)
        return self._exact_subset(queries, k, selection)

    def _search_structure(self, queries: npt.NDArray[np.float32], k: int) -> list[list[Hit]]:
        """Every live row. Removed rows stay in the structure until a compaction: then the
        live rows are a filter like any other."""
        if len(self._row_of) < len(self._ids):
            return self._search_selected(queries, k, self._select(everything()))
        self.plans["unfiltered"] += len(queries)
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
        """Write the index to ``path``, in proportion to what changed.

        When ``path`` holds this index as last saved or loaded, only the rows added and the
        rows removed since are written, as a new segment file beside it
        (``<name>.seg<n>.npz``): milliseconds for a few changes, whatever the size. The whole
        file is rewritten when the changes since it pass a quarter of its rows, after
        :data:`MAX_SEGMENTS` segments, or after a compaction renumbered the rows.

        Every file is written next to its name, flushed to disk, then renamed over it: a crash
        at any point leaves the previous state or the new one, never a mix. A segment belongs
        to one generation of the whole file; a rewrite starts a new one, and segments of an
        older generation (left by a crash before their removal) are ignored and removed.
        """
        path = Path(path)
        on_disk = self._on_disk
        if on_disk is not None and on_disk.path == path and path.exists() and not self._changes():
            return  # the file already holds exactly this
        if on_disk is None and not self._ids and not path.exists():
            return  # it never held a row: there is nothing to keep
        if (on_disk is not None and on_disk.path == path and path.exists()
                and on_disk.segments < MAX_SEGMENTS
                and on_disk.changed + self._changes() <= COMPACT_SHARE * max(on_disk.rows, 1)):  # fmt: skip
            self._save_segment(path, on_disk)
        else:
            self._save_whole(path)

    def _changes(self) -> int:
        rows = self._on_disk.rows_written if self._on_disk else 0
        return len(self._ids) - rows + len(self._removed_since_save)

    def _rows_arrays(self, start: int, end: int) -> dict[str, npt.NDArray[Any]]:
        """Ids (``null`` for a removed row) and metadata of rows ``start:end``, as stored
        (removed rows keep their place)."""
        ids = self._ids[start:end]
        metadata = [self._columns.row(row) for row in range(start, end)]
        return {
            "ids": np.frombuffer(json.dumps(ids).encode(), np.uint8),
            "metadata": np.frombuffer(json.dumps(metadata, ensure_ascii=False).encode(), np.uint8),
        }

    def _save_whole(self, path: Path) -> None:
        generation = uuid.uuid4().hex
        header = {
            "format": FORMAT_VERSION,
            "dimension": self.dimension,
            "config": self.config.model_dump(),
            # what the size chose (exact below config.exact_threshold rows, else config.ann)
            "kind": self.kind,
            "rows": len(self._row_of),
            "generation": generation,
        }
        arrays = {"header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
                  "ids": np.frombuffer(json.dumps(self._ids).encode(), np.uint8),
                  **self._columns.to_arrays()}  # fmt: skip
        if self._faiss is not None:  # with its removed rows, in place: no rebuild at load
            arrays["structure"] = faiss.serialize_index(self._structure())
        if self._faiss is None or not (self._storage() is not None or _compressed(self._faiss)):
            arrays["vectors"] = self._vectors
        if self._lists is not None and self._lists.structure is None:  # HNSW's: k-means at load
            # would be seconds at a million rows (a compressed index's are the IVF's own)
            arrays["list_centroids"] = self._lists.centroids
            arrays["list_of_row"] = self._lists.of_row
        write_atomically(path, arrays, fault="index-save")
        for segment in _segments(path):
            segment.unlink(missing_ok=True)
        rows = len(self._ids)
        self._on_disk = _OnDisk(path, generation, rows, rows, 0, 0)
        self._removed_since_save = []

    def _save_segment(self, path: Path, on_disk: _OnDisk) -> None:
        start, end = on_disk.rows_written, len(self._ids)
        header = {"generation": on_disk.generation, "number": on_disk.segments + 1,
                  "first_row": start}  # fmt: skip
        arrays: dict[str, npt.NDArray[Any]] = {
            "header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
            "removed": np.array(self._removed_since_save, dtype=np.int64),
            "vectors": np.ascontiguousarray(self._vectors[start:end]),
            **self._rows_arrays(start, end),
        }
        write_atomically(_segment_path(path, on_disk.segments + 1), arrays, fault="index-save")
        changed = on_disk.changed + self._changes()
        self._on_disk = _OnDisk(path, on_disk.generation, on_disk.rows, end, on_disk.segments + 1,
                                changed)  # fmt: skip
        self._removed_since_save = []

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        """Read an index written by :meth:`save`: the whole file, then its segments."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(data["header"].tobytes())
                if header.get("format") not in READABLE_FORMATS:
                    raise IndexStateError(
                        f"{path} has index format {header.get('format')}; "
                        f"this version reads {FORMAT_VERSION}: rebuild it"
                    )
                index = cls(header["dimension"], IndexConfig(**header["config"]))
                ids = json.loads(data["ids"].tobytes())
                if "column_names" in data.files:
                    columns = Columns.from_arrays(data, len(ids))
                else:  # format 3 and before: a record per row
                    columns = Columns()
                    columns.extend(json.loads(data["metadata"].tobytes()))
                structure = _read_structure(path) if "structure" in data.files else None
                if structure is not None and structure.ntotal != len(ids):
                    raise ValueError(f"{structure.ntotal} vectors in the structure, {len(ids)} ids")
                index._faiss = structure
                if "list_centroids" in data.files and isinstance(structure, faiss.IndexHNSW):
                    index._lists = _Lists(data["list_centroids"], data["list_of_row"])
                if _compressed(structure):
                    index._codes_trained_rows = len(ids)  # trained again at LIST_REGROW x
                if structure is not None and (index._storage() is not None
                                              or _compressed(structure)):  # fmt: skip
                    index._load_rows(ids, columns)  # the vectors are in the structure only
                    index._faiss_rows, index._in_faiss = len(ids), True
                else:
                    index._faiss = None
                    index._append(ids, data["vectors"].astype(np.float32), None, sync=False)
                    index._columns = columns
                    index._faiss = structure
                    index._faiss_rows = len(ids) if structure is not None else 0
            generation = header.get("generation")
            applied, base_rows, removed = 0, len(index._ids), 0
            for segment in _segments(path):
                with np.load(segment, allow_pickle=False) as data:
                    part = json.loads(data["header"].tobytes())
                    if (generation is None or part.get("generation") != generation
                            or part.get("number") != applied + 1
                            or part.get("first_row") != len(index._ids)):  # fmt: skip
                        segment.unlink(missing_ok=True)  # another generation's, or out of order
                        continue
                    removed += len(data["removed"])
                    index._kill_rows(data["removed"].tolist())
                    index._append(
                        json.loads(data["ids"].tobytes()), data["vectors"].astype(np.float32),
                        json.loads(data["metadata"].tobytes()), sync=index._in_faiss,
                    )  # fmt: skip
                    applied += 1
            rows = len(index._ids)
            index._sync_structure()
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            raise IndexStateError(
                f"cannot read the index at {path} ({error}); rebuild it"
            ) from error
        if generation is not None and len(index._ids) == rows:  # not renumbered by a compaction
            changed = rows - base_rows + removed
            index._on_disk = _OnDisk(path, generation, base_rows, rows, applied, changed)
        index._removed_since_save = []
        return index


def _compressed(structure: faiss.Index | None) -> TypeGuard[faiss.IndexIVFScalarQuantizer]:
    """Whether ``structure`` is a compressed index's (``ann="compressed"``: IVF-SQ8)."""
    return isinstance(structure, faiss.IndexIVFScalarQuantizer)


class _Decoded:
    """The float32 rows of a compressed index, decoded from its 8-bit codes as they are read
    (``decoded[rows]``; through FAISS's direct map): what ``_vectors`` is for an index that
    keeps no float32 copy. Not float32 itself: callers that keep a view copy instead."""

    dtype = np.dtype(np.uint8)

    def __init__(self, codes: faiss.IndexIVFScalarQuantizer) -> None:
        self._codes = codes
        self.shape = (codes.ntotal, codes.d)

    def __len__(self) -> int:
        return int(self._codes.ntotal)

    def __getitem__(self, rows: Any) -> npt.NDArray[np.float32]:
        if isinstance(rows, slice):
            wanted = np.arange(*rows.indices(len(self)), dtype=np.int64)
        else:
            wanted = np.asarray(rows, dtype=np.int64)
        decoded = self._codes.reconstruct_batch(np.ascontiguousarray(wanted.reshape(-1)))
        return decoded.reshape(*wanted.shape, self._codes.d)  # type: ignore[no-any-return]


def checked_vectors(dimension: int, ids: Sequence[str], vectors: npt.ArrayLike
                    ) -> npt.NDArray[np.float32]:  # fmt: skip
    """``vectors`` as contiguous float32, one finite row of ``dimension`` per id, the ids
    unique; else :class:`InvalidInputError` (what every index checks before a write)."""
    array = np.ascontiguousarray(vectors, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != dimension:
        raise InvalidInputError(f"vectors must have shape (n, {dimension}); got {array.shape}")
    if array.shape[0] != len(ids):
        raise InvalidInputError(f"{len(ids)} ids but {array.shape[0]} vectors")
    if len(set(ids)) != len(ids):
        raise InvalidInputError("ids must be unique within one call")
    if not np.isfinite(array).all():
        raise InvalidInputError("vectors contain NaN or infinity")
    return array


def checked_queries(dimension: int, queries: npt.ArrayLike, k: int) -> npt.NDArray[np.float32]:
    """``queries`` as a contiguous float32 ``(q, dimension)`` array (one ``(dimension,)``
    vector accepted too), ``k`` at least 1; else :class:`InvalidInputError`."""
    array = np.ascontiguousarray(queries, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != dimension:
        raise InvalidInputError(f"queries must have shape (q, {dimension})")
    if k < 1:
        raise InvalidInputError("k must be at least 1")
    return array


def _without_removed(by_id: dict[str | None, Any]) -> dict[str, Any]:
    """``by_id`` less the entry of the removed rows (id ``None``): made by ``dict(zip(...))``,
    in C, where a comprehension that skips them took 1.7 s for a million rows."""
    by_id.pop(None, None)
    return by_id  # type: ignore[return-value]


def _read_structure(path: Path) -> faiss.Index:
    """The FAISS structure saved in the file at ``path``, streamed from the archive into FAISS:
    one copy of it in memory, where reading the array and then ``faiss.deserialize_index``
    made three (1.9 GB each at a million rows)."""
    with zipfile.ZipFile(path) as archive, archive.open("structure.npy") as member:
        version = np.lib.format.read_magic(member)  # type: ignore[no-untyped-call]
        if version == (1, 0):
            np.lib.format.read_array_header_1_0(member)  # type: ignore[no-untyped-call]
        else:
            np.lib.format.read_array_header_2_0(member)  # type: ignore[no-untyped-call]
        return faiss.read_index(faiss.PyCallbackIOReader(member.read, 1 << 22))  # type: ignore[attr-defined]


def _half_scores(
    queries: npt.NDArray[np.float32], vectors: npt.NDArray[Any], rows: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    """``queries`` · the float16 ``vectors[rows]``, in float32."""
    import torch  # the encoder's dependency; loaded already wherever the server runs

    with torch.no_grad():
        chosen = torch.from_numpy(vectors).index_select(0, torch.from_numpy(rows)).float()
        return (torch.from_numpy(queries) @ chosen.T).numpy()


class _Selection:
    """The rows a filter allows: a mask over every row, their count, and (made on first use)
    their row numbers (an exact search) or a bitmap (a FAISS selector)."""

    def __init__(self, mask: npt.NDArray[np.bool_]) -> None:
        self.mask = mask
        self.count = int(np.count_nonzero(mask))
        self._grouped: tuple[_Lists, npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None

    def grouped(self, lists: _Lists) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The allowed rows ordered by their list in ``lists``, and where each list starts
        among them (``offsets[l]:offsets[l + 1]``); made once per filter and partition."""
        made = self._grouped
        if made is None or made[0] is not lists:
            of_row = lists.of_row[self.rows]
            order = np.argsort(of_row, kind="stable")
            offsets = np.searchsorted(of_row[order], np.arange(len(lists.centroids) + 1))
            made = self._grouped = (lists, self.rows[order], offsets.astype(np.int64))
        return made[1], made[2]

    @functools.cached_property
    def rows(self) -> npt.NDArray[np.int64]:
        return np.flatnonzero(self.mask).astype(np.int64)

    @functools.cached_property
    def bits(self) -> npt.NDArray[np.uint8]:
        return np.packbits(self.mask, bitorder="little")


class _Lists:
    """A coarse partition of the rows: k-means centroids (about √rows of them, like an IVF
    index's lists; trained again when the index holds :data:`LIST_REGROW` times the rows they
    were trained for) and the nearest one of each row. Filtered searches that a graph walk would
    miss score the allowed rows of the lists nearest the query (:meth:`VectorIndex._search_lists`).
    """

    def __init__(self, centroids: npt.NDArray[np.float32],
                 of_row: npt.NDArray[np.int32] | None = None, trained_rows: int | None = None
                 ) -> None:  # fmt: skip
        self.centroids = np.ascontiguousarray(centroids, dtype=np.float32)
        if trained_rows is None:  # read from a file: the rows it holds then
            trained_rows = 0 if of_row is None else len(of_row)
        #: the rows it was trained for: trained again at LIST_REGROW times as many
        self.trained_rows = trained_rows
        self._nearest = faiss.IndexFlatIP(self.centroids.shape[1])
        self._nearest.add(self.centroids)
        self._buffer = np.zeros(0, dtype=np.int32) if of_row is None else of_row.astype(np.int32)
        self._rows = len(self._buffer)
        #: the compressed index's IVF these lists are (None: a partition of their own)
        self.structure: faiss.Index | None = None

    @functools.cached_property
    def sizes(self) -> npt.NDArray[np.int64]:
        """How many rows each list holds (removed ones too); made again after a change."""
        return np.bincount(self.of_row, minlength=len(self.centroids))

    @property
    def of_row(self) -> npt.NDArray[np.int32]:
        """Each row's list (rows in index order, removed ones too until a compaction)."""
        return self._buffer[: self._rows]

    @staticmethod
    def count_for(rows: int) -> int:
        """How many lists ``rows`` rows get: about √rows (each trained on
        :data:`LIST_TRAIN_POINTS` rows), at most :data:`LIST_MAX_COUNT`."""
        return min(LIST_MAX_COUNT, max(1, round(rows**0.5)), max(1, rows // LIST_TRAIN_POINTS))

    @classmethod
    def train(cls, vectors: npt.NDArray[Any], live: npt.NDArray[np.bool_]) -> _Lists:
        rows = np.flatnonzero(live)
        count = cls.count_for(len(rows))
        sample = rows
        if len(rows) > count * LIST_TRAIN_POINTS:
            chosen = np.random.default_rng(0).choice(len(rows), count * LIST_TRAIN_POINTS,
                                                     replace=False)  # fmt: skip
            sample = rows[np.sort(chosen)]
        kmeans = faiss.Kmeans(vectors.shape[1], count, niter=10, spherical=True, seed=1,
                              max_points_per_centroid=LIST_TRAIN_POINTS)  # fmt: skip
        kmeans.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
        return cls(np.asarray(kmeans.centroids, dtype=np.float32), trained_rows=len(rows))

    def extend(self, vectors: npt.NDArray[Any]) -> None:
        """Assign the rows of ``vectors`` past those assigned already (amortised growth)."""
        for begin in range(self._rows, len(vectors), 65_536):
            chunk = np.ascontiguousarray(vectors[begin : min(len(vectors), begin + 65_536)],
                                         dtype=np.float32)  # fmt: skip
            _, nearest = self._nearest.search(chunk, 1)
            self.append(nearest[:, 0])

    def append(self, lists: npt.NDArray[Any]) -> None:
        """The lists of the next rows."""
        start, end = self._rows, self._rows + len(lists)
        if end > len(self._buffer):
            grown = np.zeros(max(end, len(self._buffer) * 3 // 2, 1024), dtype=np.int32)
            grown[:start] = self._buffer[:start]
            self._buffer = grown
        self._buffer[start:end] = lists
        self._rows = end
        self.__dict__.pop("sizes", None)

    def keep(self, rows: npt.NDArray[np.int64]) -> None:
        """Keep only ``rows``, renumbered in that order (a compaction)."""
        self._buffer = self.of_row[rows].copy()
        self._rows = len(self._buffer)
        self.__dict__.pop("sizes", None)


@dataclass
class _OnDisk:
    """What of this index a file holds: the whole file of ``generation`` with ``rows`` rows,
    then ``segments`` segments up to row ``rows_written``; ``changed`` rows since the whole."""

    path: Path
    generation: str
    rows: int
    rows_written: int
    segments: int
    changed: int


#: A compressed index's codes take each dimension's range (of the rows less their list's
#: centroid) from this many sampled rows: a row outside it is clipped.
CODES_TRAIN_ROWS = 100_000
#: A compressed index scans lists until this many allowed rows (recall@10 of the top salary
#: tenth at a million postings: 0.932 at 4,096, 0.954 at 16,384; 0.956 scanning every list) ...
CODES_LIST_ROWS = 16_384
#: ... unless that scans over this many rows, allowed or not (a bitmap test each, ~5 ns)
CODES_SCAN_ROWS = 250_000
#: A filtered graph search looks as far as the share of the query's neighbours the filter
#: allows asks for; where that share is under the overall share / this, the allowed rows lie
#: elsewhere and no walk is tried (a million postings, the top salary tenth: recall 0.59).
LOCAL_SHARE_FLOOR = 4
#: One step of an HNSW walk (efSearch 1) costs about as much as scoring this many rows
#: exactly (1M rows: 2.2 µs a step, 0.22 µs a row; docs/benchmarks.md).
GRAPH_COST = 10

#: The partition's lists: about √rows of them, at most this many ...
LIST_MAX_COUNT = 4096
#: ... trained on this many sampled rows each (k-means; a million rows: ~40k rows, seconds).
LIST_TRAIN_POINTS = 40
#: A search by lists probes at least this many lists that hold allowed rows ...
LIST_PROBES = 32
#: ... and at least this many allowed rows ...
LIST_ROWS = 4096
#: ... but stops once past this many rows and LIST_MIN_PROBES lists (lists dense with allowed
#: rows: an employer's country and pay, 3% of a million rows, filled 32 lists with all 34,000).
LIST_MAX_ROWS = 16_384
LIST_MIN_PROBES = 8
#: The lists are trained again (and every row assigned again) once the index holds this many
#: times the rows they were trained for (twice as many lists then).
LIST_REGROW = 4
#: Filters that allow fewer rows are scored exactly rather than by lists.
LIST_MIN_ROWS = 4 * LIST_ROWS

#: Segments written before a save rewrites the whole file.
MAX_SEGMENTS = 16
#: ... or once the rows added and removed since it pass this share of its rows.
COMPACT_SHARE = 0.25


def _segment_path(path: Path, number: int) -> Path:
    return path.with_name(f"{path.name}.seg{number:05d}.npz")


def _segments(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.seg[0-9][0-9][0-9][0-9][0-9].npz"))


def write_atomically(path: Path, content: bytes | dict[str, npt.NDArray[Any]], *,
                     fault: str | None = None) -> None:  # fmt: skip
    """Write ``content`` (bytes, or arrays as ``.npz``) next to ``path``, flush it to disk,
    then rename it over ``path``: a crash leaves the old file or the new one. ``fault``: the
    crash tests' point (:mod:`matcher.faults`) between the flush and the rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*"):  # left by a save that was killed
        stale.unlink(missing_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(descriptor, 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            if isinstance(content, bytes):
                handle.write(content)
            else:
                np.savez(handle, **content)  # type: ignore[arg-type]
            handle.flush()
            os.fsync(handle.fileno())
        if fault is not None:
            faults.point(fault)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


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
