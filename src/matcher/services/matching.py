"""Two-way matching: jobs for a candidate and consenting candidates for a posting, retrieved
from the indexes, scored by the ranker and explained in the reader's language.

A candidate's priority group (poor or near-poor household, ethnic minority, ...) is vulnerable
status: it never reaches an employer, in no feature, reason or note. The boost still applies;
the employer is told once, generally, that the programme's priority rules are part of the
ranking."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

from matcher.careers.abroad import all_languages, stints
from matcher.nlp.intent import wants_change
from matcher.nlp.skills import shown_ref
from matcher.ranking.features import Opening, Seeker, explain, match_features
from matcher.reference.taxonomy import Taxonomy
from matcher.schemas import (
    Candidate,
    CandidateFilters,
    CandidateRanking,
    CandidateView,
    Explanation,
    HeldBack,
    JobFilters,
    JobPosting,
    JobRecommendations,
    Lang,
    OverseasContract,
    OverseasWork,
    RankedCandidate,
    RankedJob,
    SkillRef,
    check_k,
    years_abroad,
)
from matcher.search.catalog import candidate_text, job_text
from matcher.search.columns import everything
from matcher.search.filters import candidate_filter, in_occupations, job_filter, nearby
from matcher.search.index import Hit
from matcher.services import programmes, screening
from matcher.services.access import owned_job
from matcher.services.careers import career_intent
from matcher.services.places import settle_filters
from matcher.services.runtime import Parts, Reference, Runtime
from matcher.store import Principal
from matcher.text import fold

#: How many postings/profiles are retrieved per result before re-ranking.
RETRIEVE_FACTOR = 10
MIN_RETRIEVE = 100
#: Postings of a public-sector candidate's transition targets retrieved on top.
TRANSITION_JOBS = 30
#: Postings in the province of someone who won't relocate (or remote) retrieved on top.
NEARBY_JOBS = 30
#: Features an employer never sees: ``priority`` says the person is in a vulnerable group.
EMPLOYER_HIDDEN_FEATURES = frozenset({"priority"})
PRIORITY_RULES_NOTE: dict[str, str] = {
    "vi": "Thứ tự xếp hạng có áp dụng quy định ưu tiên của chương trình (không cho biết ứng viên "
    "nào được ưu tiên).",
    "en": "The ranking applies the programme's priority rules (it does not say which candidate "
    "they apply to).",
}
PROGRAMME_CHECKS_NOTE: dict[str, str] = {
    "vi": "Chương trình tự tổ chức các bước kiểm tra của mình (khám sức khỏe, thi tiếng, kiểm tra "
    "tay nghề) khi tuyển chọn.",
    "en": "The programme holds its own checks (medical examination, language test, skills test) "
    "at selection.",
}
Pair = tuple[Seeker, Opening, float]


def recommend_jobs(
    rt: Runtime,
    candidate: Candidate,
    *,
    k: int = 10,
    filters: JobFilters | None = None,
    lang: Lang = "vi",
) -> JobRecommendations:
    """Jobs for a candidate: FAISS retrieval, then re-ranking with features, explained; and
    the programme postings held back because a declared fact rules the programme out.

    A candidate whose former position is in the public-sector map also gets postings of
    that position's best transition targets retrieved, and a ``transition`` feature."""
    check_k(k)
    parts = rt.parts
    found = retrieve_jobs(rt, candidate, filters=filters, lang=lang, parts=parts,
                          retrieve=max(k * RETRIEVE_FACTOR, MIN_RETRIEVE))  # fmt: skip
    jobs = found.jobs
    results = [
        RankedJob(job=jobs[i], score=score, features=features, explanation=explanation,
                  programme=programmes.summary(rt, jobs[i].programme, lang),
                  eligibility=programmes.posting_eligibility(rt, jobs[i].programme, candidate,
                                                             lang))
        for i, score, features, explanation in rank(parts, found.pairs, k, lang)
    ]  # fmt: skip
    return JobRecommendations(results=results, held_back=found.held_back)


@dataclass(frozen=True)
class JobRetrieval:
    """What retrieval found for a candidate: the postings shown, with their ranker inputs, and
    the programme postings held back (with why)."""

    jobs: list[JobPosting]
    pairs: list[Pair]
    held_back: list[HeldBack]


def job_pairs(
    rt: Runtime,
    candidate: Candidate,
    *,
    filters: JobFilters | None = None,
    lang: Lang = "vi",
    retrieve: int | None = None,
    parts: Parts | None = None,
) -> tuple[list[JobPosting], list[Pair]]:
    """The postings retrieved for a candidate, each with the (seeker, opening, similarity) the
    ranker reads. Training and evaluation compute their features."""
    found = retrieve_jobs(rt, candidate, filters=filters, lang=lang, retrieve=retrieve,
                          parts=parts)  # fmt: skip
    return found.jobs, found.pairs


