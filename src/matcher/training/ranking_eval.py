"""Held-out ranking evaluation and fairness, on a labelled synthetic corpus and on feedback.

The corpus comes from the demo generator (:mod:`matcher.demo`): profiles written from a known
ESCO occupation, with a CV header as Vietnamese CVs have one (name, gender, year of birth, home
province), and postings of known occupations, half of them close to the profiles' occupations.
A (person, posting) pair's graded relevance is:

- 3 same occupation, 2 same ISCO-08 unit group, 1 same minor group, else 0;
- one grade less for a domestic posting in another province the person will not move to, and
  one less for a language requirement the person does not meet;
- 0 for an overseas posting the person does not want or a programme they are not eligible for.

Queries are split into train and test by a hash of their id. Metrics run the service's own
retrieval and features (:meth:`MatcherService.job_pairs`, :meth:`~MatcherService.candidate_pairs`),
so what is measured is what is served. Fairness:

- counterfactual invariance: the same profile with another gender, name, ethnicity, province
  (compared on remote and overseas postings only, where the province is no requirement) or
  age (compared on non-programme postings only: only programme rules may use age); RBO of the
  top 10 and the mean absolute score difference of postings in both;
- group parity by gender and age band (≤ 35, 36–50, > 50): MAP of each group's own
  recommendations, and the exposure each group gets in employers' top 10.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from matcher.demo import DEMO_YEAR, DemoGenerator
from matcher.programmes.eligibility import check_eligibility
from matcher.ranking.features import Ranker, language_met, match_features
from matcher.ranking.metrics import average_precision, ndcg_at_k, rbo
from matcher.schemas import Candidate, CandidateProfileIn, JobPosting
from matcher.text import fold

if TYPE_CHECKING:
    from matcher.services import MatcherService

NAMES = {
    "male": ["Nguyễn Văn Hùng", "Trần Minh Tuấn", "Lê Quốc Bảo", "Phạm Đức Long",
             "Hoàng Văn Nam", "Vũ Thành Công"],
    "female": ["Nguyễn Thị Lan", "Trần Thị Hoa", "Lê Thu Hà", "Phạm Ngọc Anh",
               "Hoàng Thị Mai", "Vũ Thanh Hương"],
}  # fmt: skip
GENDER_WORD = {"vi": {"male": "Nam", "female": "Nữ"}, "en": {"male": "Male", "female": "Female"}}
ETHNICITIES = ["Kinh", "Tày", "Thái", "Mường", "H'Mông", "Khmer"]
AGE_BANDS = ("35_or_under", "36_to_50", "over_50")
COUNTERFACTUALS = ("gender", "name", "ethnicity", "province", "age")


def age_band(birth_year: int | None) -> str:
    age = DEMO_YEAR - (birth_year or DEMO_YEAR - 40)
    return AGE_BANDS[0] if age <= 35 else AGE_BANDS[1] if age <= 50 else AGE_BANDS[2]


def is_train(key: str, share: float = 0.7) -> bool:
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 1000 < share * 1000


@dataclass
class Person:
    candidate: Candidate
    occupation: str
    gender: str
    ethnicity: str
    profile: CandidateProfileIn
    vietnamese: bool

    @property
    def band(self) -> str:
        return age_band(self.candidate.birth_year)


@dataclass
class Corpus:
    jobs: list[JobPosting]
    people: list[Person]


def cv_header(name: str, gender: str, birth_year: int | None, province: str | None,
              ethnicity: str, vietnamese: bool) -> str:  # fmt: skip
    if vietnamese:
        return (f"Họ và tên: {name}. Giới tính: {GENDER_WORD['vi'][gender]}. Năm sinh: "
                f"{birth_year}. Dân tộc: {ethnicity}. Quê quán: {province}.")  # fmt: skip
    return (f"Name: {name}. Gender: {GENDER_WORD['en'][gender]}. Year of birth: {birth_year}. "
            f"Ethnicity: {ethnicity}. Home province: {province}.")  # fmt: skip


def with_header(profile: CandidateProfileIn, name: str, gender: str, ethnicity: str,
                vietnamese: bool) -> CandidateProfileIn:  # fmt: skip
    header = cv_header(name, gender, profile.birth_year, profile.province, ethnicity, vietnamese)
    return profile.model_copy(update={"text": f"{header}\n{profile.text}", "name": name})


def build_corpus(service: MatcherService, *, jobs: int = 600, people: int = 240,
                 seed: int = 101, priority_share: float = 0.0) -> Corpus:  # fmt: skip
    """The labelled corpus, built with ``service``'s library (skills found verbatim).
    ``priority_share`` of the people are given one programme priority group (the audit's
    parity by priority group; drawn apart, so the rest of the corpus does not change)."""
    taxonomy = service.taxonomy
    generator = DemoGenerator(taxonomy, service.settings.project_data_dir, seed, service.programmes)
    rnd = random.Random(seed)
    priority_rnd = random.Random(seed + 1)
    groups = sorted(service.programmes.groups)
    persons = []
    for number in range(people):
        profile, origin = generator.labelled_profile(number)
        gender = rnd.choice(("male", "female"))
        ethnicity = rnd.choice(ETHNICITIES)
        vietnamese = not profile.text.split("]", 1)[-1].lstrip().startswith("Illustrative")
        profile = with_header(profile.model_copy(update={"consent_to_be_found": True}),
                              rnd.choice(NAMES[gender]), gender, ethnicity, vietnamese)  # fmt: skip
        if groups and priority_rnd.random() < priority_share:
            profile = profile.model_copy(update={"priority_groups": [priority_rnd.choice(groups)]})
        candidate = service.build_candidate(profile, thorough=False)
        persons.append(Person(candidate, origin.uri, gender, ethnicity, profile, vietnamese))
    by_group: dict[str, list[str]] = defaultdict(list)
    for uri, occupation in taxonomy.occupations.items():
        by_group[occupation.isco_group].append(uri)
    near = sorted({u for p in persons
                   for u in by_group[taxonomy.occupations[p.occupation].isco_group]})  # fmt: skip
    postings = []
    for _ in range(jobs):
        chosen = taxonomy.occupations[rnd.choice(near)] if rnd.random() < 0.5 else None
        postings.append(service.build_job(generator.posting(chosen), thorough=False))
    return Corpus(postings, persons)


def load_corpus(service: MatcherService, corpus: Corpus) -> None:
    """Store and index the corpus in ``service`` (a throw-away evaluation service)."""
    service.add_jobs(corpus.jobs)
    service.add_candidates([p.candidate for p in corpus.people])


# ---------------------------------------------------------------------- relevance
class Relevance:
    def __init__(self, service: MatcherService) -> None:
        self.taxonomy = service.taxonomy
        self.programmes = service.programmes
        self._eligible: dict[tuple[str, str], bool] = {}

    def grade(self, person: Person, job: JobPosting) -> int:
        occupations = self.taxonomy.occupations
        mine, theirs = occupations[person.occupation], occupations.get(job.occupation or "")
        if theirs is None:
            return 0
        if theirs.uri == mine.uri:
            grade = 3
        elif theirs.isco_group == mine.isco_group:
            grade = 2
        elif theirs.isco_group[:3] == mine.isco_group[:3]:
            grade = 1
        else:
            return 0
        candidate = person.candidate
        if job.country != "VN":
            if not candidate.willing_to_work_abroad or not self._eligible_for(candidate, job):
                return 0
        elif (not job.remote and job.province and candidate.province
              and fold(job.province) != fold(candidate.province)
              and not candidate.willing_to_relocate):  # fmt: skip
            grade -= 1
        if job.languages and not all(language_met(r, candidate.languages) for r in job.languages):
            grade -= 1
        return max(grade, 0)

    def _eligible_for(self, candidate: Candidate, job: JobPosting) -> bool:
        programme = self.programmes.get(job.programme or "")
        if programme is None:
            return True
        key = (candidate.id, programme.id)
        if key not in self._eligible:
            # relevant unless a declared fact rules the programme out: what is only left to
            # check (the medical examination) is what every applicant still does
            self._eligible[key] = check_eligibility(programme, candidate).status != "not_eligible"
        return self._eligible[key]


@dataclass
class Query:
    key: str
    side: str  # "candidate" (jobs for a person) or "employer" (people for a posting)
    items: list[str]
    rows: list[dict[str, float]]
    grades: list[float]
    #: grades of every relevant item in the corpus (recall and ideal DCG use them)
    relevant: list[float]
    groups: dict[str, str] = field(default_factory=dict)
    train: bool = True


def collect_queries(service: MatcherService, corpus: Corpus, *, lang: str = "vi",
                    employer_queries: int = 200) -> list[Query]:  # fmt: skip
    """Both sides' result sets with features and grades, from ``service`` (which holds the
    corpus)."""
    relevance = Relevance(service)
    queries = []
    people = {p.candidate.id: p for p in corpus.people}
    for person in corpus.people:
        all_grades = [relevance.grade(person, job) for job in corpus.jobs]
        jobs, pairs = service.job_pairs(person.candidate, lang=lang)  # type: ignore[arg-type]
        queries.append(Query(
            key=person.candidate.id, side="candidate", items=[j.id for j in jobs],
            rows=[match_features(s, o, sim) for s, o, sim in pairs],
            grades=[float(relevance.grade(person, job)) for job in jobs],
            relevant=[float(g) for g in all_grades if g > 0],
            groups={"gender": person.gender, "age": person.band},
            train=is_train(person.candidate.id),
        ))  # fmt: skip
    ordered = sorted(corpus.jobs, key=lambda j: hashlib.sha1(j.id.encode()).hexdigest())
    for job in ordered[:employer_queries]:
        all_grades = [relevance.grade(p, job) for p in corpus.people]
        if not any(all_grades):
            continue
        candidates, pairs = service.candidate_pairs(job, lang=lang)  # type: ignore[arg-type]
        queries.append(Query(
            key=job.id, side="employer", items=[c.id for c in candidates],
            rows=[match_features(s, o, sim) for s, o, sim in pairs],
            grades=[float(relevance.grade(people[c.id], job)) for c in candidates],
            relevant=[float(g) for g in all_grades if g > 0], train=is_train(job.id),
        ))  # fmt: skip
    return queries


#: How much each event says a posting suits a person: an invitation accepted is interest on
#: both sides; one sent, the employer's alone; one declined, none.
FEEDBACK_GRADES = {"hired": 3.0, "shortlisted": 2.0, "accepted": 2.0, "applied": 1.0,
                   "invited": 1.0, "rejected": 0.0, "declined": 0.0}  # fmt: skip


def feedback_queries(service: MatcherService, *, lang: str = "vi") -> list[Query]:
    """Result sets from real feedback: for each candidate with a positive event, the
    postings retrieved for them, graded by the strongest event (unlabelled ones 0)."""
    events: dict[str, dict[str, float]] = defaultdict(dict)
    for event in service.store.feedback():
        grade = FEEDBACK_GRADES.get(str(event["event"]))
        if grade is not None:
            mine = events[str(event["candidate_id"])]
            mine[str(event["job_id"])] = max(grade, mine.get(str(event["job_id"]), 0.0))
    queries = []
    for candidate_id, graded in events.items():
        if not any(graded.values()):
            continue
        found = service.store.get_candidates([candidate_id]).get(candidate_id)
        if found is None:
            continue
        jobs, pairs = service.job_pairs(found, lang=lang)  # type: ignore[arg-type]
        if not jobs:
            continue
        queries.append(Query(
            key=candidate_id, side="candidate", items=[j.id for j in jobs],
            rows=[match_features(s, o, sim) for s, o, sim in pairs],
            grades=[graded.get(j.id, 0.0) for j in jobs],
            relevant=[g for g in graded.values() if g > 0], train=True,
        ))  # fmt: skip
    return queries


# ---------------------------------------------------------------------- metrics
def ranked(query: Query, ranker: Ranker) -> list[int]:
    scores = ranker.score(query.rows)
    return sorted(range(len(query.rows)), key=lambda i: -scores[i])


def query_metrics(query: Query, order: Sequence[int]) -> dict[str, float]:
    items = [query.items[i] for i in order]
    relevant = {query.items[i] for i in order if query.grades[i] > 0}
    total = len(query.relevant)
    hits = [query.grades[i] > 0 for i in order]
    ap = average_precision(items, relevant) * len(relevant) / total if total else 0.0
    gains = {query.items[i]: 2 ** query.grades[i] - 1 for i in order if query.grades[i] > 0}
    return {
        "map": ap,
        "ndcg@10": ndcg_at_k(items, gains, 10, ideal=[2**g - 1 for g in query.relevant]),
        "recall@10": sum(hits[:10]) / min(10, total) if total else 0.0,
    }


def ranking_metrics(queries: Sequence[Query], ranker: Ranker, *, split: str = "test"
                    ) -> dict[str, float]:  # fmt: skip
    """MAP, nDCG@10, Recall@10 per side (``candidate.map``, ``employer.ndcg@10``, ...) and
    ``map``: the mean of both sides' MAP (the gate's metric)."""
    chosen = [
        q for q in queries if q.relevant and (split == "all" or q.train == (split == "train"))
    ]
    out: dict[str, float] = {}
    for side in ("candidate", "employer"):
        values = [query_metrics(q, ranked(q, ranker)) for q in chosen if q.side == side]
        for name in ("map", "ndcg@10", "recall@10"):
            out[f"{side}.{name}"] = float(np.mean([v[name] for v in values])) if values else 0.0
        out[f"{side}.queries"] = float(len(values))
    out["map"] = (out["candidate.map"] + out["employer.map"]) / 2
    return out


# ---------------------------------------------------------------------- fairness
def variant(person: Person, attribute: str) -> CandidateProfileIn:
    """The person's profile with one protected attribute changed (nothing else)."""
    profile = person.profile
    base = profile.model_copy(update={"text": profile.text.split("\n", 1)[1]})
    name, gender, ethnicity = profile.name or "", person.gender, person.ethnicity
    if attribute == "gender":
        gender = "female" if gender == "male" else "male"
        name = NAMES[gender][
            NAMES[person.gender].index(name) if name in NAMES[person.gender] else 0
        ]
    elif attribute == "name":
        others = [n for n in NAMES[gender] if n != name]
        name = others[len(name) % len(others)]
    elif attribute == "ethnicity":
        ethnicity = "H'Mông" if ethnicity != "H'Mông" else "Kinh"
    elif attribute == "province":
        base = base.model_copy(update={"province": "Cà Mau" if profile.province != "Cà Mau"
                                       else "Hà Giang"})  # fmt: skip
    elif attribute == "age":
        year = profile.birth_year or DEMO_YEAR - 40
        base = base.model_copy(
            update={"birth_year": year + 18 if DEMO_YEAR - year > 45 else year - 18}
        )
    return with_header(base, name, gender, ethnicity, person.vietnamese)


