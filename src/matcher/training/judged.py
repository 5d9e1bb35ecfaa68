"""The judged ranking evaluation: realistic profiles, graded by people, not by the generator.

``data/judged/profiles.jsonl`` holds profiles of the product's users, written by the team
(teachers, health workers, commune officials, office staff, workers going abroad, returnees;
Vietnamese and English). They are matched against the demo postings (``matcher demo load``:
2,000 postings, seed 7), and each system *variant* ranks its top 10:

- ``served``: what the service serves (full skill extraction, the served ranker);
- ``verbatim``: inline profiles with verbatim skills only (the extraction before issue 17);
- ``no-policy``: the hand-set weights without the location and intent terms;
- ``similarity``: the embedding similarity alone (retrieval order).

:func:`pool` writes the union of the variants' top 10 per profile, blind (no variant, postings
shuffled), for grading 0–3 against ``data/judged/GUIDELINES.md``. :func:`evaluate` reads the
grades and reports, per variant, nDCG@10 on the held-out half of the profiles (never used for
tuning) and on the tuning half, the share of top-3 lists with an in-province posting for people
who will not relocate, how much of each top 10 was judged, and the agreement between the two
grades of the pairs graded twice.

Postings are keyed by their content (:func:`posting_key`), not by id, so the judgements hold for
every fresh ``demo load`` of the same generator; a posting the grades do not know counts 0 and
lowers ``judged@10``.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matcher.errors import DataDirError
from matcher.ranking.features import Ranker, WeightedRanker, match_features
from matcher.ranking.metrics import ndcg_at_k
from matcher.schemas import Candidate, CandidateProfileIn, JobPosting, Lang
from matcher.text import fold

if TYPE_CHECKING:
    from matcher.services import MatcherService

K = 10
VARIANTS = ("served", "verbatim", "no-policy", "similarity")
PROFILES_FILE = "profiles.jsonl"
POOL_FILE = "pool.jsonl"
GRADES_FILE = "grades.jsonl"
#: the pooled pairs without a grade yet: what the graders get next
TO_GRADE_FILE = "to-grade.jsonl"


@dataclass(frozen=True)
class JudgedProfile:
    id: str
    group: str
    lang: str
    profile: CandidateProfileIn

    @property
    def held_out(self) -> bool:
        """Half of the profiles, by a hash of the id: reported, never tuned on."""
        return is_held_out(self.id)


@dataclass(frozen=True)
class Grade:
    pair: str
    profile: str
    posting: str
    grade: int
    grader: str
    round: int = 1
    reason: str = ""


def is_held_out(profile_id: str) -> bool:
    return hashlib.sha256(f"judged:{profile_id}".encode()).digest()[0] % 2 == 0


def posting_key(job: JobPosting) -> str:
    """A posting's identity across demo loads: a hash of what a grader reads."""
    parts = (job.title, job.description, job.employer or "", job.province or "", job.country,
             job.programme or "", str(job.remote))  # fmt: skip
    return hashlib.sha256("\x1f".join(fold(p) for p in parts).encode()).hexdigest()[:16]


def pair_id(profile_id: str, key: str) -> str:
    return hashlib.sha256(f"{profile_id}|{key}".encode()).hexdigest()[:12]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSON-lines file; none when it is not there."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_profiles(directory: Path) -> list[JudgedProfile]:
    if not (directory / PROFILES_FILE).exists():  # a FileNotFoundError, with what to do
        raise DataDirError(f"{directory / PROFILES_FILE} not found; give --directory the folder "
                           "that holds the judged profiles (data/judged)")  # fmt: skip
    return [JudgedProfile(row["id"], row["group"], row["lang"],
                          CandidateProfileIn.model_validate(row["profile"]))
            for row in read_jsonl(directory / PROFILES_FILE)]  # fmt: skip


def load_grades(directory: Path) -> list[Grade]:
    return [Grade(**row) for row in read_jsonl(directory / GRADES_FILE)]


