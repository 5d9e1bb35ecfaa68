"""Contextual span vectors: one forward pass per text, a vector per span ("late" pooling).

Skill extraction compares the phrases of a text with the ESCO skill labels. Embedding each
phrase on its own costs a forward pass per phrase (a 200-word profile has about 80 of them,
~3 times the tokens of the text, as windows overlap), and the phrase is read without the words
around it. Here the text is run through the model once, with the query prompt, and a span's
vector is the mean of the output states of its tokens, L2-normalised (Günther et al., "Late
Chunking", 2024). On the dev sets this reads a phrase better, not only faster:
``docs/evaluation.md`` has the numbers.

A text longer than the model reads (``max_seq_length`` tokens) is cut into consecutive chunks,
each cut moved back to the start of a span it would split, so each span is read whole.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

#: ``hidden(input_ids, attention_mask)`` → ``(batch, tokens, dimension)`` output states.
Hidden = Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], npt.NDArray[np.float32]]


@dataclass(frozen=True)
class Plan:
    """The model inputs for one text and where each span's tokens are in them."""

    chunks: list[list[int]]
    #: per span: (chunk, first position, end position) in that chunk's input ids, or None for a
    #: span with no token (it gets a zero vector)
    where: list[tuple[int, int, int] | None]


def plan(
    tokenizer: Any, text: str, spans: list[tuple[int, int]], prompt: str, max_tokens: int
) -> Plan:
    """Chunk ``text`` (already normalised) for the model and locate ``spans`` (character
    ranges of ``text``) in the chunks."""
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids: list[int] = encoded["input_ids"]
    offsets: list[tuple[int, int]] = encoded["offset_mapping"]
    before, head, after = _frame(tokenizer, prompt)
    room = max(8, max_tokens - len(before) - len(after) - len(head))
    # each span as a token range [first, last)
    starts_at = np.array([a for a, b in offsets], dtype=np.int64)
    ends_at = np.array([b for a, b in offsets], dtype=np.int64)
    real = ends_at > starts_at
    tokens: list[tuple[int, int] | None] = []
    for begin, end in spans:
        inside = np.flatnonzero(real & (starts_at < end) & (ends_at > begin))
        tokens.append((int(inside[0]), int(inside[-1]) + 1) if inside.size else None)
    bounds = _bounds(len(ids), room, [t for t in tokens if t is not None])
    chunks = [before + head + ids[start:stop] + after for start, stop in bounds]
    where: list[tuple[int, int, int] | None] = []
    for found in tokens:
        if found is None:
            where.append(None)
            continue
        first, last = found
        chunk = next(c for c, (start, stop) in enumerate(bounds) if first < stop)
        start, stop = bounds[chunk]
        offset = len(before) + len(head) - start
        where.append((chunk, first + offset, min(last, stop) + offset))
    return Plan(chunks, where)


def _bounds(size: int, room: int, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Consecutive token ranges of at most ``room`` tokens covering ``size`` tokens, each cut
    moved back to the start of a span it would split (if that keeps half a chunk)."""
    bounds: list[tuple[int, int]] = []
    start = 0
    while start < size or not bounds:
        stop = min(size, start + room)
        if stop < size:
            split = [first for first, last in spans if first < stop < last]
            if split and min(split) >= start + room // 2:
                stop = min(split)
        bounds.append((start, stop))
        start = stop
    return bounds


@functools.lru_cache(maxsize=8)
def _frame(tokenizer: Any, prompt: str) -> tuple[list[int], list[int], list[int]]:
    """What surrounds every text's ids, worked out once per tokenizer and prompt: the ids the
    tokenizer puts before the text (``[CLS]``, ``<s>``), the prompt's, and those after it."""
    head = tokenizer(prompt, add_special_tokens=False)["input_ids"] if prompt else []
    probe = "probe"
    bare = tokenizer(probe, add_special_tokens=False)["input_ids"]
    wrapped = tokenizer(probe)["input_ids"]
    for lead in range(len(wrapped) - len(bare) + 1):
        if wrapped[lead : lead + len(bare)] == bare:
            return wrapped[:lead], head, wrapped[lead + len(bare) :]
    return [], head, []


def span_vectors(
    plans: list[Plan], hidden: Hidden, pad_id: int, dimension: int, *, batch_size: int = 16
) -> list[npt.NDArray[np.float32]]:
    """``(spans, dimension)`` unit vectors for each plan, computing ``hidden`` over every
    chunk, longest first, at most ``batch_size`` chunks of similar lengths at a time."""
    flat = [(p, c) for p, item in enumerate(plans) for c in range(len(item.chunks))]
    flat.sort(key=lambda key: -len(plans[key[0]].chunks[key[1]]))
    states: dict[tuple[int, int], npt.NDArray[np.float32]] = {}
    # batches of similar lengths: a short chunk padded to a long one would cost as much
    batches: list[list[tuple[int, int]]] = []
    width = 0
    for key in flat:
        size = len(plans[key[0]].chunks[key[1]])
        if not batches or len(batches[-1]) == batch_size or size < 0.75 * width:
            batches.append([])
            width = size
        batches[-1].append(key)
    for batch in batches:
        width = max(len(plans[p].chunks[c]) for p, c in batch)
        input_ids = np.full((len(batch), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, (p, c) in enumerate(batch):
            chunk = plans[p].chunks[c]
            input_ids[row, : len(chunk)] = chunk
            mask[row, : len(chunk)] = 1
        out = hidden(input_ids, mask)
        for row, key in enumerate(batch):
            states[key] = out[row]
    results = []
    for p, item in enumerate(plans):
        vectors = np.zeros((len(item.where), dimension), dtype=np.float32)
        for s, place in enumerate(item.where):
            if place is not None:
                at, first, end = place
                vectors[s] = states[(p, at)][first:end].mean(axis=0)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        results.append(vectors / np.maximum(norms, 1e-12))
    return results