def retrieve_jobs(
    rt: Runtime,
    candidate: Candidate,
    *,
    filters: JobFilters | None = None,
    lang: Lang = "vi",
    retrieve: int | None = None,
    parts: Parts | None = None,
) -> JobRetrieval:
    """The postings retrieved for a candidate. A programme posting is held back only when a
    fact the candidate declared rules the programme out (their age, a lower test score, a
    past illegal stay); what is only left to check (the medical examination) never hides it."""
    filters = settle_filters(rt, filters)
    catalog = (parts or rt.parts).catalog  # one snapshot: a reload swaps encoder and index
    taxonomy = rt.reference.taxonomy
    query = catalog.encoder.encode([candidate_text(candidate)], kind="query")
    keep = job_filter(filters) if filters else everything()
    intent = career_intent(rt, candidate, lang, change_field=wants_to_change(candidate))
    seeker = seeker_of(candidate, rt.reference, intent.targets, former_fields=intent.fields,
                       change_field=intent.change_field)  # fmt: skip
    home = fold(candidate.province or "")
    with catalog.lock:
        [hits] = catalog.jobs.search(query, retrieve or MIN_RETRIEVE, where=keep)
        if seeker.transitions:
            in_targets = in_occupations(seeker.transitions) & keep
            hits = _more(hits, catalog.jobs.search(query, TRANSITION_JOBS, where=in_targets))
        if home and not candidate.willing_to_relocate:
            here = nearby(home) & keep
            hits = _more(hits, catalog.jobs.search(query, NEARBY_JOBS, where=here))
    jobs = rt.store.get_jobs([hit.id for hit in hits])
    excluded, boosted = programmes.programme_fit(
        rt, candidate, {job.programme for job in jobs.values() if job.programme}, lang
    )
    found = [(jobs[hit.id], hit.score) for hit in hits if hit.id in jobs]  # gone: never returned
    held = Counter(job.programme for job, _ in found if job.programme in excluded)
    found = [(job, score) for job, score in found if job.programme not in excluded]
    pairs = [
        (replace(seeker, priority=programmes.group_names(rt, boosted.get(job.programme or "", []),
                                                         lang)),
         opening_of(job, taxonomy), score)
        for job, score in found
    ]  # fmt: skip
    return JobRetrieval([job for job, _ in found], pairs,
                        programmes.held_back(rt, excluded, held, lang))  # fmt: skip


def _more(hits: list[Hit], extra: list[list[Hit]]) -> list[Hit]:
    seen = {hit.id for hit in hits}
    return hits + [hit for hit in extra[0] if hit.id not in seen]


def wants_to_change(candidate: Candidate) -> bool:
    """The person ticked "change field", or said so in their text (unless they unticked it)."""
    if candidate.change_field is not None:
        return candidate.change_field
    return wants_change(candidate.text)


def rank_candidates(
    rt: Runtime,
    job_id: str,
    principal: Principal,
    *,
    k: int = 10,
    lang: Lang = "vi",
    filters: CandidateFilters | None = None,
) -> CandidateRanking:
    """Consenting candidates for an employer's own posting; no names or contacts. For a
    programme posting, only candidates no declared fact rules out, with the priority boost;
    what a candidate still has to check is theirs alone: the employer is told only that the
    programme's own checks apply."""
    check_k(k)
    job = owned_job(rt, job_id, principal)
    screening.require_visible(rt, job)
    parts = rt.parts
    candidates, pairs = candidate_pairs(
        rt, job, lang=lang, retrieve=max(k * RETRIEVE_FACTOR, MIN_RETRIEVE), parts=parts,
        filters=filters,
    )  # fmt: skip
    ranked = rank(parts, pairs, k, lang, employer_view=True)
    rt.store.audit(principal.actor, "candidate_search", job_id, len(ranked))
    programme = rt.reference.programmes.get(job.programme) if job.programme else None
    notes = [PROGRAMME_CHECKS_NOTE[lang]] if programme else []
    if programme and programme.support.priority_groups:
        notes.append(PRIORITY_RULES_NOTE[lang])
    return CandidateRanking(
        results=[
            RankedCandidate(candidate=candidate_view(candidates[i]), score=score,
                            features=features, explanation=explanation)
            for i, score, features, explanation in ranked
        ],
        notes=notes,
    )  # fmt: skip


def candidate_pairs(
    rt: Runtime,
    job: JobPosting,
    *,
    lang: Lang = "vi",
    retrieve: int | None = None,
    parts: Parts | None = None,
    filters: CandidateFilters | None = None,
) -> tuple[list[Candidate], list[Pair]]:
    """The consenting candidates retrieved for a posting (for a programme posting, those who
    want to work abroad and whom no declared fact rules out), each with the (seeker, opening,
    similarity) the ranker reads; ``filters``: an employer's (language and level, country
    worked in, years abroad), applied in the index."""
    programme = rt.reference.programmes.get(job.programme) if job.programme else None
    catalog = (parts or rt.parts).catalog
    query = catalog.encoder.encode([job_text(job)], kind="query")
    with catalog.lock:
        [hits] = catalog.candidates.search(
            query, retrieve or MIN_RETRIEVE,
            where=candidate_filter(filters or CandidateFilters()),
        )  # fmt: skip
    candidates = rt.store.get_candidates([hit.id for hit in hits])
    taxonomy = rt.reference.taxonomy
    opening = opening_of(job, taxonomy)
    found = [
        (candidates[hit.id], hit.score)
        for hit in hits
        if hit.id in candidates and candidates[hit.id].consent_to_be_found
    ]
    if programme is not None:  # people who want to go, eligible or eligible_if (what is left
        # to check stays theirs: the employer sees only that the programme's checks apply)
        found = [(c, score) for c, score in found
                 if c.willing_to_work_abroad and not programmes.ruled_out(rt, programme, c)]  # fmt: skip
    supported = set(programme.support.priority_groups) if programme else set()
    pairs = [
        (replace(seeker_of(c, rt.reference), priority=programmes.group_names(
            rt, [g for g in c.priority_groups if g in supported], lang)), opening, score)
        for c, score in found
    ]  # fmt: skip
    return [c for c, _ in found], pairs