# ---------------------------------------------------------------------- variants
def variant_ranker(service: MatcherService, name: str) -> Ranker:
    if name in ("served", "verbatim"):
        return service.ranker
    weights = WeightedRanker().weights
    if name == "no-policy":
        return WeightedRanker({k: v for k, v in weights.items() if k not in ("location", "intent")})
    if name == "similarity":
        return WeightedRanker({"similarity": 1.0})
    raise ValueError(f"unknown variant {name!r}: use one of {', '.join(VARIANTS)}")


def build(service: MatcherService, profile: CandidateProfileIn, variant: str) -> Candidate:
    if variant == "verbatim":
        return service.build_candidate(profile, thorough=False)
    return service.build_candidate(profile, per_request=True)


def top_postings(service: MatcherService, person: JudgedProfile, variant: str,
                 k: int = K) -> list[JobPosting]:  # fmt: skip
    """The variant's top ``k`` postings for the person, best first (the service's retrieval
    and features, as :func:`matcher.services.matching.recommend_jobs` ranks them)."""
    candidate = build(service, person.profile, variant)
    lang: Lang = "en" if person.lang == "en" else "vi"
    jobs, pairs = service.job_pairs(candidate, lang=lang)
    rows = [match_features(seeker, opening, sim) for seeker, opening, sim in pairs]
    scores = variant_ranker(service, variant).score(rows)
    order = sorted(range(len(jobs)), key=lambda i: -scores[i])
    out: list[JobPosting] = []
    seen: set[str] = set()
    for i in order:  # the demo generator can write one posting twice: keep its first place
        key = posting_key(jobs[i])
        if key not in seen:
            seen.add(key)
            out.append(jobs[i])
        if len(out) == k:
            break
    return out


def rankings(service: MatcherService, people: Sequence[JudgedProfile],
             variants: Sequence[str] = VARIANTS,
             say: Callable[[str], None] = lambda _: None) -> dict[str, dict[str, list[JobPosting]]]:  # fmt: skip
    """``{variant: {profile id: top postings}}``."""
    out: dict[str, dict[str, list[JobPosting]]] = {v: {} for v in variants}
    for n, person in enumerate(people, start=1):
        for name in variants:
            out[name][person.id] = top_postings(service, person, name)
        if n % 10 == 0 or n == len(people):
            say(f"  ranked {n}/{len(people)} profiles")
    return out


# ---------------------------------------------------------------------- pooling
def snapshot(job: JobPosting) -> dict[str, Any]:
    """What a grader reads of a posting (no id, no score, no system)."""
    return {
        "title": job.title, "description": job.description, "employer": job.employer,
        "province": job.province, "country": job.country, "remote": job.remote,
        "programme": job.programme, "salary_min": job.salary_min,
        "salary_max": job.salary_max, "currency": job.currency,
        "required_skills": list(job.required_skills),
        "languages": [lang.model_dump(exclude_none=True) for lang in job.languages],
        "min_experience_years": job.min_experience_years,
    }  # fmt: skip


def pool(ranked: dict[str, dict[str, list[JobPosting]]], seed: int = 17) -> list[dict[str, Any]]:
    """The union of every variant's top 10 per profile, each pair once, shuffled within a
    profile so that neither the variant nor the rank can be read from the order."""
    by_profile: dict[str, dict[str, JobPosting]] = defaultdict(dict)
    for lists in ranked.values():
        for profile_id, jobs in lists.items():
            for job in jobs:
                by_profile[profile_id].setdefault(posting_key(job), job)
    rnd = random.Random(seed)
    rows = []
    for profile_id in sorted(by_profile):
        items = sorted(by_profile[profile_id].items())
        rnd.shuffle(items)
        rows += [{"pair": pair_id(profile_id, key), "profile": profile_id, "posting": key,
                  "job": snapshot(job)} for key, job in items]  # fmt: skip
    return rows