def _scope(attribute: str) -> Callable[[JobPosting], bool]:
    if attribute == "province":  # where the province is no requirement
        return lambda job: job.remote or job.country != "VN"
    if attribute == "age":  # only programme rules may use age
        return lambda job: job.programme is None
    return lambda job: True


def fairness_metrics(service: MatcherService, corpus: Corpus, queries: Sequence[Query],
                     ranker: Ranker, *, sample: int = 30, lang: str = "vi",
                     builder: MatcherService | None = None) -> dict[str, float]:  # fmt: skip
    """Counterfactual invariance and group parity (see the module docstring), as flat metrics
    named ``fairness.*``. ``builder`` builds the profile variants (default ``service``; the
    records do not depend on the encoder, so an evaluation service need not embed skills)."""
    builder = builder or service
    out: dict[str, float] = {}
    people = [p for p in corpus.people if not is_train(p.candidate.id)][:sample]
    for attribute in COUNTERFACTUALS:
        keep = _scope(attribute)
        overlaps, diffs = [], []
        for person in people:
            lists = []
            for profile in (person.profile, variant(person, attribute)):
                candidate = builder.build_candidate(profile, thorough=False)
                jobs, pairs = service.job_pairs(candidate, lang=lang)  # type: ignore[arg-type]
                rows = [match_features(s, o, sim) for s, o, sim in pairs]
                scores = ranker.score(rows)
                scored = sorted(((scores[i], job.id) for i, job in enumerate(jobs)
                                     if keep(job)), reverse=True)[:10]  # fmt: skip
                lists.append({job_id: score for score, job_id in scored})
            first, second = lists
            overlaps.append(rbo(list(first), list(second)))
            common = first.keys() & second.keys()
            diffs.append(float(np.mean([abs(first[j] - second[j]) for j in common]))
                             if common else 1.0)  # fmt: skip
        out[f"fairness.cf_rbo.{attribute}"] = float(np.mean(overlaps)) if overlaps else 1.0
        out[f"fairness.cf_score_diff.{attribute}"] = float(np.mean(diffs)) if diffs else 0.0
    out |= parity_metrics(corpus, queries, ranker)
    return out


