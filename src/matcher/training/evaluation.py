"""Metrics, and the reproducible evaluation of matcher's capabilities on the dev sets.

The dev sets are external (``MATCHER_DATA_DIR/dev-eval``); every run reads them the same way,
in file order, so numbers are comparable between runs.
"""

from __future__ import annotations

import csv
import json
import platform
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from matcher.careers.transitions import TransitionRanker
from matcher.errors import DataDirError
from matcher.nlp.encoder import Encoder
from matcher.nlp.occupations import OccupationMatcher
from matcher.nlp.skills import SkillExtractor
from matcher.ranking.metrics import r_precision, reciprocal_rank
from matcher.reference.taxonomy import Taxonomy
from matcher.reference.titles import Part, title_rows
from matcher.text import fold

NOT_A_SKILL = {"LABEL NOT PRESENT", "UNDERSPECIFIED"}


# ---------------------------------------------------------------------- dev sets
@dataclass
class EvalResult:
    task: str
    dataset: str
    metrics: dict[str, float]
    n: int
    seconds: float
    notes: str = ""
    extra: dict[str, float] = field(default_factory=dict)
    #: each metric's value per item, in the dev set's order (the gate's paired bootstrap)
    items: dict[str, list[float]] = field(default_factory=dict)


def _require(path: Path) -> Path:
    if not path.exists():
        raise DataDirError(
            f"dev set {path} not found; set MATCHER_DATA_DIR to the folder holding dev-eval/"
        )
    return path


def evaluate_titles(matcher: OccupationMatcher, path: Path, limit: int | None = None,
                    part: Part = "heldout") -> EvalResult:  # fmt: skip
    """Job-title normalisation: top-1 accuracy and MRR@10 over the titles of ``part`` (the
    held-out 20% by default: the rest may be trained on, see :mod:`matcher.reference.titles`), in file order."""
    rows = title_rows(_require(path), part)
    rows = rows[:limit] if limit else rows
    started = time.perf_counter()
    ranks = []
    batch = 512
    for offset in range(0, len(rows), batch):
        chunk = rows[offset : offset + batch]
        for row, matches in zip(chunk, matcher.match_many([r["vacancyTitle"] for r in chunk], 10)):
            ranks.append(reciprocal_rank([m.uri for m in matches], row["conceptUri"], 10))
    values = np.array(ranks)
    return EvalResult(
        "title normalisation",
        path.name if part == "all" else f"{path.name} ({part})",
        {"top1": float((values == 1.0).mean()), "mrr@10": float(values.mean())},
        len(rows),
        time.perf_counter() - started,
        items={"top1": (values == 1.0).astype(float).tolist(), "mrr@10": values.tolist()},
    )


def evaluate_skill_extraction(
    extractor: SkillExtractor, taxonomy: Taxonomy, path: Path, limit: int | None = None
) -> EvalResult:
    """Skill extraction: R-precision@5 of the extracted skills against each sentence's gold
    ESCO labels (sentences whose spans all say LABEL NOT PRESENT are skipped)."""
    by_label = {fold(skill.label): uri for uri, skill in taxonomy.skills.items()}
    gold: dict[str, set[str]] = defaultdict(set)
    unknown = 0
    with _require(path).open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            sentence = row["sentence"].strip()
            gold.setdefault(sentence, set())
            if row["label"] in NOT_A_SKILL:
                continue
            uri = by_label.get(fold(row["label"]))
            if uri is None:
                unknown += 1
                continue
            gold[sentence].add(uri)
    sentences = [s for s, labels in gold.items() if labels]
    sentences = sentences[:limit] if limit else sentences
    started = time.perf_counter()
    found = extractor.extract_many(sentences, k=10)
    rp5 = [r_precision([m.uri for m in ms], gold[s], 5) for s, ms in zip(sentences, found)]
    recall10 = [
        len({m.uri for m in ms} & gold[s]) / len(gold[s]) for s, ms in zip(sentences, found)
    ]
    return EvalResult(
        "skill extraction",
        path.name,
        {"rp@5": float(np.mean(rp5)), "recall@10": float(np.mean(recall10))},
        len(sentences),
        time.perf_counter() - started,
        notes=f"{unknown} gold labels not in ESCO v1.1.1 were dropped" if unknown else "",
        items={"rp@5": [float(v) for v in rp5], "recall@10": recall10},
    )


