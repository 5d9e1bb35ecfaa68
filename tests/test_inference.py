"""The inference worker: micro-batches, big jobs taking turns, a bounded queue, errors handed
back; and the real encoder giving the same vectors through its workers as inline."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import numpy as np
import pytest

from matcher.errors import OverloadedError
from matcher.nlp.inference import InferenceWorker


def fake_run(calls: list[tuple[object, int]], delay: float = 0.0):  # type: ignore[no-untyped-def]
    def run(group, texts):  # type: ignore[no-untyped-def]
        calls.append((group, len(texts)))
        time.sleep(delay)
        return np.array([[float(len(t)), float(hash(group) % 7)] for t in texts], np.float32)

    return run


def test_waiting_requests_share_a_batch_and_get_their_own_vectors_back():
    calls: list[tuple[object, int]] = []
    worker = InferenceWorker("fake", fake_run(calls, 0.02), 2, max_batch=16, max_wait=0.05)
    texts = [["a" * (i + 1)] for i in range(12)]
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda t: worker.encode("q", t), texts))
    worker.close()
    assert [r[0, 0] for r in results] == [len(t[0]) for t in texts]  # each caller's own
    assert len(calls) < 12 and worker.stats().largest_batch > 1  # they were batched


def test_groups_are_never_mixed_in_one_batch():
    calls: list[tuple[object, int]] = []
    worker = InferenceWorker("fake", fake_run(calls, 0.01), 2, max_batch=64, max_wait=0.05)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: worker.encode(i % 2, ["x"] * 3), range(8)))
    worker.close()
    assert all(r[0, 1] == hash(i % 2) % 7 for i, r in enumerate(results))


def test_a_big_job_takes_turns_with_small_ones():
    calls: list[tuple[object, int]] = []
    worker = InferenceWorker("fake", fake_run(calls, 0.01), 2, max_batch=8, max_wait=0.0)
    big = threading.Thread(target=worker.encode, args=("q", ["b"] * 400))
    big.start()
    time.sleep(0.03)
    started = time.monotonic()
    worker.encode("q", ["small"])
    waited = time.monotonic() - started
    big.join()
    worker.close()
    assert max(size for _, size in calls) <= 8
    assert waited < 0.5  # not behind all 50 batches of the big job (0.5 s)


def test_a_full_queue_refuses_at_once_and_errors_reach_the_caller():
    gate = threading.Event()

    def slow(group, texts):  # type: ignore[no-untyped-def]
        gate.wait(5)
        if texts == ["boom"]:
            raise ValueError("bad text")
        return np.zeros((len(texts), 2), np.float32)

    worker = InferenceWorker("fake", slow, 2, max_batch=4, max_wait=0.0, max_queued=10)
    first = threading.Thread(target=worker.encode, args=("q", ["x"] * 4))
    first.start()
    time.sleep(0.05)
    waiting = threading.Thread(target=worker.encode, args=("q", ["y"] * 8))
    waiting.start()
    time.sleep(0.05)
    with pytest.raises(OverloadedError):
        worker.encode("q", ["z"] * 5)
    gate.set()
    first.join()
    waiting.join()
    with pytest.raises(ValueError, match="bad text"):
        worker.encode("other", ["boom"])
    assert worker.encode("q", ["fine"]).shape == (1, 2)  # the worker lives on
    worker.close()


@pytest.mark.slow
def test_the_real_encoder_gives_the_same_vectors_through_its_workers(service):
    encoder = service.encoder
    texts = ["giáo viên tiểu học", "kế toán tổng hợp", " ".join(["điều dưỡng viên"] * 60)]
    inline = encoder.encode(texts, kind="query"), encoder.encode(texts, kind="passage")
    encoder.start_workers(max_batch=8, max_wait=0.01)
    try:
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            queries = list(pool.map(lambda t: encoder.encode([t], kind="query")[0], texts * 2))
            passages = list(pool.map(lambda t: encoder.encode([t], kind="passage")[0], texts))
        assert set(encoder.worker_stats()) == {"torch", "fast"}
    finally:
        encoder.stop_workers()
    np.testing.assert_allclose(np.stack(queries), np.concatenate([inline[0]] * 2), atol=2e-3)
    np.testing.assert_allclose(np.stack(passages), inline[1], atol=2e-3)
