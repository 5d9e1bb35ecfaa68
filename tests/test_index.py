"""VectorIndex on hand-made vectors whose nearest neighbours are known, and on real FAISS."""

import os

import numpy as np
import pytest

from matcher.errors import IndexStateError, InvalidInputError
from matcher.search.index import VectorIndex
from matcher.settings import IndexConfig


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


@pytest.fixture
def small() -> VectorIndex:
    index = VectorIndex(3)
    index.add(
        ["x", "y", "z", "xy"],
        np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(0, 0, 1), unit(1, 1, 0)]),
        [
            {"province": "Hà Nội", "tags": ["a"]},
            {"province": "Đà Nẵng", "tags": ["b"]},
            {"province": "Hà Nội", "tags": ["a", "b"]},
            {"province": "Huế", "tags": []},
        ],
    )
    return index


def ids(hits):
    return [hit.id for hit in hits]


def test_search_returns_nearest_first_with_cosine_scores(small):
    [hits] = small.search(unit(1, 0.1, 0), k=2)
    assert ids(hits) == ["x", "xy"]
    assert hits[0].score == pytest.approx(float(unit(1, 0.1, 0) @ unit(1, 0, 0)), abs=1e-6)
    assert hits[0].metadata["province"] == "Hà Nội"


def test_filters_by_value_by_any_of_and_by_list_overlap(small):
    query = unit(1, 1, 0)
    assert ids(small.search(query, k=4, where={"province": "Hà Nội"})[0]) == ["x", "z"]
    assert ids(small.search(query, k=4, where={"province": ["Huế", "Đà Nẵng"]})[0]) == ["xy", "y"]
    assert set(ids(small.search(query, k=4, where={"tags": "b"})[0])) == {"y", "z"}
    assert ids(small.search(query, k=4, where=lambda m: not m["tags"])[0]) == ["xy"]
    assert small.search(query, k=4, where={"province": "Cà Mau"}) == [[]]


def test_update_and_remove_change_what_search_returns(small):
    small.update(["y"], unit(1, 0, 0.01)[None, :], [{"province": "Huế", "tags": []}])
    assert ids(small.search(unit(1, 0, 0), k=2)[0]) == ["x", "y"]
    assert small.metadata("y")["province"] == "Huế"
    assert small.remove(["x", "not-there"]) == 1
    assert "x" not in small and len(small) == 3
    assert "x" not in ids(small.search(unit(1, 0, 0), k=4)[0])


def test_adding_an_existing_id_is_refused_and_upsert_replaces(small):
    with pytest.raises(InvalidInputError, match="already in the index"):
        small.add(["x"], unit(0, 1, 0)[None, :])
    small.upsert(["x"], unit(0, 1, 0)[None, :])
    assert len(small) == 4
    assert small.vector("x") == pytest.approx(unit(0, 1, 0))
    assert set(ids(small.search(unit(0, 1, 0), k=2)[0])) == {"x", "y"}


def test_update_of_an_unknown_id_raises_key_error(small):
    with pytest.raises(KeyError, match="nobody"):
        small.update(["nobody"], unit(1, 0, 0)[None, :])


@pytest.mark.parametrize(
    ("vectors", "message"),
    [(np.zeros((1, 4)), "shape"), (np.full((1, 3), np.nan), "NaN")],
)
def test_bad_vectors_are_refused(small, vectors, message):
    with pytest.raises(InvalidInputError, match=message):
        small.add(["new"], vectors)


def test_save_and_load_round_trip_keeps_ids_vectors_and_metadata(small, tmp_path):
    small.remove(["z"])
    path = tmp_path / "index.npz"
    small.save(path)
    loaded = VectorIndex.load(path)
    assert sorted(loaded.ids) == ["x", "xy", "y"]
    assert loaded.metadata("y") == {"province": "Đà Nẵng", "tags": ["b"]}
    np.testing.assert_allclose(loaded.vector("xy"), unit(1, 1, 0))
    assert ids(loaded.search(unit(1, 0.1, 0), k=2)[0]) == ["x", "xy"]