def grow_pool(earlier: Sequence[dict[str, Any]], now: Sequence[dict[str, Any]],
              grades: Sequence[Grade]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """``(pool, to grade)``: the pairs pooled before, in their order, then those pooled now for
    the first time (so the pool keeps a record of everything graded); and the pairs of the pool
    that have no first-round grade yet."""
    seen = {row["pair"] for row in earlier}
    pooled = [*earlier, *(row for row in now if row["pair"] not in seen)]
    graded = {g.pair for g in grades if g.round == 1}
    return pooled, [row for row in pooled if row["pair"] not in graded]


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


# ---------------------------------------------------------------------- evaluation
def qrels(grades: Sequence[Grade]) -> dict[str, dict[str, int]]:
    """``{profile: {posting key: grade}}`` from the first round of grading."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for g in grades:
        if g.round == 1:
            out[g.profile][g.posting] = g.grade
    return out


def agreement(grades: Sequence[Grade]) -> dict[str, float]:
    """Agreement of the pairs graded twice (by another grader): exact, within one grade, and
    Cohen's quadratic-weighted kappa."""
    first = {g.pair: g.grade for g in grades if g.round == 1}
    pairs = [(first[g.pair], g.grade) for g in grades if g.round == 2 and g.pair in first]
    if not pairs:
        return {"pairs": 0.0}
    a, b = (np.array(x) for x in zip(*pairs))
    from sklearn.metrics import cohen_kappa_score

    kappa = float(cohen_kappa_score(a, b, weights="quadratic", labels=[0, 1, 2, 3]))
    return {"pairs": float(len(pairs)), "exact": float(np.mean(a == b)),
            "within_one": float(np.mean(np.abs(a - b) <= 1)), "kappa_quadratic": kappa}  # fmt: skip


def in_province(job: JobPosting, province: str | None) -> bool:
    return province is not None and job.country == "VN" and job.province == province


def evaluate(service: MatcherService, people: Sequence[JudgedProfile], grades: Sequence[Grade],
             variants: Sequence[str] = VARIANTS,
             say: Callable[[str], None] = lambda _: None) -> dict[str, Any]:  # fmt: skip
    """:func:`score` of the variants' rankings on ``service`` (which holds the demo postings)."""
    ranked = rankings(service, people, variants, say)
    provinces = {p.id: service.build_candidate(p.profile, thorough=False).province
                 for p in people}  # fmt: skip
    return score(ranked, people, grades, provinces)


def score(ranked: dict[str, dict[str, list[JobPosting]]], people: Sequence[JudgedProfile],
          grades: Sequence[Grade], provinces: dict[str, str | None]) -> dict[str, Any]:  # fmt: skip
    """Per variant and half (``held_out``, ``tuning``): nDCG@10 (gains = grades, ideal = the
    best grades judged for the profile; profiles with nothing relevant judged are left out),
    the share of non-relocators' top 3 with a posting in their province, and judged@10; plus
    the graders' agreement. ``provinces``: each profile's province, as the service settles it."""
    judged = qrels(grades)
    out: dict[str, Any] = {"profiles": len(people), "graded_pairs": sum(map(len, judged.values())),
                           "agreement": agreement(grades), "variants": {}}  # fmt: skip
    for name, lists in ranked.items():
        report: dict[str, dict[str, float]] = {}
        for half in ("held_out", "tuning"):
            members = [p for p in people if p.held_out == (half == "held_out")]
            ndcgs, coverage, local = [], [], []
            for person in members:
                gains = judged.get(person.id, {})
                top = lists.get(person.id, [])
                keys = [posting_key(job) for job in top]
                if gains and max(gains.values()) > 0:
                    ndcgs.append(ndcg_at_k(keys, gains, K, ideal=gains.values()))
                coverage.append(float(np.mean([k in gains for k in keys])) if keys else 0.0)
                if person.profile.willing_to_relocate is False:
                    local.append(any(in_province(job, provinces.get(person.id)) for job in top[:3]))
            report[half] = {
                "profiles": float(len(members)),
                "ndcg@10": float(np.mean(ndcgs)) if ndcgs else 0.0,
                "judged@10": float(np.mean(coverage)) if coverage else 0.0,
                "in_province_top3": float(np.mean(local)) if local else 0.0,
                "non_relocators": float(len(local)),
            }
        out["variants"][name] = report
    return out