def evaluate_synonyms(encoder: Encoder, path: Path, limit: int | None = None) -> EvalResult:
    """Vietnamese skill synonyms: each variant (other than the canonical term itself) is
    matched against all canonical terms of the set; top-1 accuracy and MRR@10."""
    with _require(path).open(encoding="utf-8") as handle:
        sets: dict[str, list[str]] = json.load(handle)
    canonical = list(sets)
    queries = [(v, c) for c, variants in sets.items() for v in variants if fold(v) != fold(c)]
    queries = queries[:limit] if limit else queries
    started = time.perf_counter()
    targets = encoder.encode(canonical, kind="query")
    vectors = encoder.encode([v for v, _ in queries], kind="query")
    scores = vectors @ targets.T
    order = np.argsort(-scores, axis=1)[:, :10]
    ranks = [
        reciprocal_rank([canonical[i] for i in row], answer, 10)
        for row, (_, answer) in zip(order, queries)
    ]
    values = np.array(ranks)
    return EvalResult(
        "Vietnamese skill synonyms",
        path.name,
        {"top1": float((values == 1.0).mean()), "mrr@10": float(values.mean())},
        len(queries),
        time.perf_counter() - started,
        items={"top1": (values == 1.0).astype(float).tolist(), "mrr@10": values.tolist()},
    )


def run_dev_evaluation(
    dev_dir: Path,
    occupations: OccupationMatcher,
    skills: SkillExtractor,
    taxonomy: Taxonomy,
    encoder: Encoder,
    *,
    limit: int | None = None,
    progress: Callable[[str], None] = lambda _: None,
    transitions: TransitionRanker | None = None,
) -> list[EvalResult]:
    results = []
    progress("title normalisation (jobbert_titles_dev.csv)")
    results.append(evaluate_titles(occupations, dev_dir / "jobbert_titles_dev.csv", limit))
    for name in ("house_validation_annotations.csv", "tech_validation_annotations.csv"):
        progress(f"skill extraction ({name})")
        results.append(evaluate_skill_extraction(skills, taxonomy, dev_dir / name, limit))
    for name in ("viski_val_synonymSet.json",):  # viski_train is training data
        progress(f"Vietnamese skill synonyms ({name})")
        results.append(evaluate_synonyms(encoder, dev_dir / name, limit))
    if transitions is not None:
        progress("career transitions (ISCO unit-group siblings)")
        results.extend(evaluate_transitions(transitions, limit))
    return results


#: Scorer variants compared in the transition check (weights of :class:`TransitionRanker`).
TRANSITION_VARIANTS: dict[str, dict[str, float] | None] = {
    "transitions (default weights)": None,
    "transitions: skill overlap only": {"essential_coverage": 0.75, "optional_coverage": 0.25},
    "transitions: label embedding only": {"similarity": 1.0},
}


