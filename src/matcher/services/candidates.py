"""Profiles: built with their ESCO skills, stored and indexed together, opened only with the
owner's token, and erased with their vectors and feedback."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from matcher.careers.abroad import abroad_languages, certificate_skills
from matcher.errors import InvalidInputError
from matcher.programmes.eligibility import check_eligibility
from matcher.schemas import Candidate, CandidateProfileIn, Readiness, SkillRef
from matcher.services.access import own_candidate
from matcher.services.analysis import record_skills
from matcher.services.places import settle
from matcher.services.runtime import Runtime
from matcher.store import Remember, now
from matcher.text import without_personal_fields

EXTRACTED_PROFILE_SKILLS = 25
#: Skills looked for in the tasks of each overseas contract.
EXTRACTED_ABROAD_SKILLS = 10


def build_candidate(
    rt: Runtime,
    data: CandidateProfileIn,
    *,
    candidate_id: str | None = None,
    created_at: dt.datetime | None = None,
    thorough: bool = True,
    per_request: bool = False,
) -> Candidate:
    """A profile with its ESCO skills: declared ones plus those found in the text. With
    ``thorough=False`` only verbatim labels are looked for in the text (no model call);
    ``per_request``: an inline profile, built for one answer and never stored."""
    groups = rt.reference.programmes.groups
    unknown = [g for g in data.priority_groups if g not in groups]
    if unknown:
        raise InvalidInputError(
            f"unknown priority group {', '.join(map(repr, unknown))}; use one of "
            f"{', '.join(sorted(groups))}"
        )
    place = settle(rt, data.province, data.commune)
    interested, readiness = _interest(rt, data)
    room = rt.settings.max_text_chars - len(data.former_position or "") - 1
    # skills are looked for in what the person did, not in a CV header's name or birth year
    text = "\n".join(part for part in (data.former_position or "",
                                        without_personal_fields(data.text)[:room])
                     if part.strip())  # fmt: skip
    if per_request and rt.settings.inline_skills == "verbatim":
        thorough = False
    skills = record_skills(rt, data.skills, text, found_essential=True,
                           k=EXTRACTED_PROFILE_SKILLS, thorough=thorough,
                           per_request=per_request)  # fmt: skip
    skills = _with_abroad(skills, _skills_abroad(rt, data, thorough=thorough,
                                                 per_request=per_request))  # fmt: skip
    stamp = now()
    return Candidate(
        **data.model_dump(include=set(CandidateProfileIn.model_fields) - {"province", "commune"}),
        province=place.province,
        commune=place.commune,
        former_province=place.former_province,
        id=candidate_id or str(uuid.uuid4()),
        skills_found=skills,
        languages_abroad=abroad_languages(data.overseas_contracts, rt.reference.certificates),
        interested_in=interested,
        readiness=readiness,
        created_at=created_at or stamp,
        updated_at=stamp,
    )


def _interest(rt: Runtime, data: CandidateProfileIn) -> tuple[list[str], Readiness | None]:
    """The programmes the person is interested in (named, or those of the countries they
    prefer when they want to work abroad) and how ready they are for the best of them."""
    catalog = rt.reference.programmes
    unknown = [p for p in data.programmes_of_interest if catalog.get(p) is None]
    if unknown:
        raise InvalidInputError(
            f"programmes_of_interest: unknown programme {', '.join(map(repr, unknown))}; use "
            "ids from GET /v1/programmes"
        )
    wanted = {c.upper() for c in data.preferred_countries}
    ids = list(dict.fromkeys(data.programmes_of_interest)) or (
        [p.id for p in catalog.programmes if p.destination in wanted]
        if data.willing_to_work_abroad else []
    )  # fmt: skip
    if not ids:
        return [], None
    statuses = {check_eligibility(catalog.get(p), data).status for p in ids}  # type: ignore[arg-type]
    readiness: Readiness = ("ready" if "eligible" in statuses
                            else "to_check" if "eligible_if" in statuses else "not_yet")  # fmt: skip
    return ids, readiness


def _skills_abroad(
    rt: Runtime, data: CandidateProfileIn, *, thorough: bool, per_request: bool
) -> list[SkillRef]:
    """The skills of each overseas contract (found in its tasks, shown by its certificates),
    marked with the contract they were gained in; its programme must be one the service
    knows, in the country of the contract."""
    catalog = rt.reference.programmes
    found: list[SkillRef] = []
    for index, contract in enumerate(data.overseas_contracts):
        if contract.programme is not None:
            programme = catalog.get(contract.programme)
            if programme is None:
                raise InvalidInputError(
                    f"overseas_contracts[{index}].programme: unknown programme "
                    f"{contract.programme!r}; use an id from GET /v1/programmes, or null for a "
                    "contract outside the state programmes"
                )
            if programme.destination != contract.country:
                raise InvalidInputError(
                    f"overseas_contracts[{index}]: programme {programme.id!r} is in "
                    f"{programme.destination}, not {contract.country}"
                )
        tasks = record_skills(rt, [], contract.tasks, found_essential=True,
                              k=EXTRACTED_ABROAD_SKILLS, thorough=thorough,
                              per_request=per_request)  # fmt: skip
        found += [skill.model_copy(update={"source": "abroad", "abroad": index}) for skill in tasks]
        found += certificate_skills(contract, index, rt.reference.certificates,
                                    rt.reference.taxonomy)  # fmt: skip
    return found


def _with_abroad(skills: list[SkillRef], abroad: list[SkillRef]) -> list[SkillRef]:
    """A skill found both in the text and abroad is kept once, marked as gained abroad (a
    declared one stays declared); each skill gained abroad is listed once, first contract
    first."""
    gained: dict[str, SkillRef] = {}
    for skill in abroad:
        gained.setdefault(skill.uri, skill)
    kept = [gained.pop(s.uri) if s.uri in gained and s.source == "extracted" else s for s in skills]
    held = {s.uri for s in kept}
    return kept + [s for s in gained.values() if s.uri not in held]


def create_candidate(
    rt: Runtime,
    data: CandidateProfileIn,
    *,
    remember: Callable[[Candidate], Remember | None] | None = None,
) -> tuple[Candidate, str]:
    """Store a profile, index it, and return it with the owner's token. ``remember``: as
    for :func:`matcher.services.jobs.create_jobs` (the answer is rendered with the new
    token)."""  # fmt: skip
    candidate = build_candidate(rt, data)
    kept = remember(candidate) if remember else None
    tokens = rt.write(
        [candidate], lambda people: [rt.store.add_candidate(people[0], remember=kept)]
    )
    return candidate, tokens[0]


def get_candidate(rt: Runtime, candidate_id: str, token: str | None) -> Candidate:
    return own_candidate(rt, candidate_id, token)


def replace_candidate(
    rt: Runtime, candidate_id: str, token: str | None, data: CandidateProfileIn
) -> Candidate:
    current = own_candidate(rt, candidate_id, token)
    candidate = build_candidate(rt, data, candidate_id=candidate_id, created_at=current.created_at)
    rt.write([candidate], lambda people: rt.store.replace_candidate(people[0]))
    return candidate


def delete_candidate(rt: Runtime, candidate_id: str, token: str | None) -> None:
    """Erase the profile, its feedback links and its vectors."""
    own_candidate(rt, candidate_id, token)
    with rt.writes:
        rt.store.delete_candidate(candidate_id)
        rt.parts.catalog.drop_candidate(candidate_id)


def add_built(rt: Runtime, people: list[Candidate]) -> list[str]:
    """Store and index profiles already built (the demo set, evaluation corpora); returns
    each owner's token."""
    return rt.write(people, lambda records: [rt.store.add_candidate(c) for c in records])  # type: ignore[no-any-return]
