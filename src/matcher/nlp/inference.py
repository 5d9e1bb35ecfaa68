"""One inference worker per model runtime: request threads queue texts, one thread runs them.

This is how text-embeddings-inference serves a model: every forward pass of a runtime happens
on one thread, so nothing in the model, its tokenizer (whose padding and truncation settings
are state that every call changes) or the ONNX session is ever used by two threads at once,
and texts from requests that wait together are run as one micro-batch.

- A request's texts wait at most ``max_wait`` seconds for company (none by default: texts that
  queue while the worker is busy form the next batch anyway); a batch holds at most
  ``max_batch`` texts, all of one group (e.g. the same prompt).
- A large job (a bulk import) is run ``max_batch`` texts at a time, taking turns with the jobs
  queued behind it, so queries are not stuck behind it for minutes.
- The queue is bounded (``max_queued`` texts): past it, :class:`OverloadedError` is raised at
  once (the API answers 503 with ``Retry-After``) rather than letting latency grow without end.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.errors import OverloadedError

logger = logging.getLogger(__name__)

Run = Callable[[Hashable, list[Any]], Any]


@dataclass(eq=False)
class _Job:
    group: Hashable
    texts: list[Any]
    #: one result per text: rows of a ``(N, dimension)`` array, or a list of anything
    out: Any
    taken: int = 0  # texts handed to a batch so far
    finished: int = 0  # texts whose vectors are in ``out``
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class WorkerStats:
    batches: int
    texts: int
    largest_batch: int
    queued_texts: int


class InferenceWorker:
    """Runs ``run(group, texts)`` on one thread for every caller.

    Args:
        name: for the thread and the logs, e.g. ``"torch"`` or ``"onnx-int8"``.
        run: computes ``(len(texts), dimension)`` vectors for texts of one group (or, for the
            groups that :meth:`submit` is called with, one result per item).
        dimension: vector length.
        max_batch: most texts in one call of ``run``.
        max_wait: seconds a request waits for others to share its batch.
        max_queued: most texts waiting; more raises :class:`OverloadedError`.
    """

    def __init__(
        self,
        name: str,
        run: Run,
        dimension: int,
        *,
        max_batch: int = 32,
        max_wait: float = 0.0,
        max_queued: int = 4096,
    ) -> None:
        self.name = name
        self._run = run
        self.dimension = dimension
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.max_queued = max_queued
        self._jobs: deque[_Job] = deque()
        self._queued = 0
        self._changed = threading.Condition()
        self._closed = False
        self._batches = self._texts = self._largest = 0
        self._thread = threading.Thread(target=self._serve, name=f"inference-{name}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ callers
    def encode(self, group: Hashable, texts: list[str]) -> npt.NDArray[np.float32]:
        """Vectors for ``texts``, computed on the worker thread; blocks until they are done."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        self._wait(_Job(group, texts, out))
        return out

    def submit(self, group: Hashable, items: Sequence[Any]) -> list[Any]:
        """One result per item from ``run(group, items)``, computed on the worker thread, in
        batches of at most ``max_batch`` items; blocks until they are done."""
        if not items:
            return []
        out: list[Any] = [None] * len(items)
        self._wait(_Job(group, list(items), out))
        return out

    def _wait(self, job: _Job) -> None:
        texts = job.texts
        with self._changed:
            if self._closed:
                raise OverloadedError(f"the {self.name} inference worker is stopped; retry")
            if self._queued and self._queued + len(texts) > self.max_queued:
                raise OverloadedError(
                    f"{self._queued:,} texts are waiting for the model; retry in a few seconds"
                )
            self._jobs.append(job)
            self._queued += len(texts)
            self._changed.notify_all()
        job.done.wait()
        if job.error is not None:
            raise job.error

    def stats(self) -> WorkerStats:
        with self._changed:
            return WorkerStats(self._batches, self._texts, self._largest, self._queued)

    def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=60)

    # ------------------------------------------------------------------ the worker thread
    def _serve(self) -> None:
        while True:
            with self._changed:
                while not self._jobs and not self._closed:
                    self._changed.wait()
                if not self._jobs:
                    return  # closed and drained
                deadline = time.monotonic() + self.max_wait
                while self._waiting(self._jobs[0].group) < self.max_batch:
                    left = deadline - time.monotonic()
                    if left <= 0 or self._closed:
                        break
                    self._changed.wait(left)
                batch = self._take()
            self._compute(batch)

    def _waiting(self, group: Hashable) -> int:
        return sum(len(job.texts) - job.taken for job in self._jobs if job.group == group)

    def _take(self) -> list[tuple[_Job, int, int]]:
        """Up to ``max_batch`` texts of the oldest job's group, oldest jobs first. A job that
        still has texts left goes to the back of the queue, so big jobs take turns."""
        group = self._jobs[0].group
        batch: list[tuple[_Job, int, int]] = []
        room = self.max_batch
        for job in list(self._jobs):
            if room == 0:
                break
            if job.group != group:
                continue
            start = job.taken
            end = min(len(job.texts), start + room)
            job.taken = end
            room -= end - start
            batch.append((job, start, end))
            self._jobs.remove(job)
            if end < len(job.texts):
                self._jobs.append(job)
        self._queued -= self.max_batch - room
        return batch

    def _compute(self, batch: list[tuple[_Job, int, int]]) -> None:
        texts = [text for job, start, end in batch for text in job.texts[start:end]]
        try:
            vectors = self._run(batch[0][0].group, texts)
        except BaseException as error:  # noqa: BLE001 - handed to every caller in the batch
            logger.warning("%s inference failed for a batch of %d: %s", self.name, len(texts),
                           type(error).__name__)  # fmt: skip
            self._fail(batch, error)
            return
        offset = 0
        for job, start, end in batch:
            job.out[start:end] = vectors[offset : offset + end - start]
            offset += end - start
            job.finished += end - start
            if job.finished == len(job.texts):
                job.done.set()
        with self._changed:
            self._batches += 1
            self._texts += len(texts)
            self._largest = max(self._largest, len(texts))

    def _fail(self, batch: list[tuple[_Job, int, int]], error: BaseException) -> None:
        with self._changed:
            for job, _, _ in batch:
                job.error = error
                if job in self._jobs:  # the rest of a failed job is not run
                    self._queued -= len(job.texts) - job.taken
                    self._jobs.remove(job)
                job.done.set()
