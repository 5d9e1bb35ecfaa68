"""Postings: built with their ESCO occupation and skills, stored and indexed together, and
changed only by their employer (or the admin)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from matcher.errors import ConflictError, InvalidInputError
from matcher.ingest import parse_job_rows
from matcher.schemas import JobPosting, JobPostingIn
from matcher.services import programmes, screening
from matcher.services.access import employer_of, owned_job
from matcher.services.analysis import extract_ahead, record_skills
from matcher.services.places import settle
from matcher.services.runtime import Runtime
from matcher.store import Principal, Remember, now

__all__ = ["build_job", "create_jobs", "delete_job", "get_job", "list_jobs", "parse_job_rows",
           "replace_job"]  # fmt: skip

#: Imports up to this many rows look for skills in descriptions with the model; larger ones
#: verbatim only, so a 1,000-row upload takes seconds, not minutes.
THOROUGH_IMPORT_ROWS = 50
EXTRACTED_JOB_SKILLS = 12


def build_job(
    rt: Runtime,
    data: JobPostingIn,
    *,
    job_id: str | None = None,
    employer_id: str | None = None,
    created_at: dt.datetime | None = None,
    thorough: bool = True,
    occupation: str | None = None,
) -> JobPosting:
    """A posting with its ESCO occupation (given, else the best match for the title) and
    its ESCO skills: the required ones (essential) and those found in the description
    (optional). With ``thorough=False`` only verbatim labels are looked for in the
    description (no model call per phrase). ``occupation``: the title's match, when the
    caller has already computed it for many postings at once."""
    place = settle(rt, data.province) if data.country == "VN" else None
    if data.occupation:
        given = rt.reference.taxonomy.find_occupation(data.occupation)
        if given is None or data.occupation not in (given.uri, given.uri.rsplit("/", 1)[-1]):
            raise InvalidInputError(
                f"occupation {data.occupation!r} is not an ESCO occupation URI or UUID; "
                "leave it out to have it found from the title"
            )
        occupation = given.uri
    elif occupation is None:
        occupation = rt.parts.models.occupations.match(data.title, k=1)[0].uri
    text = _skills_text(rt, data)
    skills = record_skills(rt, data.required_skills, text, found_essential=False,
                           k=EXTRACTED_JOB_SKILLS, thorough=thorough)  # fmt: skip
    stamp = now()
    return JobPosting(
        **data.model_dump(include=set(JobPostingIn.model_fields) - {"occupation", "province"}),
        province=place.province if place else data.province,
        former_province=place.former_province if place else None,
        occupation=occupation,
        id=job_id or str(uuid.uuid4()),
        employer_id=employer_id,
        skills=skills,
        created_at=created_at or stamp,
        updated_at=stamp,
    )


def _skills_text(rt: Runtime, data: JobPostingIn) -> str:
    """What skills are looked for in: the title on top of a description that may be as long
    as the text limit."""
    room = rt.settings.max_text_chars - len(data.title) - 1
    return f"{data.title}\n{data.description[:room]}" if data.description.strip() else ""


def create_jobs(
    rt: Runtime,
    items: list[JobPostingIn],
    principal: Principal,
    *,
    remember: Callable[[list[JobPosting]], Remember | None] | None = None,
) -> list[JobPosting]:
    """Store postings (all or none), then index them. ``remember``: the idempotency key and
    the answer to keep with the postings, in the same transaction (see
    :mod:`matcher.idempotency`)."""  # fmt: skip
    employer_id = employer_of(principal)
    for item in items:
        programmes.check_programme_tag(rt, item.programme, principal)
    thorough = len(items) <= THOROUGH_IMPORT_ROWS
    unknown = [i for i, item in enumerate(items) if not item.occupation]
    found = rt.parts.models.occupations.match_many([items[i].title for i in unknown], k=1)
    occupations = {i: matches[0].uri for i, matches in zip(unknown, found, strict=True)}
    if thorough and len(items) > 1:  # the skills of every description in batched passes
        extract_ahead(rt, [_skills_text(rt, item) for item in items], k=EXTRACTED_JOB_SKILLS)
    jobs = [
        build_job(rt, item, employer_id=employer_id, thorough=thorough,
                  occupation=occupations.get(i))
        for i, item in enumerate(items)
    ]  # fmt: skip
    jobs, reviews = screening.screened(rt, jobs, principal)
    kept = remember(jobs) if remember else None
    rt.write(jobs, lambda records: rt.store.add_jobs(records, remember=kept, reviews=reviews),
             hidden=screening.hidden_ids(reviews))  # fmt: skip
    return jobs


def get_job(rt: Runtime, job_id: str, principal: Principal | None = None) -> JobPosting:
    """A posting; one under review exists only for its employer and the admin."""
    return screening.visible_job(rt, job_id, principal)


def list_jobs(
    rt: Runtime, principal: Principal, *, limit: int = 50, offset: int = 0
) -> tuple[int, list[JobPosting]]:
    """The caller's postings, newest first (every posting for the admin key), each with its
    review."""
    owner = None if principal.role == "admin" else principal.employer_id
    total, jobs = rt.store.list_jobs(owner, limit=limit, offset=offset)
    reviews = rt.store.reviews([job.id for job in jobs])
    return total, [job.model_copy(update={"review": reviews.get(job.id)}) for job in jobs]


def replace_job(rt: Runtime, job_id: str, data: JobPostingIn, principal: Principal) -> JobPosting:
    """Replace a posting; it is screened again (a rejected one cannot be edited back)."""
    current = owned_job(rt, job_id, principal)
    previous = rt.store.review(job_id)
    if previous is not None and previous.status == "rejected":
        raise ConflictError(f"job {job_id} was rejected by a review; it cannot be edited")
    if data.programme != current.programme:
        programmes.check_programme_tag(rt, data.programme, principal)
    job = build_job(
        rt, data, job_id=job_id, employer_id=current.employer_id, created_at=current.created_at
    )
    [job], reviews = screening.screened(rt, [job], principal)
    rt.write([job], lambda jobs: rt.store.replace_job(jobs[0], reviews.get(job_id)),
             hidden=screening.hidden_ids(reviews))  # fmt: skip
    return job


def delete_job(rt: Runtime, job_id: str, principal: Principal) -> None:
    owned_job(rt, job_id, principal)
    with rt.writes:
        rt.store.delete_job(job_id)
        rt.parts.catalog.drop_job(job_id)


def add_built(rt: Runtime, jobs: list[JobPosting]) -> None:
    """Store and index postings already built (the demo set, evaluation corpora)."""
    rt.write(jobs, rt.store.add_jobs)
