"""The vector index in PostgreSQL with pgvector: the shared vector store of a deployment that
outgrows one machine (issue 19), behind the interface of :class:`~matcher.search.index.VectorIndex`.

Each index is one table beside the store's (``id``, ``embedding vector(d)``, ``meta jsonb``,
``folded jsonb``) with an HNSW index on the inner product. A search is SQL: the filter, a
:class:`~matcher.search.columns.Where`, becomes the WHERE clause, and pgvector's iterative
index scan (``hnsw.iterative_scan``) keeps walking the graph until ``k`` rows pass it, so a
filtered query still returns ``k`` rows. Every process that opens the same table sees each
write once it is committed: API replicas need no change log.

    index = PgVectorIndex(store.engine, "jobs", 384)
    index.upsert(ids, vectors, metadata)
    index.search(query, 10, where=folded_equals("province", "Nghệ An"))

Set ``MATCHER_INDEX__BACKEND=pgvector`` with a PostgreSQL ``MATCHER_STORE_URL`` whose server
has the ``vector`` extension (docs/scaling.md).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from matcher.errors import IndexStateError, InvalidInputError
from matcher.search.columns import AllOf, AnyOf, Not, Test, Where, from_mapping
from matcher.search.index import Hit, checked_queries, checked_vectors
from matcher.settings import IndexConfig
from matcher.text import fold

#: pgvector's graph, built as rows arrive (its defaults: m 16, ef_construction 64).
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
#: Rows an iterative index scan may visit for one filtered query before it gives up (pgvector's
#: ``hnsw.max_scan_tuples``; its default is 20,000).
MAX_SCAN_TUPLES = 100_000
#: A filtered search first counts how many of the query's NEAR_ROWS nearest rows pass the
#: filter; under NEAR_MIN, the walk would go far, and the filter's rows are scored exactly
#: where an index reads them.
NEAR_ROWS = 64
NEAR_MIN = 2
#: A table PostgreSQL scans for under this cost (its units: ~a page read each) is small enough
#: to score every allowed row exactly (20,000 postings of 384 dimensions: 5,800).
SMALL_SCAN_COST = 1_000.0
#: A filter whose recent counts agree this often is searched without one (see
#: ``PgVectorIndex._settled``), and counted again every RECOUNT_EVERY queries.
SETTLED_SHARE = 0.8
RECOUNT_EVERY = 10
SETTLE_AFTER = 8
#: Rows a batch insert sends per statement.
INSERT_BATCH = 500


class PgVectorIndex:
    """Inner-product search over unit vectors in a PostgreSQL table, addressed by string ids.

    Args:
        engine: a SQLAlchemy engine on PostgreSQL with the ``vector`` extension available.
        name: the table's name (letters, digits and ``_``; made from the index file's name by
            :func:`table_name`).
        dimension: vector length.
        config: ``hnsw_ef_search`` is the search's ``hnsw.ef_search``.
    """

    #: the vectors live in a database every process shares: no files, no change log
    shared = True

    def __init__(self, engine: Engine, name: str, dimension: int,
                 config: IndexConfig | None = None) -> None:  # fmt: skip
        if engine.dialect.name != "postgresql":
            raise IndexStateError(
                "the pgvector index needs a PostgreSQL store: set MATCHER_STORE_URL to a "
                "postgresql+psycopg:// URL, or MATCHER_INDEX__BACKEND=faiss"
            )
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise InvalidInputError(f"{name!r} is not a table name (a-z, 0-9, _)")
        self.engine, self.table, self.dimension = engine, name, dimension
        self.config = config or IndexConfig()
        #: how many queries each plan answered: ``ann`` (the HNSW index, iterative scan) or
        #: ``exact`` (a scan of the rows, sorted)
        self.plans: Counter[str] = Counter()
        #: per filter: whether its rows can be read through an index (see :meth:`search`)
        self._exact_readable: dict[str, bool] = {}
        #: per filter: the share of its recent queries a count sent to the exact plan, and
        #: how many queries it had (see :meth:`_settled`)
        self._exact_share: dict[str, tuple[float, int]] = {}
        self._seen: dict[str, int] = {}
        with engine.begin() as connection:
            _create(connection, name, dimension)

    # ------------------------------------------------------------------ size and kind
    @property
    def kind(self) -> str:
        return "pgvector"

    @property
    def saved_as(self) -> str:
        """Always what it holds: every write is committed in PostgreSQL, nothing is saved."""
        return f"postgresql:{self.table}"

    def __len__(self) -> int:
        return int(self._scalar(f"SELECT count(*) FROM {self.table}"))

    def __contains__(self, item_id: object) -> bool:
        if not isinstance(item_id, str):
            return False
        return self._scalar(f"SELECT 1 FROM {self.table} WHERE id = :id", id=item_id) is not None

    @property
    def ids(self) -> list[str]:
        return list(self._column(f"SELECT id FROM {self.table} ORDER BY id"))

    def select_ids(self, where: Where | Mapping[str, Any]) -> list[str]:
        """The ids of the rows ``where`` keeps, sorted (see ``VectorIndex.select_ids``)."""
        if isinstance(where, Mapping):
            where = from_mapping(where)
        params: dict[str, Any] = {}
        clause = _sql(where, params)
        with self.engine.connect() as connection:
            rows = connection.execute(
                text(f"SELECT id FROM {self.table} WHERE {clause} ORDER BY id"), params
            )
            return [str(item_id) for (item_id,) in rows]

    def metadata(self, item_id: str) -> Mapping[str, Any]:
        found = self._scalar(f"SELECT meta FROM {self.table} WHERE id = :id", id=item_id)
        if found is None:
            raise KeyError(f"{item_id!r} is not in the index")
        return dict(found)

    def values(self, name: str) -> dict[str, Any]:
        """Each item's value of metadata field ``name`` (``None`` where absent)."""
        with self.engine.connect() as connection:
            rows = connection.execute(text(f"SELECT id, meta -> :name FROM {self.table}"),
                                      {"name": name})  # fmt: skip
            return {item_id: value for item_id, value in rows}

    def vector(self, item_id: str) -> npt.NDArray[np.float32]:
        return self.matrix([item_id])[0]

    def matrix(self, ids: Sequence[str]) -> npt.NDArray[np.float32]:
        """The vectors of ``ids``, one row each in that order (a copy)."""
        with self.engine.connect() as connection:
            rows: dict[str, str] = dict(connection.execute(
                text(f"SELECT id, embedding::text FROM {self.table} WHERE id = ANY(:ids)"),
                {"ids": list(ids)},
            ).all())  # fmt: skip
        missing = [item_id for item_id in ids if item_id not in rows]
        if missing:
            raise KeyError(f"{missing[0]!r} is not in the index")
        if not ids:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([_parse(rows[item_id]) for item_id in ids])

    # ------------------------------------------------------------------ changes
    def add(self, ids: Sequence[str], vectors: npt.ArrayLike,
            metadata: Sequence[Mapping[str, Any]] | None = None) -> None:  # fmt: skip
        """Add new items. Raises :class:`InvalidInputError` if an id is already present."""
        array = self._check(ids, vectors, metadata)
        with self.engine.begin() as connection:
            present = connection.execute(
                text(f"SELECT id FROM {self.table} WHERE id = ANY(:ids) LIMIT 1"),
                {"ids": list(ids)},
            ).scalar()  # fmt: skip
            if present is not None:
                raise InvalidInputError(
                    f"id(s) already in the index (first: {present!r}); use upsert to replace them"
                )
            self._write(connection, ids, array, metadata)

    def upsert(self, ids: Sequence[str], vectors: npt.ArrayLike,
               metadata: Sequence[Mapping[str, Any]] | None = None) -> None:  # fmt: skip
        """Add items, replacing those whose id is already present (one transaction)."""
        array = self._check(ids, vectors, metadata)
        with self.engine.begin() as connection:
            self._write(connection, ids, array, metadata)

    def update(self, ids: Sequence[str], vectors: npt.ArrayLike,
               metadata: Sequence[Mapping[str, Any]] | None = None) -> None:  # fmt: skip
        """Replace existing items. Raises ``KeyError`` for an unknown id."""
        for item_id in ids:
            if item_id not in self:
                raise KeyError(f"{item_id!r} is not in the index")
        self.upsert(ids, vectors, metadata)

    def remove(self, ids: Iterable[str]) -> int:
        """Remove items by id; unknown ids are ignored. Returns how many were removed."""
        wanted = list(ids)
        if not wanted:
            return 0
        with self.engine.begin() as connection:
            done = connection.execute(text(f"DELETE FROM {self.table} WHERE id = ANY(:ids)"),
                                      {"ids": wanted})  # fmt: skip
            return int(done.rowcount or 0)

    def build(self) -> None:
        """Nothing to build: PostgreSQL keeps the HNSW index with each write."""

    def save(self, path: Path) -> None:
        """Nothing to save: every write is committed (``path`` is ignored)."""

    def _check(self, ids: Sequence[str], vectors: npt.ArrayLike,
               metadata: Sequence[Mapping[str, Any]] | None) -> npt.NDArray[np.float32]:  # fmt: skip
        if metadata is not None and len(metadata) != len(ids):
            raise InvalidInputError(f"{len(ids)} ids but {len(metadata)} metadata records")
        return checked_vectors(self.dimension, ids, vectors)

    def _write(self, connection: Connection, ids: Sequence[str],
               array: npt.NDArray[np.float32],
               metadata: Sequence[Mapping[str, Any]] | None) -> None:  # fmt: skip
        records = metadata if metadata is not None else [{}] * len(ids)
        statement = text(
            f"INSERT INTO {self.table} (id, embedding, meta, folded) "
            "VALUES (:id, CAST(:embedding AS vector), CAST(:meta AS jsonb), "
            "CAST(:folded AS jsonb)) ON CONFLICT (id) DO UPDATE SET embedding = "
            "EXCLUDED.embedding, meta = EXCLUDED.meta, folded = EXCLUDED.folded"
        )
        rows = [
            {"id": item_id, "embedding": _literal(vector),
             "meta": json.dumps(dict(meta), ensure_ascii=False, default=str),
             "folded": json.dumps({k: fold(v) for k, v in meta.items() if isinstance(v, str)},
                                  ensure_ascii=False)}
            for item_id, vector, meta in zip(ids, array, records)
        ]  # fmt: skip
        for start in range(0, len(rows), INSERT_BATCH):
            connection.execute(statement, rows[start : start + INSERT_BATCH])

    # ------------------------------------------------------------------ search
    def search(self, queries: npt.ArrayLike, k: int = 10, *,
               where: Where | Mapping[str, Any] | None = None,
               plan: Literal["auto", "exact"] = "auto") -> list[list[Any]]:  # fmt: skip
        """Top-``k`` items for each query, best first, as
        :class:`~matcher.search.index.Hit`\\ s (id, inner product, metadata).

        ``plan``: ``auto`` lets PostgreSQL choose (the HNSW index with an iterative scan that
        walks on until ``k`` rows pass the filter, or the filter's rows through a GIN index,
        sorted), except where a walk would go far: fewer than :data:`NEAR_MIN` of the query's
        :data:`NEAR_ROWS` nearest rows pass the filter, and its rows can be read through an
        index; then those rows are scored exactly (PostgreSQL's statistics cannot see that a
        filter's rows lie away from the query: the Korean postings, 16.6 ms walked against
        2.5 ms read and sorted). ``exact`` forbids the HNSW index: every allowed row is
        scored (what the FAISS index does below ``exact_threshold`` rows)."""
        array = checked_queries(self.dimension, queries, k)
        if isinstance(where, Mapping):
            where = from_mapping(where)
        params: dict[str, Any] = {"k": k}
        clause = "TRUE" if where is None else _sql(where, params)
        statement = text(
            f"SELECT id, -(embedding <#> CAST(:query AS vector)) AS score, meta "
            f"FROM {self.table} WHERE {clause} "
            "ORDER BY embedding <#> CAST(:query AS vector) LIMIT :k"
        )
        near = text(
            f"SELECT count(*) FROM (SELECT meta, folded FROM {self.table} "
            "ORDER BY embedding <#> CAST(:query AS vector) LIMIT :near) AS nearest "
            f"WHERE {clause}"
        )
        results: list[list[Any]] = []
        with self.engine.begin() as connection:  # SET LOCAL lasts until its end
            _settings(connection, self.config.hnsw_ef_search, exact=plan == "exact")
            key = _filter_key(statement, params)
            checks = (plan == "auto" and where is not None
                      and self._indexed(connection, statement, params, key))  # fmt: skip
            walking = plan != "exact"  # whether the HNSW walk is allowed now
            for query in array:
                literal = _literal(query)
                exact = plan == "exact"
                if checks:
                    settled = self._settled(key)
                    if settled is not None:
                        exact = settled
                    else:  # count the query's nearest rows the filter allows
                        if not walking:  # the count walks the graph, unfiltered
                            _index_scans(connection, on=True)
                            walking = True
                        allowed = connection.execute(near, {
                            **params, "query": literal, "near": NEAR_ROWS}).scalar()  # fmt: skip
                        exact = int(allowed or 0) < NEAR_MIN
                        self._learn(key, exact)
                    if exact == walking:  # the walk allowed for this query, or not
                        _index_scans(connection, on=not exact)
                        walking = not exact
                rows = connection.execute(statement, {**params, "query": literal})
                hits = [Hit(item_id, float(score), meta) for item_id, score, meta in rows]
                # relaxed_order: a filtered scan may return rows slightly out of order
                hits.sort(key=lambda hit: -hit.score)
                results.append(hits)
                self.plans["exact" if exact else "auto"] += 1
        return results

    def _settled(self, key: str) -> bool | None:
        """The plan a filter's queries have settled on (``True``: exact, ``False``: walk), so
        that this query needs no count of its nearest rows; ``None``: count them. A filter
        settles once :data:`SETTLED_SHARE` of its recent counts agree, after at least
        :data:`SETTLE_AFTER` of them, and is counted again every :data:`RECOUNT_EVERY` queries (the biggest province walks, 9% of its queries
        counted otherwise; the Korean postings are scored exactly, 89%)."""
        seen = self._seen[key] = self._seen.get(key, 0) + 1
        share, counted = self._exact_share.get(key, (0.0, 0))
        if counted < SETTLE_AFTER or seen % RECOUNT_EVERY == 0:
            return None
        if share >= SETTLED_SHARE:
            return True
        if share <= 1 - SETTLED_SHARE:
            return False
        return None

    def _learn(self, key: str, exact: bool) -> None:
        share, counted = self._exact_share.get(key, (0.0, 0))
        # the mean of the first counts, then a moving average that follows a change
        weight = max(0.2, 1.0 / (counted + 1))
        self._exact_share[key] = ((1 - weight) * share + weight * exact, counted + 1)
        if len(self._exact_share) > 256:  # filters come and go: keep the recent ones
            self._exact_share.clear()
            self._seen.clear()

    def _indexed(self, connection: Connection, statement: Any, params: dict[str, Any],
                 key: str) -> bool:  # fmt: skip
        """Whether scoring a filter's rows exactly is cheap (``EXPLAIN`` of the search with no
        HNSW walk; remembered per filter): PostgreSQL reads them through an index, in
        proportion to how many there are, or the whole table costs under
        :data:`SMALL_SCAN_COST` to scan."""
        found = self._exact_readable.get(key)
        if found is None:
            _index_scans(connection, on=False)
            explained = connection.execute(text(f"EXPLAIN {statement}"), {
                **params, "query": _literal(np.zeros(self.dimension, dtype=np.float32))
            }).scalars().all()  # fmt: skip
            _index_scans(connection, on=True)
            cost = re.search(r"cost=[\d.]+\.\.([\d.]+)", explained[0] if explained else "")
            found = any("Bitmap Index Scan" in line for line in explained) or (
                cost is not None and float(cost.group(1)) <= SMALL_SCAN_COST
            )  # fmt: skip
            if len(self._exact_readable) > 256:
                self._exact_readable.clear()
            self._exact_readable[key] = found
        return found

    def explain(
        self, query: npt.ArrayLike, k: int = 10, *, where: Where | Mapping[str, Any] | None = None
    ) -> str:
        """PostgreSQL's plan for :meth:`search` of one query (``EXPLAIN``): whether it walks
        the HNSW index or scans and sorts the rows."""
        if isinstance(where, Mapping):
            where = from_mapping(where)
        params: dict[str, Any] = {"k": k}
        clause = "TRUE" if where is None else _sql(where, params)
        vector = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        with self.engine.begin() as connection:
            _settings(connection, self.config.hnsw_ef_search, exact=False)
            rows = connection.execute(text(
                f"EXPLAIN SELECT id FROM {self.table} WHERE {clause} "
                "ORDER BY embedding <#> CAST(:query AS vector) LIMIT :k"
            ), {**params, "query": _literal(vector)})  # fmt: skip
            return "\n".join(row[0] for row in rows)

    # ------------------------------------------------------------------ helpers
    def _scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def _column(self, sql: str) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql)).scalars())


