"""The pgvector index (issue 19) against the FAISS one, on a real PostgreSQL with pgvector:
the same top-k in exact mode, filters in SQL with the same meaning, and filtered HNSW searches
that still return k rows."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import create_engine

from matcher.errors import InvalidInputError
from matcher.search.columns import at_least, equals, folded_equals, missing, one_of
from matcher.search.filters import nearby
from matcher.search.index import VectorIndex
from matcher.search.pgvector import PgVectorIndex, table_name
from matcher.settings import IndexConfig
from tests.pgvector_server import pgvector_server

N, DIM = 3_000, 32
PROVINCES = ["Hà Nội", "Nghệ An", "Đà Nẵng", "Cần Thơ", "Huế"]


@pytest.fixture(scope="module")
def engine():  # type: ignore[no-untyped-def]
    with pgvector_server() as url:
        made = create_engine(url)
        yield made
        made.dispose()


def _data(rows: int = N, seed: int = 1) -> tuple[np.ndarray, list[dict]]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(rows, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    metadata = [
        {"province": PROVINCES[i % 5].upper() if i % 11 == 0 else PROVINCES[i % 5],
         "country": "VN" if i % 4 else "KR", "remote": i % 9 == 0,
         "salary_max": None if i % 6 == 0 else 1_000_000 * (i % 40),
         "occupation": [f"occ-{i % 13}", f"occ-{i % 7}"], "hash": f"h{i}"}
        for i in range(rows)
    ]  # fmt: skip
    return vectors, metadata


@pytest.fixture(scope="module")
def both(engine):  # type: ignore[no-untyped-def]
    vectors, metadata = _data()
    ids = [f"job-{i}" for i in range(N)]
    faiss_index = VectorIndex(DIM, IndexConfig())  # exact below 50,000 rows
    faiss_index.add(ids, vectors, metadata)
    pg = PgVectorIndex(engine, "vectors_test_jobs", DIM)
    pg.add(ids, vectors, metadata)
    return faiss_index, pg, vectors


FILTERS = {
    "none": None,
    "province, any case": folded_equals("province", "nghệ an"),
    "country": equals("country", "KR"),
    "remote": equals("remote", True),
    "not remote": ~one_of("remote", [True]),
    "salary floor": at_least("salary_max", 30_000_000),
    "no salary": missing("salary_max"),
    "occupation list": one_of("occupation", ["occ-3", "occ-5"]),
    "home or remote, VN": nearby("Đà Nẵng"),
    "mapping": {"country": "VN", "remote": False},
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_exact_mode_returns_the_same_top_k_as_the_faiss_index(both, name) -> None:  # type: ignore[no-untyped-def]
    faiss_index, pg, vectors = both
    where = FILTERS[name]
    queries = vectors[:12] + 0.05
    expected = faiss_index.search(queries, 10, where=where)
    found = pg.search(queries, 10, where=where, plan="exact")
    assert [[h.id for h in hits] for hits in found] == [[h.id for h in hits] for hits in expected]
    assert all(len(hits) == 10 for hits in found)
    for hits, wanted in zip(found, expected):
        np.testing.assert_allclose([h.score for h in hits], [h.score for h in wanted], atol=1e-5)
        assert [h.metadata for h in hits] == [h.metadata for h in wanted]


def test_postgresql_walks_the_graph_for_broad_filters_and_reads_narrow_ones_by_index(both) -> None:  # type: ignore[no-untyped-def]
    """A filter that allows most rows walks the HNSW index, on until k rows pass it (pgvector's
    iterative scan); one that allows few reads just its rows through the metadata's GIN index
    and sorts them (exact). Both return k rows, nearly or exactly the exact ones."""
    _, pg, vectors = both
    queries = vectors[100:140]
    broad = equals("country", "VN") & ~one_of("remote", [True])  # 2/3 of the rows
    narrow = folded_equals("province", "huế") & equals("country", "KR")  # 5%
    assert "_hnsw" in pg.explain(queries[0], 10, where=broad)
    assert "Bitmap Index Scan" in pg.explain(queries[0], 10, where=narrow)
    for where in (broad, narrow):
        exact = pg.search(queries, 10, where=where, plan="exact")
        found = pg.search(queries, 10, where=where)
        assert all(len(hits) == 10 for hits in found)
        recall = np.mean([len({h.id for h in a} & {h.id for h in b}) / 10
                          for a, b in zip(found, exact)])  # fmt: skip
        assert recall >= 0.95, recall


def test_changes_are_seen_by_another_process_handle_at_once(engine) -> None:  # type: ignore[no-untyped-def]
    """What one API replica writes, another reads: two handles on the same table."""
    vectors, metadata = _data(200, seed=4)
    ids = [f"c-{i}" for i in range(200)]
    writer = PgVectorIndex(engine, "vectors_test_shared", DIM)
    reader = PgVectorIndex(create_engine(engine.url), "vectors_test_shared", DIM)
    writer.upsert(ids, vectors, metadata)
    assert len(reader) == 200 and reader.search(vectors[7], 1)[0][0].id == "c-7"
    writer.upsert(["c-7"], vectors[8:9], [dict(metadata[7], hash="new")])
    assert reader.metadata("c-7")["hash"] == "new"
    np.testing.assert_allclose(reader.vector("c-7"), vectors[8], atol=1e-6)
    assert writer.remove(["c-7", "unknown"]) == 1
    assert "c-7" not in reader and reader.search(vectors[7], 1)[0][0].id != "c-7"
    assert reader.values("hash")["c-9"] == "h9"
    with pytest.raises(InvalidInputError):
        writer.add(["c-8"], vectors[:1])  # already there: upsert replaces
    with pytest.raises(InvalidInputError):
        writer.upsert(["x"], np.full((1, DIM), np.nan, dtype=np.float32))
    with pytest.raises(InvalidInputError):
        reader.search(vectors[0], 5, where=lambda meta: True)  # type: ignore[arg-type]
    assert len(reader) == 199  # nothing of the refused writes


def test_table_names_are_made_from_the_index_file() -> None:
    assert table_name("indexes/jobs-abc123-256.npz") == "vectors_jobs_abc123_256"
    long = table_name(f"candidates-v2-{'f' * 80}.npz")
    assert len(long) <= 63 and long.startswith("vectors_candidates_v2_")


def test_a_filter_whose_rows_lie_away_from_the_query_is_scored_exactly(engine) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL's statistics cannot see that a filter's rows lie away from the query (as
    foreign postings lie away from most profiles): the index counts how many of the query's
    nearest rows pass, and where almost none do it reads the filter's rows through the GIN
    index and scores them exactly instead of walking the graph far."""
    vectors, _ = _data(3_000, seed=7)
    far = vectors[:, 0] < -0.3  # a band of the space, like a country's postings
    metadata = [{"far": bool(f), "n": i} for i, f in enumerate(far.tolist())]
    pg = PgVectorIndex(engine, "vectors_test_far", DIM)
    pg.upsert([f"r-{i}" for i in range(3_000)], vectors, metadata)
    queries = vectors[vectors[:, 0] > 0.4][:20]
    pg.plans.clear()
    found = pg.search(queries, 10, where=equals("far", True))
    assert pg.plans == {"exact": 20}, pg.plans
    exact = pg.search(queries, 10, where=equals("far", True), plan="exact")
    assert [[h.id for h in hits] for hits in found] == [[h.id for h in hits] for hits in exact]
    pg.plans.clear()
    pg.search(queries, 10, where=equals("far", False))  # the query's own neighbours: a walk
    assert pg.plans == {"auto": 20}, pg.plans