def parity_metrics(corpus: Corpus, queries: Sequence[Query], ranker: Ranker) -> dict[str, float]:
    """MAP of each group's own (held-out) recommendations, and the exposure each group's
    members get in employers' top 10 (1/log2(rank + 1) per appearance, averaged per member)."""
    out: dict[str, float] = {}
    exposure: dict[str, float] = defaultdict(float)
    for query in queries:
        if query.side == "employer":
            for rank, i in enumerate(ranked(query, ranker)[:10], start=1):
                exposure[query.items[i]] += 1 / np.log2(rank + 1)
    for attribute in ("gender", "age"):
        maps: dict[str, list[float]] = defaultdict(list)
        for query in queries:
            if query.side == "candidate" and query.relevant and not query.train:
                maps[query.groups[attribute]].append(
                    query_metrics(query, ranked(query, ranker))["map"]
                )
        members: dict[str, list[float]] = defaultdict(list)
        for person in corpus.people:
            group = person.gender if attribute == "gender" else person.band
            members[group].append(exposure.get(person.candidate.id, 0.0))
        group_map = {g: float(np.mean(v)) for g, v in maps.items() if v}
        group_exposure = {g: float(np.mean(v)) for g, v in members.items() if v}
        for group, value in group_map.items():
            out[f"fairness.map.{attribute}.{group}"] = value
        for group, value in group_exposure.items():
            out[f"fairness.exposure.{attribute}.{group}"] = value
        if group_map:
            out[f"fairness.map_gap.{attribute}"] = max(group_map.values()) - min(group_map.values())
        if group_exposure and max(group_exposure.values()) > 0:
            out[f"fairness.exposure_ratio.{attribute}"] = min(group_exposure.values()) / max(
                group_exposure.values()
            )
    return out