def table_name(path: Path) -> str:
    """The table of the index whose file would be ``path`` (one per model, like the files):
    ``vectors_`` and the file's name folded to ``[a-z0-9_]``, with a digest where it is long."""
    import hashlib

    stem = re.sub(r"[^a-z0-9]+", "_", Path(path).stem.lower()).strip("_")
    name = f"vectors_{stem}"
    if len(name) > 63:
        name = f"{name[:50]}_{hashlib.sha1(stem.encode()).hexdigest()[:12]}"
    return name


def _create(connection: Connection, name: str, dimension: int) -> None:
    """The extension, the table and its HNSW index, made once (under an advisory lock: several
    processes opening a new store at once)."""
    connection.execute(text("SELECT pg_advisory_xact_lock(7162535)"))
    try:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    except Exception as error:  # the server lacks pgvector
        raise IndexStateError(
            "this PostgreSQL server has no pgvector extension (CREATE EXTENSION vector failed): "
            "install pgvector on it, or set MATCHER_INDEX__BACKEND=faiss"
        ) from error
    connection.execute(text(
        f"CREATE TABLE IF NOT EXISTS {name} (id text PRIMARY KEY, "
        f"embedding vector({int(dimension)}) NOT NULL, meta jsonb NOT NULL, "
        "folded jsonb NOT NULL)"
    ))  # fmt: skip
    held = connection.execute(text(
        "SELECT atttypmod FROM pg_attribute WHERE attrelid = CAST(:table AS regclass) "
        "AND attname = 'embedding'"
    ), {"table": name}).scalar()  # fmt: skip
    if held is not None and int(held) != dimension:
        raise IndexStateError(
            f"table {name} holds vectors of {held} dimensions, not {dimension}: "
            "another model's table"
        )
    for column in ("meta", "folded"):  # a filter's rows without a scan (containment, @>)
        connection.execute(text(
            f"CREATE INDEX IF NOT EXISTS {name}_{column} ON {name} USING gin "
            f"({column} jsonb_path_ops)"
        ))  # fmt: skip
    connection.execute(text(
        f"CREATE INDEX IF NOT EXISTS {name}_hnsw ON {name} USING hnsw "
        f"(embedding vector_ip_ops) WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
    ))  # fmt: skip


