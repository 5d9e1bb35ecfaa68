"""Filtered search over column metadata (issue 18): the results equal an exact search over the
allowed rows (recall@10 ≥ 0.95) whatever share of rows the filter allows, with the real FAISS
structures (HNSW and IVF) and the exact plan."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matcher.search.columns import (
    Columns,
    Test,
    Where,
    at_least,
    equals,
    everything,
    folded_equals,
    from_mapping,
    missing,
    one_of,
)
from matcher.search.index import VectorIndex, _Lists
from matcher.settings import IndexConfig

N, DIM = 30_000, 48
PROVINCES = ["Hà Nội", "Nghệ An", "Bắc Ninh", "Đà Nẵng", "Cần Thơ", *(f"P{i}" for i in range(29))]


def _data(seed: int = 3) -> tuple[np.ndarray, list[dict]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(60, DIM))
    centre = rng.integers(0, 60, N)
    vectors = centres[centre] + 0.3 * rng.normal(size=(N, DIM))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    weights = 1.0 / np.arange(1, len(PROVINCES) + 1)  # a few big provinces, many small
    province = rng.choice(len(PROVINCES), N, p=weights / weights.sum())
    metadata = [
        {"u": float(rng.random()), "province": PROVINCES[p], "country": "VN",
         "remote": bool(rng.random() < 0.1), "salary_max": None if i % 7 == 0 else int(i % 50),
         "band": int(centre[i]) < 6}  # follows the vectors, as a salary band follows occupations
        for i, p in enumerate(province.tolist())
    ]  # fmt: skip
    return vectors, metadata


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, list[dict]]:
    return _data()


@pytest.fixture(scope="module", params=["hnsw", "hnsw-fp16", "ivf", "compressed"])
def ann(request: pytest.FixtureRequest, data) -> VectorIndex:  # type: ignore[no-untyped-def]
    vectors, metadata = data
    # ef 256: on these isotropic synthetic clusters the graph itself needs it to reach 0.95
    # unfiltered (0.91 at 128); real embeddings need less (bench/bench_filters.py)
    kind, _, stored = request.param.partition("-")
    config = IndexConfig(exact_threshold=1_000, ann=kind, hnsw_vectors=stored or "fp32",
                         hnsw_ef_search=256, ivf_nlist=128, ivf_nprobe=16,
                         exact_subset_limit=200)  # fmt: skip
    index = VectorIndex(DIM, config)
    index.add([str(i) for i in range(N)], vectors, metadata)
    return index


def _truth(vectors: np.ndarray, allowed: np.ndarray, queries: np.ndarray, k: int) -> list[set]:
    rows = np.flatnonzero(allowed)
    scores = queries @ vectors[rows].T
    return [set(rows[np.argsort(-s)[:k]].tolist()) for s in scores]


@pytest.mark.parametrize("share", [0.001, 0.01, 0.05, 0.2, 0.5, 1.0])
def test_filtered_search_finds_the_exact_filtered_neighbours_at_every_selectivity(
    ann: VectorIndex, data, share: float
) -> None:  # type: ignore[no-untyped-def]
    vectors, metadata = data
    rng = np.random.default_rng(11)
    queries = vectors[rng.integers(0, N, 40)] + 0.3 * rng.normal(size=(40, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    where = at_least("u", 1.0 - share) if share < 1.0 else everything()
    allowed = np.array([where(m) for m in metadata])
    truth = _truth(vectors, allowed, queries, 10)
    found = ann.search(queries, 10, where=where)
    recalls = []
    for hits, expected in zip(found, truth):
        assert len(hits) == min(10, int(allowed.sum()))
        assert all(where(hit.metadata) for hit in hits)  # nothing outside the filter
        recalls.append(len({int(h.id) for h in hits} & expected) / len(expected))
    assert np.mean(recalls) >= 0.95, (ann.kind, share, np.mean(recalls))


def test_a_filter_that_follows_the_vectors_still_finds_the_exact_neighbours(
    ann: VectorIndex, data
) -> None:  # type: ignore[no-untyped-def]
    """A tenth of the rows, all in 6 of the 60 clusters, searched from the other clusters:
    the query's own neighbours are all refused, and the graph must look much further than the
    overall share (10%) suggests (a salary band among postings; issue 18's benchmark found
    recall 0.52 at a million postings before the index looked at the query's neighbours)."""
    vectors, metadata = data
    where = equals("band", True)
    allowed = np.array([where(m) for m in metadata])
    assert 0.05 < allowed.mean() < 0.15
    outside = np.flatnonzero(~allowed)[::500][:40]
    truth = _truth(vectors, allowed, vectors[outside], 10)
    found = ann.search(vectors[outside], 10, where=where)
    recall = np.mean([len({int(h.id) for h in hits} & t) / 10 for hits, t in zip(found, truth)])
    assert recall >= 0.95, (ann.kind, recall)


def test_a_province_and_remote_filter_equals_the_same_predicate_row_by_row(
    ann: VectorIndex, data
) -> None:  # type: ignore[no-untyped-def]
    vectors, metadata = data
    nearby = (equals("remote", True) | folded_equals("province", "nghe an")) & equals(
        "country", "VN"
    )
    allowed = np.array([nearby(m) for m in metadata])
    assert 0.03 < allowed.mean() < 0.3
    queries = vectors[:20]
    truth = _truth(vectors, allowed, queries, 10)
    found = ann.search(queries, 10, where=nearby)
    recall = np.mean([len({int(h.id) for h in hits} & t) / 10 for hits, t in zip(found, truth)])
    assert recall >= 0.95
    # a plain Python predicate (called per row) keeps the same rows
    slow = ann.search(queries[:3], 10, where=lambda m: nearby(m))
    assert [[h.id for h in hits] for hits in slow] == [[h.id for h in hits] for hits in found[:3]]


def test_removed_rows_never_come_back_filtered_or_not(data) -> None:  # type: ignore[no-untyped-def]
    vectors, metadata = data
    index = VectorIndex(DIM, IndexConfig(exact_threshold=1_000, hnsw_m=16, exact_subset_limit=200))
    index.add([str(i) for i in range(5_000)], vectors[:5_000], metadata[:5_000])
    gone = [str(i) for i in range(0, 5_000, 3)]
    index.remove(gone)
    for where in (None, equals("country", "VN"), at_least("u", 0.5)):
        for hits in index.search(vectors[:30], 10, where=where):
            assert len(hits) == 10
            assert not {h.id for h in hits} & set(gone)
    assert index.metadata("1") == metadata[1]


def test_columns_give_back_each_rows_metadata_as_it_was_given() -> None:
    rows = [{"a": 1, "b": None}, {"a": True}, {"a": 1.0, "c": ["x", "y"]}, {}]
    columns = Columns()
    columns.extend(rows)
    assert [columns.row(i) for i in range(4)] == rows
    assert [type(columns.row(i).get("a")) for i in range(3)] == [int, bool, float]  # not merged
    assert equals("c", "x").mask(columns).tolist() == [False, False, True, False]
    assert one_of("a", [1]).mask(columns).tolist() == [True, True, True, False]  # == like Python
    assert missing("b").mask(columns).tolist() == [True, True, True, True]
    assert at_least("a", 1).mask(columns).tolist() == [True, False, True, False]  # not a bool
    assert from_mapping({"a": 1, "c": ["y", "z"]}).mask(columns).tolist() == [
        False,
        False,
        True,
        False,
    ]
    columns.keep(np.array([2, 0]))
    assert [columns.row(i) for i in range(2)] == [rows[2], rows[0]]


def test_columns_come_back_from_their_arrays_with_every_value_and_type() -> None:
    rows = [{"a": 1, "b": None}, {"a": True}, {"a": 1.0, "c": ["x", "y"]}, {}, {"d": "Nghệ An"}]
    columns = Columns()
    columns.extend(rows)
    back = Columns.from_arrays(columns.to_arrays(), len(rows))
    assert [back.row(i) for i in range(len(rows))] == rows
    assert [type(back.row(i).get("a")) for i in range(3)] == [int, bool, float]
    assert back.values("a") == [1, True, 1.0, None, None]
    back.extend([{"a": 1, "c": ["x", "y"]}])  # codes of values it already holds are reused
    assert one_of("a", [1]).mask(back).tolist() == [True, True, True, False, False, True]
    assert equals("c", "x").mask(back).tolist() == [False, False, True, False, False, True]
    assert folded_equals("d", "nghệ an").mask(back).tolist() == [False] * 4 + [True, False]


def test_adding_one_at_a_time_gives_the_same_index_as_adding_at_once(data) -> None:  # type: ignore[no-untyped-def]
    vectors, metadata = data
    config = IndexConfig(exact_threshold=10**9)
    bulk, single = VectorIndex(DIM, config), VectorIndex(DIM, config)
    bulk.add([str(i) for i in range(3_000)], vectors[:3_000], metadata[:3_000])
    for i in range(3_000):
        single.add([str(i)], vectors[i : i + 1], [metadata[i]])
    where = folded_equals("province", "Hà Nội")
    assert [[h.id for h in hits] for hits in single.search(vectors[:5], 10, where=where)] == [
        [h.id for h in hits] for hits in bulk.search(vectors[:5], 10, where=where)
    ]
    np.testing.assert_array_equal(single.matrix(single.ids), bulk.matrix(bulk.ids))


def test_a_remembered_filter_sees_every_change_of_the_index(data) -> None:  # type: ignore[no-untyped-def]
    """The rows a filter allows are reused between searches, and never across a change: a
    posting added in Nghệ An is found by the next Nghệ An search, and one removed is gone."""
    vectors, metadata = data
    config = IndexConfig(exact_threshold=1_000, exact_subset_limit=200, hnsw_ef_search=128)
    index = VectorIndex(DIM, config)
    index.add([str(i) for i in range(5_000)], vectors[:5_000], metadata[:5_000])
    where = folded_equals("province", "nghệ an")
    query = vectors[7]
    before = [hit.id for hit in index.search(query, 5, where=where)[0]]
    assert before == [hit.id for hit in index.search(query, 5, where=where)[0]]  # reused

    index.add(["new"], query[None, :], [{"province": "Nghệ An", "country": "VN"}])
    found = index.search(query, 5, where=folded_equals("province", "Nghệ An"))[0]
    assert found[0].id == "new"

    index.remove(["new"])
    assert [hit.id for hit in index.search(query, 5, where=where)[0]] == before
    moved = before[0]  # the best Nghệ An posting moves to Huế
    index.upsert([moved], index.vector(moved)[None, :], [{"province": "Huế", "country": "VN"}])
    assert moved not in [hit.id for hit in index.search(query, 5, where=where)[0]]
    assert index.search(query, 1, where=folded_equals("province", "Huế"))[0][0].id == moved


def test_only_filters_that_say_what_they_keep_are_remembered() -> None:
    assert folded_equals("province", "Nghệ An").key == folded_equals("province", "nghệ an").key
    assert equals("remote", True).key != equals("remote", 1).key  # True and 1 keep apart
    assert (equals("a", 1) & at_least("b", 2)).key != (equals("a", 1) | at_least("b", 2)).key
    bare = Test("province", lambda v: v == "Huế")
    assert bare.key is None and (bare & equals("a", 1)).key is None


def _far_band(rows: int = 60_000, clusters: int = 200) -> tuple[np.ndarray, list[dict], np.ndarray]:
    """``rows`` vectors in ``clusters`` clusters; "band" holds for 30% of the clusters, as a
    salary band holds for some occupations; the queries come from the other clusters."""
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(clusters, DIM))
    centre = rng.integers(0, clusters, rows)
    vectors = centres[centre] + 0.3 * rng.normal(size=(rows, DIM))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    metadata = [{"band": int(c) < 0.3 * clusters, "n": i} for i, c in enumerate(centre.tolist())]
    outside = np.flatnonzero(centre >= 0.3 * clusters)[:: rows // 50][:40]
    return vectors, metadata, vectors[outside]


def _recall(index: VectorIndex, vectors: np.ndarray, metadata: list[dict], queries: np.ndarray,
            where: Where) -> float:  # fmt: skip
    allowed = np.array([where(m) for m in metadata])
    truth = _truth(vectors, allowed, queries, 10)
    found = index.search(queries, 10, where=where)
    assert all(len(hits) == 10 and all(where(h.metadata) for h in hits) for hits in found)
    truth = [{metadata[row]["n"] for row in rows} for rows in truth]
    return float(np.mean([len({h.metadata["n"] for h in hits} & t) / 10
                          for hits, t in zip(found, truth)]))  # fmt: skip


@pytest.mark.parametrize("stored", ["fp32", "fp16", "compressed"])
def test_a_filter_whose_rows_are_far_from_the_query_is_found_at_default_settings(
    stored: str,
) -> None:
    """A filter that allows many rows, none of them near the query (30% of 60,000 rows, all in
    clusters the query is not in): a graph walk restricted to them stayed among the query's
    refused neighbours (recall 0.86 at the default efSearch; 0.59 for the top salary tenth
    at a million postings); the partition's lists find them wherever they are."""
    vectors, metadata, queries = _far_band()
    index = VectorIndex(DIM, _config(stored))
    index.add([str(i) for i in range(len(vectors))], vectors, metadata)
    where = equals("band", True)
    assert _recall(index, vectors, metadata, queries, where) >= 0.95


def _config(stored: str) -> IndexConfig:
    if stored == "compressed":
        return IndexConfig(exact_threshold=1_000, ann="compressed")
    return IndexConfig(exact_threshold=1_000, hnsw_vectors=stored)


@pytest.mark.parametrize("stored", ["fp32", "compressed"])
def test_the_lists_come_back_from_a_save_and_follow_changes(tmp_path, monkeypatch, stored) -> None:  # type: ignore[no-untyped-def]
    """After a restart (load), segments and a compaction, the same far filter still finds the
    exact neighbours, and the loaded index did not train its lists again."""
    vectors, metadata, queries = _far_band()
    half = len(vectors) // 2
    ids = [str(i) for i in range(len(vectors))]
    index = VectorIndex(DIM, _config(stored))
    index.add(ids[:half], vectors[:half], metadata[:half])
    index.save(tmp_path / "jobs.npz")
    index.add(ids[half:], vectors[half:], metadata[half:])  # a segment, assigned to the lists
    index.save(tmp_path / "jobs.npz")

    def train_again(*args: object) -> None:
        raise AssertionError("the lists were trained again at load (seconds at a million rows)")

    monkeypatch.setattr(_Lists, "train", train_again)
    loaded = VectorIndex.load(tmp_path / "jobs.npz")
    assert _recall(loaded, vectors, metadata, queries, equals("band", True)) >= 0.95

    gone = ids[::2]  # half the rows: a compaction renumbers them
    loaded.remove(gone)
    kept = np.arange(1, len(vectors), 2)
    assert len(loaded) == len(kept)
    assert _recall(loaded, vectors[kept], [metadata[i] for i in kept], queries,
                   equals("band", True)) >= 0.95  # fmt: skip


def test_an_index_saved_by_the_previous_version_loads_with_its_metadata(data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A file of format 3 (a JSON record per row, no lists) is read as it was: a deployment's
    index is not rebuilt (re-embedding a million postings takes hours) by an upgrade."""
    vectors, metadata = data
    index = VectorIndex(DIM, IndexConfig(exact_threshold=1_000, exact_subset_limit=200))
    index.add([str(i) for i in range(5_000)], vectors[:5_000], metadata[:5_000])
    index.remove(["3"])
    path = tmp_path / "jobs.npz"
    index.save(path)
    with np.load(path) as saved:
        arrays = {name: saved[name] for name in saved.files}
    header = json.loads(arrays["header"].tobytes())
    columns = Columns.from_arrays(arrays, len(json.loads(arrays["ids"].tobytes())))
    np.savez(path, header=np.frombuffer(json.dumps({**header, "format": 3}).encode(), np.uint8),
             ids=arrays["ids"], structure=arrays["structure"],
             metadata=np.frombuffer(json.dumps([columns.row(r) for r in range(len(columns))],
                                               ensure_ascii=False).encode(), np.uint8))  # fmt: skip
    loaded = VectorIndex.load(path)
    assert len(loaded) == 4_999 and "3" not in loaded
    assert loaded.metadata("7") == metadata[7]
    where = folded_equals("province", "Nghệ An") | equals("remote", True)
    assert [[h.id for h in hits] for hits in loaded.search(vectors[:5], 10, where=where)] == [
        [h.id for h in hits] for hits in index.search(vectors[:5], 10, where=where)
    ]


@pytest.mark.parametrize("stored", ["fp32", "compressed"])
def test_the_lists_are_trained_again_as_the_index_grows(tmp_path, stored) -> None:  # type: ignore[no-untyped-def]
    """An index that grows by imports gets its lists when it first becomes a graph (here at
    2,000 rows): at 30 times that size, lists that coarse would make a filtered search score
    several times the rows it needs. They are trained again at 4x the rows, the far filter
    still finds its exact neighbours, and the next save keeps the new lists."""
    vectors, metadata, queries = _far_band()
    ids = [str(i) for i in range(len(vectors))]
    index = VectorIndex(DIM, _config(stored))
    index.add(ids[:2_000], vectors[:2_000], metadata[:2_000])
    first = len(index._lists.centroids)
    index.save(tmp_path / "jobs.npz")
    for start in range(2_000, len(vectors), 2_000):  # as bulk imports would
        index.add(ids[start : start + 2_000], vectors[start : start + 2_000],
                  metadata[start : start + 2_000])  # fmt: skip
    grown = len(index._lists.centroids)
    # trained at 2,000 rows (45 lists), again at 8,000 and at 32,000 (179 lists)
    assert first == _Lists.count_for(2_000) and grown == _Lists.count_for(32_000), (first, grown)
    assert _recall(index, vectors, metadata, queries, equals("band", True)) >= 0.95
    index.save(tmp_path / "jobs.npz")
    loaded = VectorIndex.load(tmp_path / "jobs.npz")
    assert len(loaded._lists.centroids) == grown
    assert np.array_equal(loaded._lists.of_row, index._lists.of_row)


def test_a_compressed_index_keeps_its_vectors_as_codes_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``ann="compressed"`` keeps each vector as 8-bit codes only (FAISS IVF-SQ8), in memory
    and on disk: a million postings in under 0.6 GiB (docs/scaling.md). What it gives back is
    the vector to the codes' precision, after a restart and after changes saved as segments."""
    vectors, metadata, queries = _far_band()
    ids = [str(i) for i in range(len(vectors))]
    sizes = {}
    for stored in ("fp32", "compressed"):
        index = VectorIndex(DIM, _config(stored))
        index.add(ids[:50_000], vectors[:50_000], metadata[:50_000])
        index.save(tmp_path / f"{stored}.npz")
        sizes[stored] = (tmp_path / f"{stored}.npz").stat().st_size
    assert index.kind == "compressed"
    # 48 bytes of codes a row against 192 of float32 and the graph's links
    assert sizes["compressed"] < 0.4 * sizes["fp32"], sizes
    index.add(ids[50_000:], vectors[50_000:], metadata[50_000:])
    index.remove(ids[:100])
    index.save(tmp_path / "compressed.npz")  # a segment: the new rows, decoded
    assert len(list(tmp_path.glob("compressed.npz.seg*"))) == 1
    loaded = VectorIndex.load(tmp_path / "compressed.npz")
    assert loaded._buffer.nbytes == 0 and loaded._in_faiss  # no float32 copy
    assert len(loaded) == len(ids) - 100 and ids[0] not in loaded
    assert np.abs(loaded.matrix(ids[100:200]) - vectors[100:200]).max() < 0.01
    assert np.abs(loaded.vector(ids[-1]) - vectors[-1]).max() < 0.01
    # the same results as before the restart, filtered or not
    where = equals("band", True)
    for filtered in (None, where):
        assert [[h.id for h in hits] for hits in loaded.search(queries, 10, where=filtered)] == [
            [h.id for h in hits] for hits in index.search(queries, 10, where=filtered)]
    assert _recall(loaded, vectors[100:], metadata[100:], queries, where) >= 0.95
