"""Embed generated postings once, for the benchmarks at scale (issue 18).

Run: .venv/bin/python bench/embed_postings.py [--postings 100000] [--chunk 5000]

The demo generator (``matcher.demo.DemoGenerator``, seed 11) writes postings until there are
``--postings`` distinct texts: Vietnamese and English, ~3,000 ESCO occupations, overseas
programme postings among them, each embedded as the product embeds a posting (title, the
description cut at ``EMBED_TEXT_CHARS``, the required skills' labels; ``job_text``), with the
passage prompt. The forward pass is the int8 ONNX Runtime graph the server uses for long
queries (~3.4x faster than torch fp32 here: 62 against 18 postings/s; cosine to fp32 min 0.979,
mean 0.986 on 256 postings), because these vectors only shape the benchmark's data: 100k
postings take ~30 minutes instead of ~95.

Written in chunks under ``.state/cache/bench/postings/`` (``chunk-00000.npz`` …: vectors,
province, country, remote, salary, occupation, programme), named after the model's
fingerprint, so a stopped run resumes where it stopped and a new model starts afresh.
``bench_filters.py --vectors postings`` reads them (:func:`load_postings`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CACHE = ROOT / ".state" / "cache" / "bench" / "postings"
FIELDS = ("province", "country", "remote", "salary", "occupation", "programme")


def load_postings(limit: int | None = None) -> tuple[np.ndarray, list[dict]]:
    """The cached posting vectors and their metadata (as ``VectorIndex`` rows take it)."""
    manifest = CACHE / "manifest.json"
    if not manifest.exists():
        sys.exit("no embedded postings: run `.venv/bin/python bench/embed_postings.py` first")
    chunks = sorted(CACHE.glob(f"{json.loads(manifest.read_text())['model']}-chunk-*.npz"))
    vectors, metadata = [], []
    for path in chunks:
        with np.load(path, allow_pickle=False) as data:
            vectors.append(data["vectors"].astype(np.float32))
            columns = {name: data[name].tolist() for name in FIELDS}
        for row in range(len(vectors[-1])):
            metadata.append({name: columns[name][row] for name in FIELDS})
        if limit and len(metadata) >= limit:
            break
    matrix = np.concatenate(vectors)[:limit]
    return matrix, metadata[: len(matrix)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postings", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=5_000)
    args = parser.parse_args()

    from matcher.demo import DemoGenerator
    from matcher.search.catalog import EMBED_SKILLS, EMBED_TEXT_CHARS
    from matcher.services import MatcherService
    from matcher.settings import Settings

    service = MatcherService(Settings())
    taxonomy, encoder = service.taxonomy, service.encoder
    generator = DemoGenerator(
        taxonomy, service.settings.project_data_dir, 11, service.runtime.reference.programmes
    )
    fast = encoder._fast_for_queries()
    prompt = encoder.prompts["passage"]
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "manifest.json").write_text(json.dumps({"model": encoder.fingerprint, "seed": 11}))

    def text_of(posting) -> str:  # what ``job_text`` embeds, from the generator's fields
        vietnamese = "Tin tuyển dụng" in posting.description
        labels = []
        for uri in posting.required_skills[:EMBED_SKILLS]:
            skill = taxonomy.skills[uri]
            labels.append(skill.vi_labels[0] if vietnamese and skill.vi_labels else skill.label)
        parts = [posting.title, posting.description[:EMBED_TEXT_CHARS], ", ".join(labels)]
        return "\n".join(part for part in parts if part)

    seen: set[str] = set()
    started, done = time.perf_counter(), 0
    for number in range((args.postings + args.chunk - 1) // args.chunk):
        path = CACHE / f"{encoder.fingerprint}-chunk-{number:05d}.npz"
        texts, rows = [], []
        while len(texts) < args.chunk:  # the generator runs every chunk, so seen stays whole
            posting = generator.posting()
            text = text_of(posting)
            if text in seen:
                continue
            seen.add(text)
            texts.append(text)
            rows.append(posting)
        if path.exists():
            continue
        vectors = fast.encode([prompt + text for text in texts], batch_size=32)
        columns = {
            "province": np.array([p.province or "" for p in rows]),
            "country": np.array([p.country for p in rows]),
            "remote": np.array([p.remote for p in rows]),
            "salary": np.array([p.salary_min or 0 for p in rows], dtype=np.int64),
            "occupation": np.array([p.occupation or "" for p in rows]),
            "programme": np.array([p.programme or "" for p in rows]),
        }
        partial = path.with_suffix(".partial.npz")
        np.savez(partial, vectors=vectors.astype(np.float16), **columns)
        partial.replace(path)
        done += len(texts)
        rate = done / (time.perf_counter() - started)
        print(f"chunk {number}: {(number + 1) * args.chunk:,} postings, {rate:.0f}/s", flush=True)


if __name__ == "__main__":
    main()