def _settings(connection: Connection, ef_search: int, *, exact: bool) -> None:
    """The search's settings, for this transaction only."""
    connection.execute(text(f"SET LOCAL hnsw.ef_search = {int(max(1, min(ef_search, 1000)))}"))
    connection.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
    connection.execute(text(f"SET LOCAL hnsw.max_scan_tuples = {MAX_SCAN_TUPLES}"))
    if exact:
        connection.execute(text("SET LOCAL enable_indexscan = off"))


def _filter_key(statement: Any, params: dict[str, Any]) -> str:
    """A filter's search statement and its values, less ``k``: what the plan is learnt for."""
    values = {name: value for name, value in params.items() if name != "k"}
    return json.dumps(values, sort_keys=True, default=str) + str(statement)


def _index_scans(connection: Connection, *, on: bool) -> None:
    """Allow or forbid plain index scans (the HNSW walk) for the rest of the transaction;
    bitmap scans (a GIN index) stay allowed."""
    connection.execute(text(f"SET LOCAL enable_indexscan = {'on' if on else 'off'}"))


def _literal(vector: npt.NDArray[np.float32]) -> str:
    """pgvector's text form of a vector (float32 round-trips through ``repr``)."""
    return "[" + ",".join(map(repr, vector.astype(np.float32).tolist())) + "]"


