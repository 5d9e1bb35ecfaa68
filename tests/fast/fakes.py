"""A deterministic stand-in for :class:`matcher.nlp.encoder.Encoder`, for the fast tier only.

Texts that share words get similar vectors (hashed word and character-trigram counts), so
retrieval and ranking behave sensibly; nothing is learned and nothing is downloaded."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import numpy as np
import numpy.typing as npt

from matcher.text import fold, normalize_text


class FakeEncoder:
    dimension = 64
    max_chars = 20_000

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.name = f"fake-{seed}"
        self.fingerprint = f"fake{seed}"
        self.model = SimpleNamespace(max_seq_length=256)
        self.calls = 0
        self.workers_running = False

    def _features(self, text: str) -> list[str]:
        words = fold(text).split()
        grams = [w[i : i + 3] for w in words for i in range(max(1, len(w) - 2))]
        return words + grams

    def encode(self, texts: list[str], *, kind: str = "query", progress: bool | None = None,
               precise: bool = False) -> npt.NDArray[np.float32]:  # fmt: skip
        self.calls += 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(normalize_text(text, max_chars=self.max_chars)):
                digest = hashlib.blake2b(f"{self.seed}:{feature}".encode(), digest_size=8)
                value = int.from_bytes(digest.digest(), "little")
                out[row, value % self.dimension] += 1.0 if value & 1 << 40 else -1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else np.eye(self.dimension, dtype=np.float32)[0]
        return out

    def encode_spans(self, texts: list[str], spans: list[list[tuple[int, int]]], *,
                     precise: bool = False) -> list[npt.NDArray[np.float32]]:  # fmt: skip
        """Each span on its own (the real encoder reads it in its text's context)."""
        return [self.encode([text[a:b] for a, b in ranges]) if ranges
                else np.zeros((0, self.dimension), dtype=np.float32)
                for text, ranges in zip(texts, spans)]  # fmt: skip

    def warm_up(self) -> None:
        pass

    def run_every_path(self) -> None:
        self.encode(["warm up"], kind="query")

    def start_workers(self, **_: object) -> None:
        self.workers_running = True

    def stop_workers(self) -> None:
        self.workers_running = False