def evaluate_transitions(
    ranker: TransitionRanker, limit: int | None = None, sample: int = 1000
) -> list[EvalResult]:
    """An internal check of the transition scorer: ISCO-08 puts occupations with the same
    tasks and skill level in one unit group, so an occupation's siblings (same unit group,
    not itself) are moves a person can realistically make. The scorer never sees the unit
    group (only ESCO skill relations, label embeddings and the ISCO *major* group's skill
    level), so how high it ranks the siblings (MRR@10, recall@10) is a fair signal. Every
    ``len/sample``-th origin with at least one sibling is used, in URI order, without the
    per-group diversity the service applies."""
    from matcher.schemas import OriginInfo

    taxonomy = ranker.taxonomy
    groups: dict[str, list[str]] = defaultdict(list)
    for uri in ranker.uris:
        groups[taxonomy.occupations[uri].isco_group].append(uri)
    origins = [u for u in ranker.uris if len(groups[taxonomy.occupations[u].isco_group]) > 1]
    step = max(1, len(origins) // sample)
    origins = origins[::step][: limit or None]
    results = []
    default = dict(ranker.weights)
    try:
        for name, weights in TRANSITION_VARIANTS.items():
            ranker.weights = {f: 0.0 for f in default} | (weights or default)
            started = time.perf_counter()
            rr, recall = [], []
            for uri in origins:
                occupation = taxonomy.occupations[uri]
                origin = OriginInfo(uris=[uri], label=occupation.label, via="uri",
                                    skill_level=occupation.skill_level)  # fmt: skip
                ranked = [t.uri for t in ranker.rank(origin, 10, per_group=None)]
                siblings = set(groups[occupation.isco_group]) - {uri}
                rr.append(reciprocal_rank(ranked, siblings))
                recall.append(len(set(ranked) & siblings) / min(10, len(siblings)))
            results.append(EvalResult(
                task=name, dataset="ESCO: ISCO unit-group siblings (internal check)",
                metrics={"mrr@10": float(np.mean(rr)), "recall@10": float(np.mean(recall))},
                n=len(origins), seconds=time.perf_counter() - started,
            ))  # fmt: skip
    finally:
        ranker.weights = default
    return results


RESULTS_START = "<!-- results:start (written by `matcher evaluate`) -->"
RESULTS_END = "<!-- results:end -->"


def write_report(path: Path, results: list[EvalResult], model: str, limit: int | None) -> None:
    """Write the results into ``path`` between the result markers, keeping the rest of the
    file (hand-written notes on what changed and why) as it is."""
    block = f"{RESULTS_START}\n{render_markdown(results, model, limit)}\n{RESULTS_END}"
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if RESULTS_START in text and RESULTS_END in text:
            before, rest = text.split(RESULTS_START, 1)
            after = rest.split(RESULTS_END, 1)[1]
            path.write_text(before + block + after, encoding="utf-8")
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# Evaluation on the dev sets\n\n{block}\n", encoding="utf-8")


def render_markdown(results: list[EvalResult], model: str, limit: int | None) -> str:
    lines = [
        "Written by `matcher evaluate`; run it again to refresh. The dev sets are external",
        "(`$MATCHER_DATA_DIR/dev-eval`, see its README); a sealed holdout judges the final result.",
        "",
        f"- model: `{model}`",
        f"- rows: {'all' if not limit else f'first {limit} per set'}",
        f"- machine: {platform.machine()}, Python {platform.python_version()}",
        "",
        "| task | dataset | n | metric | value | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        for name, value in result.metrics.items():
            lines.append(
                f"| {result.task} | `{result.dataset}` | {result.n} | {name} | {value:.4f} "
                f"| {result.seconds:.0f} |"
            )
    notes = [f"- {r.dataset}: {r.notes}" for r in results if r.notes]
    if notes:
        lines += ["", "Notes:", *notes]
    lines += [
        "",
        "How each number is computed:",
        "",
        "- **title normalisation**: every vacancy title of the held-out 20% (a fixed split by a",
        "  hash of the folded title, `src/matcher/reference/titles.py`) is matched to ESCO",
        "  occupations, through their labels and the other 80%'s vacancy titles (example",
        "  labels of their occupations; that part may also be trained on); top-1 is the share",
        "  whose gold occupation ranks first, MRR@10 the mean reciprocal rank (0 if not in the",
        "  top 10).",
        "- **skill extraction**: for each sentence with at least one gold ESCO skill, the",
        "  extractor's ranked skills are compared with the gold set: R-precision@5 =",
        "  hits in the top min(5, |gold|) / min(5, |gold|); recall@10 likewise over 10.",
        "- **Vietnamese skill synonyms**: every variant that differs from its canonical term is",
        "  embedded and compared with all canonical terms of the same file; top-1 and MRR@10.",
        "  Only `viski_val` is reported: `viski_train` is training data.",
        "- **career transitions** (internal check, not a dev set): for a sample of ESCO",
        "  occupations, do the other occupations of the same ISCO-08 unit group rank high among",
        "  the scorer's top 10? MRR@10 of the first such sibling, recall@10 over min(10, siblings).",
        "",
    ]
    return "\n".join(lines)