def _parse(value: str) -> npt.NDArray[np.float32]:
    return np.array(json.loads(value), dtype=np.float32)


def _sql(where: Where, params: dict[str, Any]) -> str:
    """``where`` as a SQL condition over ``meta`` and ``folded`` (bound values added to
    ``params``); true or false, never NULL, so that ``NOT`` keeps Python's meaning."""
    if isinstance(where, AllOf):
        return (
            "(" + " AND ".join(_sql(part, params) for part in where.parts) + ")"
            if where.parts
            else "TRUE"
        )
    if isinstance(where, AnyOf):
        return (
            "(" + " OR ".join(_sql(part, params) for part in where.parts) + ")"
            if where.parts
            else "FALSE"
        )
    if isinstance(where, Not):
        return f"(NOT {_sql(where.part, params)})"
    if isinstance(where, Test):
        return _leaf(where, params)
    raise InvalidInputError(f"this filter cannot run in PostgreSQL: {type(where).__name__}")


def _leaf(test: Test, params: dict[str, Any]) -> str:
    field = _bind(params, test.field)
    what = test.what
    if what == "missing":
        return f"(meta -> {field} IS NULL OR jsonb_typeof(meta -> {field}) = 'null')"
    if isinstance(what, tuple) and len(what) == 2:
        how, value = what
        if how == "equals":
            return _contains(test.field, _unkey(value), params)
        if how == "one of":
            options = [_contains(test.field, _unkey(option), params) for option in value]
            return "(" + " OR ".join(options) + ")" if options else "FALSE"
        if how == "folded":
            wanted = _bind(params, json.dumps({test.field: value}, ensure_ascii=False))
            return f"(folded @> CAST({wanted} AS jsonb))"
        if how == "at least":
            floor = _bind(params, float(_unkey(value)))
            return (f"COALESCE(jsonb_typeof(meta -> {field}) = 'number' AND "
                    f"CAST(meta ->> {field} AS double precision) >= {floor}, FALSE)")  # fmt: skip
    raise InvalidInputError(
        f"the filter on {test.field!r} is a Python function: it cannot run in PostgreSQL; "
        "build it from matcher.search.columns (equals, one_of, at_least, ...)"
    )


def _contains(field: str, value: Any, params: dict[str, Any]) -> str:
    """The field is ``value``, or a list that holds it: two containments of the whole
    ``meta``, which its GIN index answers without a scan."""
    one = _bind(params, json.dumps({field: value}, ensure_ascii=False))
    listed = _bind(params, json.dumps({field: [value]}, ensure_ascii=False))
    return f"(meta @> CAST({one} AS jsonb) OR meta @> CAST({listed} AS jsonb))"


def _unkey(key: Any) -> Any:
    """The value behind :func:`matcher.search.columns._key`."""
    kind, value = key
    return json.loads(value) if kind == "json" else value


def _bind(params: dict[str, Any], value: Any) -> str:
    name = f"p{len(params)}"
    params[name] = value
    return f":{name}"