def test_a_crash_during_save_leaves_the_previous_index_readable(small, tmp_path, monkeypatch):
    path = tmp_path / "index.npz"
    small.save(path)
    small.remove(["x"])

    def crash(*args, **kwargs):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        small.save(path)
    monkeypatch.undo()
    assert "x" in VectorIndex.load(path)
    assert [p.name for p in tmp_path.iterdir()] == ["index.npz"]  # no temporary left behind


def test_a_damaged_file_gives_an_index_state_error(tmp_path):
    path = tmp_path / "index.npz"
    path.write_bytes(b"not an index")
    with pytest.raises(IndexStateError, match="rebuild"):
        VectorIndex.load(path)


def clustered(n: int, dimension: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("ann", ["hnsw", "ivf", "compressed"])
def test_large_indexes_switch_to_ann_and_still_find_the_neighbours(ann, tmp_path):
    vectors = clustered(4000)
    config = IndexConfig(exact_threshold=1000, ann=ann, ivf_nlist=32, ivf_nprobe=16)
    index = VectorIndex(32, config)
    index.add(
        [f"item-{i}" for i in range(4000)], vectors, [{"even": i % 2 == 0} for i in range(4000)]
    )
    assert index.kind == ann
    queries = vectors[:50] + 0.01
    exact = (queries @ vectors.T).argsort(axis=1)[:, ::-1][:, :10]
    found = index.search(queries, k=10)
    recall = np.mean(
        [len({f"item-{i}" for i in row} & set(ids(hits))) / 10 for row, hits in zip(exact, found)]
    )
    assert recall >= 0.9
    [hits] = index.search(vectors[1], k=5, where={"even": True})
    assert len(hits) == 5 and all(index.metadata(h.id)["even"] for h in hits)
    path = tmp_path / f"{ann}.npz"
    index.save(path)
    assert ids(VectorIndex.load(path).search(vectors[7], k=1)[0]) == ["item-7"]


def test_exact_index_over_random_vectors_matches_brute_force():
    vectors = clustered(500, seed=1)
    index = VectorIndex(32)
    index.add([str(i) for i in range(500)], vectors)
    index.remove([str(i) for i in range(0, 500, 3)])
    alive = [i for i in range(500) if i % 3]
    query = clustered(1, seed=2)[0]
    expected = [str(alive[i]) for i in np.argsort(-(vectors[alive] @ query))[:10]]
    assert ids(index.search(query, k=10)[0]) == expected


@pytest.mark.parametrize("kind", ["exact", "hnsw", "ivf", "compressed"])
def test_first_searches_from_many_threads_on_a_loaded_index_agree(tmp_path, kind):
    """Searches only read: the structure is built by load and by each change, never by a
    search. Two first searches that built it lazily crashed the server (SIGSEGV in faiss add)."""
    import concurrent.futures

    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    threshold = 10**9 if kind == "exact" else 100
    config = IndexConfig(exact_threshold=threshold, ann="hnsw" if kind == "exact" else kind,
                         ivf_nlist=16, ivf_nprobe=16)  # fmt: skip
    built = VectorIndex(32, config)
    built.add([str(i) for i in range(3000)], vectors, [{"n": i % 7} for i in range(3000)])
    built.save(tmp_path / "index.npz")
    expected = [ids(hits) for hits in built.search(vectors[:64], k=5)]
    for _ in range(3):
        loaded = VectorIndex.load(tmp_path / "index.npz")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            found = list(pool.map(lambda i, index=loaded: ids(index.search(vectors[i], k=5)[0]),
                                  range(64)))  # fmt: skip
        assert found == expected
    loaded.remove([str(i) for i in range(0, 3000, 2)])  # compaction rebuilds in the change
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        after = list(pool.map(lambda i: ids(loaded.search(vectors[i], k=1)[0]), range(1, 64, 2)))
    assert after == [[str(i)] for i in range(1, 64, 2)]


def test_the_matrix_of_every_row_is_shared_read_only_and_a_subset_is_its_own(small) -> None:  # type: ignore[no-untyped-def]
    whole = small.matrix(["x", "y", "z", "xy"])
    assert np.shares_memory(whole, small._vectors) and not whole.flags.writeable
    with pytest.raises(ValueError):
        whole[0, 0] = 2.0
    part = small.matrix(["xy", "x"])
    np.testing.assert_allclose(part, np.stack([unit(1, 1, 0), unit(1, 0, 0)]))
    part[0, 0] = 9.0  # a copy: the index is untouched
    assert small.vector("xy")[0] == pytest.approx(unit(1, 1, 0)[0])
    with pytest.raises(KeyError):
        small.matrix(["nope"])


@pytest.mark.parametrize("stored", ["fp32", "fp16"])
def test_hnsw_keeps_the_vectors_once_in_memory_and_on_disk(tmp_path, stored):
    """The graph's storage is the only copy of the vectors (issue 18), in float32 or float16:
    the index file holds them once, and a loaded index answers as the saved one did."""
    import zipfile

    vectors = clustered(3000, seed=4)
    index = VectorIndex(32, IndexConfig(exact_threshold=1000, hnsw_vectors=stored))
    index.add([str(i) for i in range(3000)], vectors, [{"i": i} for i in range(3000)])
    assert index.kind == "hnsw"
    tolerance = 2**-11 if stored == "fp16" else 0  # float16 keeps 11 bits of each value
    np.testing.assert_allclose(index.matrix(index.ids), vectors, rtol=tolerance, atol=1e-7)
    assert index.matrix(index.ids).dtype == np.float32
    path = tmp_path / "hnsw.npz"
    index.save(path)
    with zipfile.ZipFile(path) as archive:
        names = {name.removesuffix(".npy") for name in archive.namelist()}
    assert "structure" in names and "vectors" not in names
    import faiss

    graph = faiss.serialize_index(index._structure()).nbytes  # the graph with its vectors
    assert path.stat().st_size < graph + 0.5 * vectors.nbytes  # not a second copy of them
    if stored == "fp16":  # half the bytes of the float32 vectors, and the graph
        fp32 = VectorIndex(32, IndexConfig(exact_threshold=1000))
        fp32.add([str(i) for i in range(3000)], vectors)
        assert graph < faiss.serialize_index(fp32._structure()).nbytes - 0.45 * vectors.nbytes
    loaded = VectorIndex.load(path)
    np.testing.assert_array_equal(loaded.matrix(loaded.ids), index.matrix(index.ids))
    assert [ids(h) for h in loaded.search(vectors[:20], 5)] == [
        ids(h) for h in index.search(vectors[:20], 5)
    ]
    assert loaded.metadata("17") == {"i": 17}


def test_growing_past_the_threshold_one_at_a_time_with_removals_agrees_with_brute_force():
    vectors = clustered(1500, seed=5)
    index = VectorIndex(32, IndexConfig(exact_threshold=500, hnsw_ef_search=128))
    live: dict[str, np.ndarray] = {}
    for i, vector in enumerate(vectors):
        index.add([str(i)], vector[None, :], [{"odd": i % 2 == 1}])
        live[str(i)] = vector
        if i % 5 == 4:  # and remove some as it grows, across the switch to HNSW
            index.remove([str(i - 2)])
            live.pop(str(i - 2))
    assert index.kind == "hnsw" and len(index) == len(live)
    keys = list(live)
    matrix = np.stack([live[key] for key in keys])
    for query in vectors[::97]:
        expected = {keys[j] for j in np.argsort(-(matrix @ query))[:10]}
        got = set(ids(index.search(query, 10)[0]))
        assert len(got & expected) >= 9
        assert got <= set(live)
    np.testing.assert_array_equal(index.vector("1499"), vectors[1499])


def _same(a: VectorIndex, b: VectorIndex, queries: np.ndarray) -> None:
    assert sorted(a.ids) == sorted(b.ids)
    assert all(a.metadata(i) == b.metadata(i) for i in a.ids)
    np.testing.assert_array_equal(a.matrix(sorted(a.ids)), b.matrix(sorted(b.ids)))
    assert [ids(h) for h in a.search(queries, 5)] == [ids(h) for h in b.search(queries, 5)]


@pytest.mark.parametrize(("threshold", "stored"), [(10**6, "fp32"), (1000, "fp32"), (1000, "fp16")])
def test_a_save_after_a_few_changes_writes_only_those_changes(tmp_path, threshold, stored):
    vectors = clustered(3000, seed=6)  # exact, HNSW, HNSW with float16 vectors
    index = VectorIndex(32, IndexConfig(exact_threshold=threshold, hnsw_vectors=stored))
    index.add([str(i) for i in range(2000)], vectors[:2000], [{"i": i} for i in range(2000)])
    path = tmp_path / "jobs.npz"
    index.save(path)
    whole = path.stat().st_mtime_ns, path.stat().st_size
    # a few changes: additions, a removal, an update, an addition removed before the save
    index.add(["a", "b"], vectors[2000:2002], [{"i": "a"}, {"i": "b"}])
    index.remove(["5", "b"])
    index.upsert(["7"], vectors[2002:2003], [{"i": "seven"}])
    index.save(path)
    assert (path.stat().st_mtime_ns, path.stat().st_size) == whole  # not rewritten
    [segment] = sorted(tmp_path.glob("jobs.npz.seg*"))
    assert segment.stat().st_size < whole[1] / 20  # the changes only
    loaded = VectorIndex.load(path)
    _same(index, loaded, vectors[:30])
    assert "5" not in loaded and "b" not in loaded and loaded.metadata("7") == {"i": "seven"}
    loaded.save(path)  # nothing changed since the load: nothing is written
    assert len(list(tmp_path.glob("jobs.npz.seg*"))) == 1
    # a loaded index goes on from there: one more change, one more segment
    loaded.remove(["a"])
    loaded.save(path)
    assert len(list(tmp_path.glob("jobs.npz.seg*"))) == 2
    _same(loaded, VectorIndex.load(path), vectors[:30])


def _saved(tmp_path, rows: int, total: int, seed: int):  # type: ignore[no-untyped-def]
    """``total`` clustered vectors, an HNSW index of the first ``rows`` saved at
    ``tmp_path/jobs.npz``: ``(vectors, index, path)``."""
    vectors = clustered(total, seed=seed)
    index = VectorIndex(32, IndexConfig(exact_threshold=1000))
    index.add([str(i) for i in range(rows)], vectors[:rows])
    path = tmp_path / "jobs.npz"
    index.save(path)
    return vectors, index, path


def test_many_changes_rewrite_the_whole_file_and_drop_the_segments(tmp_path):
    vectors, index, path = _saved(tmp_path, 1000, 3000, seed=7)
    for step in range(6):  # 6 × 60 rows: past a quarter of 1,000 rows at the 5th
        start = 1000 + 60 * step
        index.add([str(i) for i in range(start, start + 60)], vectors[start : start + 60])
        index.save(path)
    assert len(list(tmp_path.glob("jobs.npz.seg*"))) == 1  # rewritten at the 5th, then one
    _same(index, VectorIndex.load(path), vectors[:20])


def test_a_crash_while_writing_a_segment_leaves_the_last_saved_state(tmp_path, monkeypatch):
    vectors, index, path = _saved(tmp_path, 1100, 1200, seed=8)
    saved = VectorIndex.load(path)
    index.add(["new"], vectors[1100:1101])

    def crash(*args, **kwargs):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        index.save(path)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["jobs.npz"]  # no segment, no temporary
    _same(saved, VectorIndex.load(path), vectors[:10])


def test_segments_of_an_older_whole_file_are_ignored(tmp_path):
    vectors, index, path = _saved(tmp_path, 1100, 1200, seed=9)
    index.add(["late"], vectors[1100:1101])
    index.save(path)  # a segment
    [segment] = list(tmp_path.glob("jobs.npz.seg*"))
    kept = segment.read_bytes()
    other = VectorIndex(32, IndexConfig(exact_threshold=1000))
    other.add([str(i) for i in range(1100)], vectors[:1100])
    other.save(path)  # a new generation; its save removed the old segment
    segment.write_bytes(kept)  # as if a crash had left it behind
    loaded = VectorIndex.load(path)
    assert "late" not in loaded and len(loaded) == 1100
    assert not segment.exists()
