"""Career moves: where a former position or occupation leads, and the skills worth learning."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from matcher.careers.skill_gaps import rank_gaps
from matcher.errors import NotFoundError
from matcher.programmes.eligibility import education_level
from matcher.reference.positions import Position
from matcher.reference.taxonomy import Taxonomy
from matcher.schemas import (
    Candidate,
    JobFilters,
    Lang,
    OriginInfo,
    SkillGaps,
    Transitions,
    check_k,
)
from matcher.search.catalog import candidate_text
from matcher.search.filters import job_filter
from matcher.services.analysis import validated
from matcher.services.places import settle_filters
from matcher.services.runtime import Runtime

#: ISCO-08 skill level a qualification reaches: a rank held with a vocational diploma
#: (trung cấp) does not open moves that need a degree, whatever the rank's ISCO group says.
ISCO_LEVEL_OF_EDUCATION = {"none": 1, "lower-secondary": 2, "upper-secondary": 2,
                           "vocational": 2, "college": 3, "bachelor": 4}  # fmt: skip
#: Open postings, closest to the profile, whose skills a skill-gap analysis counts.
SKILL_GAP_POOL = 100
#: Transition targets whose postings join a public-sector candidate's recommendations.
TRANSITION_TARGETS = 8
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def resolve_origin(rt: Runtime, text_or_uri: str, *, ids_only: bool = False) -> OriginInfo:
    """An ESCO occupation URI or UUID as it is; free text through the public-sector
    position map first, then the encoder (unless ``ids_only``)."""
    [text] = validated(rt, [text_or_uri])
    taxonomy = rt.reference.taxonomy
    occupation = taxonomy.find_occupation(text)
    if occupation is not None and text in (occupation.uri, occupation.uri.rsplit("/", 1)[-1]):
        return _origin([occupation.uri], "uri", taxonomy)
    if ids_only or text.startswith(("http://", "https://")) or _UUID.fullmatch(text):
        raise NotFoundError(
            f"occupation {text!r} is not in ESCO v1.1.1; use an occupation URI or its UUID "
            "(match a job title to occupations to find one), or describe the position in words"
        )
    found = rt.reference.positions.resolve(text)
    if found is not None:
        return position_origin(rt, found.position)
    best = rt.parts.models.occupations.match(text, k=1)[0]
    return _origin([best.uri], "encoder", taxonomy)


def position_origin(rt: Runtime, position: Position) -> OriginInfo:
    origin = _origin(list(position.occupation_uris), "position", rt.reference.taxonomy)
    reached = ISCO_LEVEL_OF_EDUCATION.get(education_level(position.education) or "", 4)
    level = min(position.skill_level, reached)
    return origin.model_copy(
        update={"label": position.name_en, "label_vi": position.name_vi,
                "position_id": position.id, "skill_level": level}
    )  # fmt: skip


def open_postings_by_occupation(rt: Runtime) -> dict[str, int]:
    """How many postings in the index are for each occupation (market demand)."""
    catalog = rt.parts.catalog
    counts: dict[str, int] = {}
    with catalog.lock:
        occupations = catalog.jobs.values("occupation")  # one pass (one query in PostgreSQL)
    for uri in occupations.values():
        if uri:
            counts[uri] = counts.get(uri, 0) + 1
    return counts


def transitions(
    rt: Runtime, text_or_uri: str, *, k: int = 10, lang: Lang = "vi", ids_only: bool = False
) -> Transitions:
    """Realistic target occupations from a former position or occupation."""
    check_k(k)
    origin = resolve_origin(rt, text_or_uri, ids_only=ids_only)
    demand = open_postings_by_occupation(rt)
    ranker = rt.parts.models.transitions
    ranked = ranker.rank(origin, k, lang=lang, demand=demand or None)
    return Transitions(origin=origin, transitions=ranked)


@dataclass(frozen=True)
class CareerIntent:
    """Where a candidate's career may go: transition targets (uri -> (score relative to the
    best, name)), the ISCO-08 sub-major groups of the field they come from, and whether they
    want to leave it."""

    targets: dict[str, tuple[float, str]] = field(default_factory=dict)
    fields: frozenset[str] = frozenset()
    change_field: bool = False


def career_intent(rt: Runtime, candidate: Candidate, lang: Lang, *, change_field: bool
                  ) -> CareerIntent:  # fmt: skip
    """A public-sector former position gets its best transition targets. Someone who wants
    to leave their field gets them from any former position (read by the encoder when it is
    not in the public-sector map), and the field they come from, which ranks lower."""
    former = (candidate.former_position or "").strip()
    if not former:
        return CareerIntent(change_field=change_field)
    found = rt.reference.positions.resolve(former)
    if found is None and not change_field:
        return CareerIntent()
    models = rt.parts.models  # one snapshot across a reload: the ranker and its cache
    try:
        origin = position_origin(rt, found.position) if found else resolve_origin(rt, former)
    except NotFoundError:  # a URI that is not ESCO's: no origin to move from
        return CareerIntent(change_field=change_field)
    key = (found.position.id if found else "|".join(origin.uris), lang, change_field)
    targets = models.targets.get(key)
    occupations = rt.reference.taxonomy.occupations
    fields = frozenset(
        occupations[uri].isco_group[:2]
        for uri in origin.uris
        if uri in occupations and occupations[uri].isco_group
    )
    if targets is None:  # a pure function of the origin and the model
        if change_field:  # a move out of the field, not within it
            wider = models.transitions.rank(origin, TRANSITION_TARGETS * 8, lang=lang)
            targets = [t for t in wider if occupations[t.uri].isco_group[:2] not in fields]
            targets = targets[:TRANSITION_TARGETS]
        else:
            targets = models.transitions.rank(origin, TRANSITION_TARGETS, lang=lang)
        models.targets.put(key, targets)
    best = max((t.score for t in targets), default=0.0) or 1.0
    return CareerIntent(
        targets={
            t.uri: (round(t.score / best, 4), (t.label_vi or t.label) if lang == "vi" else t.label)
            for t in targets
        },
        fields=fields if change_field else frozenset(),
        change_field=change_field,
    )


def skill_gaps(
    rt: Runtime,
    candidate: Candidate,
    *,
    k: int = 10,
    filters: JobFilters | None = None,
    lang: Lang = "vi",
    pool: int | None = None,
) -> SkillGaps:
    """The candidate's missing skills, ranked by how many open postings (matching
    ``filters``, among the ``pool`` closest to the profile) learning each would unlock or
    improve."""
    check_k(k)
    filters = settle_filters(rt, filters)
    catalog = rt.parts.catalog
    query = catalog.encoder.encode([candidate_text(candidate)], kind="query")
    where = job_filter(filters or JobFilters())
    with catalog.lock:
        [hits] = catalog.jobs.search(query, pool or SKILL_GAP_POOL, where=where)
    jobs = rt.store.get_jobs([hit.id for hit in hits])
    today = dt.date.today()
    found = [jobs[hit.id] for hit in hits if hit.id in jobs]
    open_jobs = [job for job in found if job.deadline is None or job.deadline >= today]
    place = (filters.province if filters else None) or None
    gaps = rank_gaps(
        frozenset(s.uri for s in candidate.skills_found), open_jobs, rt.reference.taxonomy,
        rt.reference.training_routes, k=k, lang=lang, place=place,
    )  # fmt: skip
    return SkillGaps(postings_considered=len(open_jobs), gaps=gaps)


def _origin(uris: list[str], via: str, taxonomy: Taxonomy) -> OriginInfo:
    first = taxonomy.occupations[uris[0]]
    return OriginInfo(
        uris=uris, label=first.label, label_vi=first.vi_labels[0] if first.vi_labels else None,
        via=via, skill_level=first.skill_level,
    )  # fmt: skip