def rank(
    parts: Parts, pairs: list[Pair], k: int, lang: Lang, *, employer_view: bool = False
) -> list[tuple[int, float, dict[str, float], Explanation]]:
    """Score (seeker, opening, similarity) pairs with the ranker and explain the top ``k``:
    ``(position in pairs, score, features, explanation)``, best first. ``employer_view``:
    the features and reasons leave out the priority group (vulnerable status)."""
    rows = [match_features(seeker, opening, similarity) for seeker, opening, similarity in pairs]
    scores = parts.ranker.score(rows)
    best = sorted(range(len(rows)), key=lambda i: -scores[i])[:k]
    hidden = EMPLOYER_HIDDEN_FEATURES if employer_view else frozenset()
    return [
        (
            i,
            round(scores[i], 4),
            {name: round(value, 4) for name, value in rows[i].items() if name not in hidden},
            explain(replace(pairs[i][0], priority=()) if employer_view else pairs[i][0],
                    pairs[i][1], rows[i], lang),
        )
        for i in best
    ]  # fmt: skip


def seeker_of(
    candidate: Candidate,
    reference: Reference,
    transitions: Mapping[str, tuple[float, str]] | None = None,
    *,
    former_fields: frozenset[str] = frozenset(),
    change_field: bool = False,
) -> Seeker:
    """What matching reads of a profile. A posting's skill is also covered by a skill one step
    away in ESCO's hierarchy, or one with the same reviewed Vietnamese name. What a returning
    worker brought back counts: the languages reached abroad, the skills gained there, and
    (when no experience is declared) the years abroad."""
    taxonomy = reference.taxonomy
    book = reference.certificates
    schemes = reference.programmes.schemes
    years = candidate.years_experience
    if years is None:
        years = years_abroad(candidate.overseas_contracts) or None
    held = {s.uri: s for s in candidate.skills_found}
    near: dict[str, tuple[SkillRef, str]] = {}
    for uri, ref in held.items():
        for other, relation in taxonomy.related_skills(uri):
            if other not in held and other not in near:
                near[other] = (shown_ref(ref, taxonomy), relation)
    return Seeker(
        transitions=transitions or {},
        origin=candidate.former_position if transitions else None,
        skills=frozenset(held),
        near=near,
        languages=tuple(all_languages(candidate)),
        province=candidate.province,
        willing_to_relocate=candidate.willing_to_relocate,
        willing_to_work_abroad=candidate.willing_to_work_abroad,
        preferred_countries=tuple(candidate.preferred_countries),
        years_experience=years,
        change_field=change_field,
        former_fields=former_fields,
        abroad=stints(candidate, book, schemes),
    )


def opening_of(job: JobPosting, taxonomy: Taxonomy) -> Opening:
    """What matching reads of a posting, with the skill names a reader should see now."""
    skills = tuple(shown_ref(skill, taxonomy) for skill in job.skills)
    uris = {skill.uri for skill in skills}
    related = frozenset(
        (skill.uri, other)
        for skill in skills
        for other, relation in taxonomy.related_skills(skill.uri)
        if other in uris and relation != "synonym"
    )
    occupation = taxonomy.occupations.get(job.occupation or "")
    return Opening(
        skills=skills,
        languages=tuple(job.languages),
        province=job.province,
        country=job.country,
        remote=job.remote,
        min_experience_years=job.min_experience_years,
        occupation=job.occupation,
        field=occupation.isco_group[:2] if occupation and occupation.isco_group else None,
        related=related,
    )


def candidate_view(candidate: Candidate) -> CandidateView:
    """What an employer may see: no name, no contact, no free text, no priority group."""
    return CandidateView(
        id=candidate.id,
        former_position=candidate.former_position,
        sector=candidate.sector,
        years_experience=candidate.years_experience,
        education=candidate.education,
        languages=candidate.languages,
        province=candidate.province,
        willing_to_relocate=candidate.willing_to_relocate,
        willing_to_work_abroad=candidate.willing_to_work_abroad,
        skills=candidate.skills_found,
        overseas=[_overseas_work(c) for c in candidate.overseas_contracts],
    )


def _overseas_work(contract: OverseasContract) -> OverseasWork:
    """A past contract as an employer sees it: no free text, no dates but the return."""
    shown = contract.model_dump(exclude={"tasks", "start", "end"})
    return OverseasWork(**shown, years=contract.years)
