"""Text analysis: occupations and skills found in free text, and raw embeddings.

Inputs are normalised and checked before anything heavy is loaded, so bad input fails fast.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

from matcher.nlp.encoder import Kind
from matcher.nlp.skills import resolve_skill_names, skill_refs
from matcher.schemas import OccupationMatch, SkillMatch, SkillRef
from matcher.services.runtime import Runtime
from matcher.text import normalize_text


def validated(rt: Runtime, texts: list[str], *, keep_lines: bool = False) -> list[str]:
    limit = rt.settings.max_text_chars
    return [normalize_text(text, max_chars=limit, keep_lines=keep_lines) for text in texts]


def match_occupations(rt: Runtime, texts: list[str], k: int = 10) -> list[list[OccupationMatch]]:
    texts = validated(rt, texts)
    return rt.parts.models.occupations.match_many(texts, k)


def extract_skills(rt: Runtime, texts: list[str], k: int = 20) -> list[list[SkillMatch]]:
    texts = validated(rt, texts, keep_lines=True)
    return rt.parts.models.skills.extract_many(texts, k)


def embed(rt: Runtime, texts: list[str], kind: Kind) -> npt.NDArray[np.float32]:
    texts = validated(rt, texts)
    return rt.parts.encoder.encode(texts, kind=kind)


def _extraction_key(text: str, k: int, thorough: bool, fast: bool) -> tuple[str, int, bool, bool]:
    return (hashlib.sha256(text.encode()).hexdigest(), k, thorough, fast)


def extract_ahead(rt: Runtime, texts: list[str], *, k: int, batch: int = 16) -> None:
    """Find the skills of many stored records' texts in batched forward passes (a bulk
    import), and keep them where :func:`record_skills` looks first: one pass per text cost
    ~2x more (issue 18's ingest benchmark)."""
    models = rt.parts.models
    todo = [text for text in dict.fromkeys(texts)
            if text.strip() and models.extractions.get(_extraction_key(text, k, True, False)) is None]  # fmt: skip
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        for text, matches in zip(chunk, models.skills.extract_many(chunk, k=k), strict=True):
            models.extractions.put(_extraction_key(text, k, True, False), matches)


def record_skills(
    rt: Runtime,
    declared: list[str],
    text: str,
    *,
    found_essential: bool,
    k: int,
    thorough: bool,
    per_request: bool = False,
) -> list[SkillRef]:
    """Declared skill names resolved to ESCO (essential), then skills found in ``text``
    that were not declared. ``thorough=False``: verbatim labels only, no model call;
    ``per_request``: found for one answer and never stored (the query runtime embeds the
    phrases). What is found is kept per text hash until the model changes."""  # fmt: skip
    models = rt.parts.models
    extractor = models.skills
    given = resolve_skill_names(extractor, declared, essential=True)
    if not text.strip():
        return given
    fast = per_request and rt.settings.int8_skill_spans
    key = _extraction_key(text, k, thorough, fast)
    matches = models.extractions.get(key)
    if matches is None:
        matches = (extractor.extract(text, k=k, fast=fast) if thorough
                   else extractor.extract_exact(text, k=k))  # fmt: skip
        models.extractions.put(key, matches)
    known = {skill.uri for skill in given}
    found = skill_refs(matches, rt.reference.taxonomy, essential=found_essential)
    return given + [skill for skill in found if skill.uri not in known]
