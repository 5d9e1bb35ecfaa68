"""Job filters (province, country, remote, salary, programme) and an employer's candidate
filters (language and level, country worked in, years abroad) as index filters, evaluated
over the index's metadata columns (:mod:`matcher.search.columns`)."""

from __future__ import annotations

from matcher.reference.languages import language_code, ordinal_level
from matcher.schemas import CandidateFilters, JobFilters
from matcher.search.columns import (
    Where,
    at_least,
    equals,
    everything,
    folded_equals,
    missing,
    one_of,
)


def job_filter(filters: JobFilters) -> Where:
    """What a posting's index metadata (see :func:`matcher.search.catalog.job_metadata`) must
    match. The salary is its maximum, or its minimum where no maximum is given."""
    where = everything()
    if filters.province:
        where &= folded_equals("province", filters.province)
    if filters.country:
        where &= equals("country", filters.country.upper())
    if filters.remote is not None:
        where &= one_of("remote", [True]) if filters.remote else ~one_of("remote", [True])
    if filters.min_salary is not None:
        floor = filters.min_salary
        where &= at_least("salary_max", floor) | (
            missing("salary_max") & at_least("salary_min", floor)
        )
    if filters.programme:
        where &= equals("programme", filters.programme)
    return where


def candidate_filter(filters: CandidateFilters) -> Where:
    """Consenting candidates whose index metadata (see
    :func:`matcher.search.catalog.candidate_metadata`) matches an employer's filters."""
    where = equals("consent", True)
    if filters.language:
        code = language_code(filters.language)
        where &= equals("languages", code)
        rank = ordinal_level(filters.min_level)
        if rank is not None:
            where &= at_least(f"level_{code}", rank)
    if filters.worked_in:
        where &= equals("worked_in", filters.worked_in.upper())
    if filters.min_years_abroad:
        where &= at_least("years_abroad", filters.min_years_abroad)
    return where


def nearby(home: str) -> Where:
    """Domestic postings in the province ``home`` (folded), or remote ones."""
    return (equals("remote", True) | folded_equals("province", home)) & equals("country", "VN")


def in_occupations(uris: object) -> Where:
    """Postings for one of the occupations ``uris``."""
    return one_of("occupation", uris)  # type: ignore[arg-type]
